// SPDX-License-Identifier: GPL-2.0
/*
 * Copying pisteer's extensible ioctl structs (see uapi/linux/pisteer.h)
 * between user and kernel.  Each struct leads with a __u32 size.
 */
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pisteer.h>
#include <linux/uaccess.h>

#include "pisteer.h"

/**
 * pisteer_copy_struct_in() - read an extensible struct from user space
 * @dst: kernel copy, @ksize bytes; zero-filled past what the caller passed
 * @ksize: size of the module's struct
 * @min_size: first published size of the struct (its _SIZE_VER0)
 * @src: user pointer to the struct
 * @usize: out: the caller's size
 *
 * Return: 0, -EFAULT, -EINVAL (size too small) or -E2BIG (size above a
 * page, or unknown trailing bytes not zero).
 */
int pisteer_copy_struct_in(void *dst, size_t ksize, size_t min_size,
			   const void __user *src, u32 *usize)
{
	u32 size;
	int ret;

	if (get_user(size, (const u32 __user *)src))
		return -EFAULT;
	if (size < min_size)
		return -EINVAL;
	if (size > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(dst, ksize, src, size);
	if (ret)
		return ret;
	*usize = size;
	return 0;
}

/**
 * pisteer_copy_struct_out() - write an extensible struct back to user space
 * @dst: user pointer to the struct
 * @src: kernel copy, @ksize bytes; its leading size field is set here
 * @ksize: size of the module's struct
 * @usize: the caller's size, as returned by pisteer_copy_struct_in()
 *
 * Writes the smaller of the two sizes and stores that number in the
 * struct's leading size field.
 *
 * Return: 0 or -EFAULT.
 */
int pisteer_copy_struct_out(void __user *dst, void *src, size_t ksize,
			    u32 usize)
{
	u32 n = min_t(u32, usize, ksize);

	*(u32 *)src = n;
	if (copy_to_user(dst, src, n))
		return -EFAULT;
	return 0;
}

/**
 * pisteer_filter_match() - does an entry pass a list or latency-read filter
 * @flags: the request's PISTEER_LIST_F_* flags
 * @want: the request's pid and device
 * @have: the entry's VM pid and device
 *
 * Return: true when every filter @flags names holds.
 */
bool pisteer_filter_match(u32 flags, const struct pst_match *want,
			  const struct pst_match *have)
{
	if ((flags & PISTEER_LIST_F_PID) && have->pid != want->pid)
		return false;
	if ((flags & PISTEER_LIST_F_PCI) &&
	    (have->pci_seg != want->pci_seg || have->pci_bus != want->pci_bus ||
	     have->pci_devfn != want->pci_devfn))
		return false;
	return true;
}
