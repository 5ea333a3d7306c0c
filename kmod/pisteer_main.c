// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer: steer interrupts of passthrough NICs/HCAs to the KVM vCPU they
 * are meant for, and report per vector how they are delivered.
 *
 * Module entry and exit: every part is set up here in order and torn down
 * in reverse, so that unloading leaves the system as it was before load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pisteer.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pisteer.h"
#include "pisteer_model.h"

/*
 * Module parameters: the default policy of vectors that have none of
 * their own, so that VMs started later are steered with no command run.
 * A write through /sys/module/pisteer/parameters/ is checked whole (a bad
 * value: -EINVAL, nothing changed) and kicks a reconcile; at load they are
 * only stored, and the first scan applies them.
 */

/* Whether a reconcile may be kicked: set and cleared under kernel_param_lock. */
static bool params_live;

static void default_changed(void)
{
	if (params_live)
		pisteer_events_kick_now();
}

static const char * const default_names[] = {
	"none", "auto", "follow", "housekeeping",
};

static const u32 default_values[] = {
	PISTEER_POLICY_NONE, PISTEER_POLICY_AUTO, PISTEER_POLICY_FOLLOW,
	PISTEER_POLICY_HOUSEKEEPING,
};

static int default_policy_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(default_names, val);
	int ret;

	if (i < 0)
		return -EINVAL;
	ret = pisteer_steer_set_default(default_values[i]);
	if (!ret)
		default_changed();
	return ret;
}

static int default_policy_get(char *buf, const struct kernel_param *kp)
{
	u32 policy = pisteer_steer_default();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(default_values); i++)
		if (default_values[i] == policy)
			return scnprintf(buf, PAGE_SIZE, "%s\n", default_names[i]);
	return scnprintf(buf, PAGE_SIZE, "%u\n", policy);
}

static const struct kernel_param_ops default_policy_ops = {
	.set = default_policy_set,
	.get = default_policy_get,
};

module_param_cb(default_policy, &default_policy_ops, NULL, 0644);
MODULE_PARM_DESC(default_policy,
		 "Policy of vectors no pisteer steer names: none (default: nothing steered), auto, follow, housekeeping");

static int housekeeping_cpus_set(const char *val, const struct kernel_param *kp)
{
	cpumask_var_t cpus;
	char *s, *list;
	int ret = 0;

	s = kstrndup(val, PAGE_SIZE, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (!pst_zalloc_cpumask_var(&cpus, GFP_KERNEL)) {
		kfree(s);
		return -ENOMEM;
	}
	list = strim(s);
	if (*list && cpulist_parse(list, cpus))
		ret = -EINVAL;
	if (!ret)
		ret = pisteer_steer_set_default_cpus(cpus);
	if (!ret)
		default_changed();
	pst_free_cpumask_var(cpus);
	kfree(s);
	return ret;
}

static int housekeeping_cpus_get(char *buf, const struct kernel_param *kp)
{
	cpumask_var_t cpus;
	int n;

	if (!pst_zalloc_cpumask_var(&cpus, GFP_KERNEL))
		return -ENOMEM;
	pisteer_steer_default_cpus(cpus);
	n = scnprintf(buf, PAGE_SIZE, "%*pbl\n", cpumask_pr_args(cpus));
	pst_free_cpumask_var(cpus);
	return n;
}

static const struct kernel_param_ops housekeeping_cpus_ops = {
	.set = housekeeping_cpus_set,
	.get = housekeeping_cpus_get,
};

module_param_cb(housekeeping_cpus, &housekeeping_cpus_ops, NULL, 0644);
MODULE_PARM_DESC(housekeeping_cpus,
		 "CPU list for the default policy's housekeeping (e.g. 0-1,8); empty: the kernel's housekeeping CPUs");

static void params_go_live(bool live)
{
	kernel_param_lock(THIS_MODULE);
	params_live = live;
	kernel_param_unlock(THIS_MODULE);
}

static int __init pisteer_init(void)
{
	int ret;

	pisteer_debugfs_init();
	ret = pisteer_chrdev_init();
	if (ret) {
		pisteer_debugfs_exit();
		return ret;
	}
	pisteer_irte_init();
	ret = pisteer_events_init();
	if (ret) {
		pisteer_irte_exit();
		pisteer_chrdev_exit();
		pisteer_debugfs_exit();
		return ret;
	}
	pisteer_affwatch_init();
	pisteer_vcpuwatch_init();
	params_go_live(true);
	pr_info("release %s, ABI %u.%u loaded\n", PISTEER_RELEASE,
		PISTEER_ABI_MAJOR, PISTEER_ABI_MINOR);
	return 0;
}

static void __exit pisteer_exit(void)
{
	/* No parameter write kicks a rescan from now on. */
	params_go_live(false);
	pisteer_chrdev_exit();
	/* First: no probe may run into what the rest tears down. */
	pisteer_lat_exit();
	pisteer_vcpuwatch_exit();
	pisteer_affwatch_exit();
	pisteer_events_exit();
	/*
	 * Without policies a last scan restores every steered IRQ that VFIO
	 * still owns (and forgets those it freed); anything left after a
	 * failed scan is restored blindly.
	 */
	pisteer_steer_clear_policies();
	pisteer_scan();
	pisteer_scan_forget();
	pisteer_steer_exit();
	pisteer_irte_exit();
	pisteer_debugfs_exit();
	pst_model_exit();
	pr_info("unloaded\n");
}

module_init(pisteer_init);
module_exit(pisteer_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Steering of passthrough-device interrupts to KVM vCPUs");
MODULE_VERSION(PISTEER_RELEASE);
MODULE_SOFTDEP("pre: kvm");
