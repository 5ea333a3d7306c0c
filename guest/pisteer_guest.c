// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: loaded inside a KVM guest that owns a
 * passthrough NIC/HCA, it will expose that device's queues and their IRQ
 * placement under /sys/kernel/pisteer/.  This first version publishes the
 * directory and its release, so tools can tell that the module is there.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

static struct kobject *pisteer_kobj;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", PISTEER_RELEASE);
}

static struct kobj_attribute version_attr = __ATTR_RO(version);

static struct attribute *pisteer_guest_attrs[] = {
	&version_attr.attr,
	NULL,
};

static const struct attribute_group pisteer_guest_group = {
	.attrs = pisteer_guest_attrs,
};

static int __init pisteer_guest_init(void)
{
	int ret;

	pisteer_kobj = kobject_create_and_add("pisteer", kernel_kobj);
	if (!pisteer_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(pisteer_kobj, &pisteer_guest_group);
	if (ret) {
		kobject_put(pisteer_kobj);
		return ret;
	}
	pr_info("release %s loaded\n", PISTEER_RELEASE);
	return 0;
}

static void __exit pisteer_guest_exit(void)
{
	sysfs_remove_group(pisteer_kobj, &pisteer_guest_group);
	kobject_put(pisteer_kobj);
}

module_init(pisteer_guest_init);
module_exit(pisteer_guest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pisteer guest companion: IRQ placement of passthrough device queues");
MODULE_VERSION(PISTEER_RELEASE);
