/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pisteer: steering of passthrough-device interrupts to KVM vCPUs.
 *
 * User-space interface of the host module, through the misc device
 * /dev/pisteer (mode 0600).  Every ioctl requires CAP_SYS_ADMIN.
 *
 * Extensible structs: every argument struct starts with a __u32 @size that
 * the caller sets to sizeof() of the struct it was built with.  The module
 * accepts any @size from the struct's first published size (its _SIZE_VER0)
 * up to 4096 bytes: bytes it does not know must be zero (else -E2BIG), bytes
 * the caller did not pass count as zero.  On return @size holds how many
 * bytes the module wrote back (the smaller of the two struct sizes), so a
 * new tool can tell an old module's answer apart.  Ioctl numbers carry no
 * size for the same reason (as VFIO's do not).
 */
#ifndef _UAPI_LINUX_PISTEER_H
#define _UAPI_LINUX_PISTEER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PISTEER_DEVICE_NAME	"pisteer"

/* Incompatible changes bump the major, additions the minor. */
#define PISTEER_ABI_MAJOR	0
#define PISTEER_ABI_MINOR	1

#define PISTEER_IOC_MAGIC	0xB9

/**
 * struct pisteer_version - argument of %PISTEER_IOC_VERSION
 * @size: in: sizeof(struct pisteer_version) as the caller knows it;
 *	out: the number of bytes the module filled in
 * @abi_major: %PISTEER_ABI_MAJOR of the module
 * @abi_minor: %PISTEER_ABI_MINOR of the module
 * @flags: must be zero
 * @features: PISTEER_FEAT_* bits: what this module can do (none defined
 *	in ABI 0.1, which only answers this ioctl)
 * @release: the module's release string, NUL-terminated
 */
struct pisteer_version {
	__u32 size;
	__u32 abi_major;
	__u32 abi_minor;
	__u32 flags;
	__aligned_u64 features;
	char release[32];
};

#define PISTEER_VERSION_SIZE_VER0	56

/**
 * define PISTEER_IOC_VERSION - the module's ABI version and features
 *
 * Argument: struct pisteer_version.  Errors: -EPERM without CAP_SYS_ADMIN,
 * -EFAULT for a bad pointer, -EINVAL for a @size below
 * %PISTEER_VERSION_SIZE_VER0 or non-zero @flags, -E2BIG for a @size above
 * 4096 or unknown trailing bytes that are not zero.
 */
#define PISTEER_IOC_VERSION	_IO(PISTEER_IOC_MAGIC, 0x00)

#endif /* _UAPI_LINUX_PISTEER_H */
