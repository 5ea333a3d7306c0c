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
#include <linux/pisteer.h>

#include "pisteer.h"

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
	pr_info("release %s, ABI %u.%u loaded\n", PISTEER_RELEASE,
		PISTEER_ABI_MAJOR, PISTEER_ABI_MINOR);
	return 0;
}

static void __exit pisteer_exit(void)
{
	struct pisteer_vector *vecs;
	unsigned int nr;

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
	if (!pisteer_scan(&vecs, &nr))
		pst_kvfree(vecs);
	pisteer_scan_forget();
	pisteer_steer_exit();
	pisteer_irte_exit();
	pisteer_debugfs_exit();
	pisteer_records_exit();
	pr_info("unloaded\n");
}

module_init(pisteer_init);
module_exit(pisteer_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Steering of passthrough-device interrupts to KVM vCPUs");
MODULE_VERSION(PISTEER_RELEASE);
MODULE_SOFTDEP("pre: kvm");
