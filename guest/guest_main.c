// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: loaded inside a KVM guest that owns a
 * passthrough NIC/HCA, it shows that device's queues (MSI/MSI-X vectors)
 * and where their interrupts go, and places them on vCPUs, under
 * /sys/kernel/pisteer/ (Documentation/ABI/testing/sysfs-kernel-pisteer).
 *
 *   version   release of the module
 *   attach    write a PCI address or a network interface name (RDMA
 *             device names are resolved by the CLI, `pisteer guest`)
 *   detach    write the same to drop a device
 *   devices/  one directory per attached device
 *
 * The "attach" module parameter attaches devices at load (comma-separated
 * names); the load fails when one of them cannot be attached.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "pisteer_guest.h"

/* Longest name accepted by attach and detach. */
#define PG_ARG_LEN	64

static struct kobject *pisteer_kobj;

static char *attach;
module_param(attach, charp, 0444);
MODULE_PARM_DESC(attach,
		 "devices to attach at load: PCI addresses or network interfaces, comma-separated");

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", PISTEER_RELEASE);
}

/* One name, without surrounding blanks; -EINVAL when empty or too long. */
static int take_name(const char *buf, size_t count, char *name)
{
	char *s;

	if (count >= PG_ARG_LEN)
		return -EINVAL;
	memcpy(name, buf, count);
	name[count] = '\0';
	s = strim(name);
	if (!*s || strpbrk(s, " \t\n"))
		return -EINVAL;
	memmove(name, s, strlen(s) + 1);
	return 0;
}

/* attach and detach: one name, handed to @op; the count or an error. */
static ssize_t name_store(const char *buf, size_t count, int (*op)(const char *))
{
	char name[PG_ARG_LEN];
	int ret;

	ret = take_name(buf, count, name);
	if (!ret)
		ret = op(name);
	return ret ? ret : count;
}

static ssize_t attach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	return name_store(buf, count, pg_attach);
}

static ssize_t detach_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	return name_store(buf, count, pg_detach);
}

static struct kobj_attribute version_attr = __ATTR_RO(version);
static struct kobj_attribute attach_attr = __ATTR_WO(attach);
static struct kobj_attribute detach_attr = __ATTR_WO(detach);

static struct attribute *pisteer_guest_attrs[] = {
	&version_attr.attr,
	&attach_attr.attr,
	&detach_attr.attr,
	NULL,
};

static const struct attribute_group pisteer_guest_group = {
	.attrs = pisteer_guest_attrs,
};

static int attach_param(void)
{
	char *list, *cur, *name;
	int ret = 0;

	if (!attach || !*attach)
		return 0;
	list = kstrdup(attach, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while (!ret && (name = strsep(&cur, ","))) {
		name = strim(name);
		if (!*name)
			continue;
		ret = pg_attach(name);
		if (ret)
			pr_err("attach=%s: error %d\n", name, ret);
	}
	kfree(list);
	return ret;
}

static int __init pisteer_guest_init(void)
{
	int ret;

	pisteer_kobj = kobject_create_and_add("pisteer", kernel_kobj);
	if (!pisteer_kobj)
		return -ENOMEM;
	ret = pg_devices_init(pisteer_kobj);
	if (ret)
		goto put;
	ret = attach_param();
	if (ret)
		goto devices;
	ret = sysfs_create_group(pisteer_kobj, &pisteer_guest_group);
	if (ret)
		goto devices;
	pr_info("release %s loaded\n", PISTEER_RELEASE);
	return 0;

devices:
	pg_devices_exit();
put:
	kobject_put(pisteer_kobj);
	return ret;
}

static void __exit pisteer_guest_exit(void)
{
	/* No new attach or detach from here on; then drop every device. */
	sysfs_remove_group(pisteer_kobj, &pisteer_guest_group);
	pg_devices_exit();
	kobject_put(pisteer_kobj);
}

module_init(pisteer_guest_init);
module_exit(pisteer_guest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pisteer guest companion: IRQ placement of passthrough device queues");
MODULE_VERSION(PISTEER_RELEASE);
