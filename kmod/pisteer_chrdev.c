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
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pisteer.h"
#include "pisteer_model.h"

static long pisteer_ioc_version(void __user *uarg)
{
	struct pisteer_version ver;
	u32 usize;
	int ret;

	BUILD_BUG_ON(sizeof(ver) != PISTEER_VERSION_SIZE_VER1);
	ret = pisteer_copy_struct_in(&ver, sizeof(ver), PISTEER_VERSION_SIZE_VER0,
				     uarg, &usize);
	if (ret)
		return ret;
	if (ver.flags)
		return -EINVAL;

	memset(&ver, 0, sizeof(ver));
	ver.abi_major = PISTEER_ABI_MAJOR;
	ver.abi_minor = PISTEER_ABI_MINOR;
	ver.features = PISTEER_FEAT_LIST_VECTORS | PISTEER_FEAT_STEER |
		       PISTEER_FEAT_STEER_AUTO | PISTEER_FEAT_LATENCY;
	strscpy(ver.release, PISTEER_RELEASE, sizeof(ver.release));
	pst_host_fill(&ver);
	return pisteer_copy_struct_out(uarg, &ver, sizeof(ver), usize);
}

/* Copy @nr entries of @ksize bytes to @uptr, as entries of @esize bytes. */
static int copy_entries_out(u64 uptr, u32 esize, const void *entries,
			    size_t ksize, unsigned int nr)
{
	u8 __user *dst = u64_to_user_ptr(uptr);
	size_t n = min_t(size_t, esize, ksize);
	unsigned int i;

	for (i = 0; i < nr; i++, dst += esize) {
		if (copy_to_user(dst, (const u8 *)entries + i * ksize, n))
			return -EFAULT;
		if (esize > n && clear_user(dst + n, esize - n))
			return -EFAULT;
	}
	return 0;
}

static long pisteer_ioc_list_vectors(void __user *uarg)
{
	struct pisteer_list_vectors req;
	struct pisteer_vector *vecs;
	struct pst_match want;
	unsigned int kept;
	u32 usize;
	int ret;

	BUILD_BUG_ON(sizeof(struct pisteer_vector) != PISTEER_VECTOR_SIZE_VER5);
	BUILD_BUG_ON(sizeof(req) != PISTEER_LIST_VECTORS_SIZE_VER0);

	ret = pisteer_copy_struct_in(&req, sizeof(req),
				     PISTEER_LIST_VECTORS_SIZE_VER0, uarg, &usize);
	if (ret)
		return ret;
	if ((req.flags & ~PISTEER_LIST_F_ALL) || req.reserved || req.reserved2 ||
	    req.entry_size < PISTEER_VECTOR_SIZE_VER0 || req.entry_size > PAGE_SIZE)
		return -EINVAL;
	if (req.count && !req.entries)
		return -EFAULT;

	want.pid = req.pid;
	want.pci_seg = req.pci_seg;
	want.pci_bus = req.pci_bus;
	want.pci_devfn = req.pci_devfn;
	ret = pisteer_observe();
	if (!ret)
		ret = pst_model_export(req.flags, &want, &vecs, &kept);
	if (ret)
		return ret;

	if (kept > req.count)
		ret = -ENOSPC;
	else
		ret = copy_entries_out(req.entries, req.entry_size, vecs,
				       sizeof(*vecs), kept);
	pst_kvfree(vecs);
	if (ret && ret != -ENOSPC)
		return ret;

	req.count = kept;
	req.entry_size = sizeof(struct pisteer_vector);
	if (pisteer_copy_struct_out(uarg, &req, sizeof(req), usize))
		return -EFAULT;
	return ret;
}

static long pisteer_ioc_set_policy(void __user *uarg)
{
	struct pisteer_policy req;
	u32 usize;
	int ret;

	BUILD_BUG_ON(sizeof(req) != PISTEER_POLICY_SIZE_VER1);
	ret = pisteer_copy_struct_in(&req, sizeof(req), PISTEER_POLICY_SIZE_VER0,
				     uarg, &usize);
	if (ret)
		return ret;
	ret = pisteer_steer_set_policy(&req);
	if (ret)
		return ret;
	/* Apply it before returning; keep following from the event work. */
	pisteer_scan();
	pisteer_events_follow();
	return 0;
}

static long pisteer_ioc_lat_ctl(void __user *uarg)
{
	struct pisteer_lat_ctl req;
	u32 usize;
	int ret;

	BUILD_BUG_ON(sizeof(req) != PISTEER_LAT_CTL_SIZE_VER0);
	ret = pisteer_copy_struct_in(&req, sizeof(req), PISTEER_LAT_CTL_SIZE_VER0,
				     uarg, &usize);
	if (ret)
		return ret;
	ret = pisteer_lat_ctl(&req);
	if (ret)
		return ret;
	/* Sample the vectors there are now (or drop a disabled VM's). */
	if (req.op != PISTEER_LAT_RESET)
		pisteer_scan();
	return 0;
}

static long pisteer_ioc_lat_read(void __user *uarg)
{
	struct pisteer_lat_vector *ents;
	struct pisteer_lat_read req;
	u32 usize, room;
	int ret;

	BUILD_BUG_ON(sizeof(req) != PISTEER_LAT_READ_SIZE_VER0);
	BUILD_BUG_ON(sizeof(*ents) != PISTEER_LAT_VECTOR_SIZE_VER0);
	ret = pisteer_copy_struct_in(&req, sizeof(req), PISTEER_LAT_READ_SIZE_VER0,
				     uarg, &usize);
	if (ret)
		return ret;
	if ((req.flags & ~PISTEER_LIST_F_ALL) || req.reserved || req.reserved2 ||
	    req.state || req.nr_vms || req.dropped ||
	    req.entry_size < PISTEER_LAT_VECTOR_SIZE_VER0 ||
	    req.entry_size > PAGE_SIZE)
		return -EINVAL;
	if (req.count && !req.entries)
		return -EFAULT;

	room = req.count;
	ret = pisteer_lat_read(&req, &ents);
	if (ret)
		return ret;
	if (req.count > room)
		ret = -ENOSPC;
	else
		ret = copy_entries_out(req.entries, req.entry_size, ents,
				       sizeof(*ents), req.count);
	pst_kvfree(ents);
	if (ret && ret != -ENOSPC)
		return ret;
	req.entry_size = sizeof(*ents);
	if (pisteer_copy_struct_out(uarg, &req, sizeof(req), usize))
		return -EFAULT;
	return ret;
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
	case PISTEER_IOC_LIST_VECTORS:
		return pisteer_ioc_list_vectors(uarg);
	case PISTEER_IOC_SET_POLICY:
		return pisteer_ioc_set_policy(uarg);
	case PISTEER_IOC_LAT_CTL:
		return pisteer_ioc_lat_ctl(uarg);
	case PISTEER_IOC_LAT_READ:
		return pisteer_ioc_lat_read(uarg);
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
