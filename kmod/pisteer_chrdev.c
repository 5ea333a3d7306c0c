// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pisteer: the misc device and its ioctls.  Every ioctl validates its
 * whole argument before it changes anything, and requires CAP_SYS_ADMIN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pisteer.h>
#include <linux/string.h>

#include "pisteer.h"

static long pisteer_ioc_version(void __user *uarg)
{
	struct pisteer_version ver;
	u32 usize;
	int ret;

	ret = pisteer_copy_struct_in(&ver, sizeof(ver), PISTEER_VERSION_SIZE_VER0,
				     uarg, &usize);
	if (ret)
		return ret;
	if (ver.flags)
		return -EINVAL;

	memset(&ver, 0, sizeof(ver));
	ver.abi_major = PISTEER_ABI_MAJOR;
	ver.abi_minor = PISTEER_ABI_MINOR;
	ver.features = 0;
	strscpy(ver.release, PISTEER_RELEASE, sizeof(ver.release));
	return pisteer_copy_struct_out(uarg, &ver, sizeof(ver), usize);
}

static long pisteer_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case PISTEER_IOC_VERSION:
		return pisteer_ioc_version(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations pisteer_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = pisteer_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pisteer_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = PISTEER_DEVICE_NAME,
	.fops = &pisteer_fops,
	.mode = 0600,
};

int pisteer_chrdev_init(void)
{
	int ret = misc_register(&pisteer_misc);

	if (ret)
		pr_err("cannot register /dev/%s: %d\n", PISTEER_DEVICE_NAME, ret);
	return ret;
}

void pisteer_chrdev_exit(void)
{
	misc_deregister(&pisteer_misc);
}
