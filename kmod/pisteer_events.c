// SPDX-License-Identifier: GPL-2.0
/*
 * Events: rescan when KVM or VFIO change what a scan would find.
 *
 * Return probes on the functions through which every such change passes;
 * their handlers only arm a short delayed work, which rescans from process
 * context, so bursts (a VM wiring up all its vectors) cost one scan.  A
 * kick never postpones a rescan already due sooner, so a stream of changes
 * cannot starve it.  The work is unbound: it runs on the CPUs of the
 * workqueue cpumask (/sys/devices/virtual/workqueue/cpumask, without the
 * nohz_full= CPUs), not on whichever CPU a vCPU thread triggered it from.
 *   kvm_irqfd            KVM_IRQFD assign/deassign
 *   kvm_set_irq_routing  KVM_SET_GSI_ROUTING (the guest reprogrammed an MSI)
 *   kvm_irqfd_release    the VM file closed: all its irqfds go
 *   vfio_pci_set_irqs_ioctl  MSI/MSI-X enable, disable, resize (if present)
 * Nothing is changed in the probed functions.  A probe that cannot be
 * registered (vfio_pci_core not loaded yet) is reported; the rescans on
 * the KVM side still see its vectors when a VMM connects them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pisteer.h>
#include <linux/workqueue.h>

#include "pisteer.h"

#define RESCAN_DELAY_MS	20
/* While a follow policy exists: how often vCPU threads are looked at. */
#define STEER_PERIOD_MS	50

static void rescan_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(rescan_work, rescan_fn);
static DEFINE_RAW_SPINLOCK(kick_lock);

/* Rescan in @delay jiffies, unless one is due earlier. */
static void kick(unsigned long delay)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&kick_lock, flags);
	if (!delayed_work_pending(&rescan_work) ||
	    time_before(jiffies + delay, rescan_work.timer.expires))
		mod_delayed_work(system_unbound_wq, &rescan_work, delay);
	raw_spin_unlock_irqrestore(&kick_lock, flags);
}

static void rescan_fn(struct work_struct *work)
{
	struct pisteer_vector *vecs;
	unsigned int nr;

	/* pisteer_scan() hands its result to steering and records itself. */
	if (!pisteer_rescan(&vecs, &nr))
		pst_kvfree(vecs);
	if (pisteer_steer_following())
		kick(msecs_to_jiffies(STEER_PERIOD_MS));
	else
		pisteer_scan_forget();
}

/*
 * A policy changed and was applied by the caller's own scan: if it is a
 * follow policy, start the periodic rescans that watch the vCPU threads.
 */
void pisteer_events_follow(void)
{
	if (pisteer_steer_following())
		kick(msecs_to_jiffies(STEER_PERIOD_MS));
}

/* Rescan at ktime_get_ns() @when_ns, unless one is due earlier. */
void pisteer_events_kick_at(u64 when_ns)
{
	u64 now = ktime_get_ns();

	kick(when_ns > now ? nsecs_to_jiffies(when_ns - now) + 1 : 0);
}

static int on_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	pisteer_vmcache_invalidate();
	kick(msecs_to_jiffies(RESCAN_DELAY_MS));
	return 0;
}

static struct kretprobe probes[] = {
	{ .kp.symbol_name = "kvm_irqfd", .handler = on_return },
	{ .kp.symbol_name = "kvm_set_irq_routing", .handler = on_return },
	{ .kp.symbol_name = "kvm_irqfd_release", .handler = on_return },
	{ .kp.symbol_name = "vfio_pci_set_irqs_ioctl", .handler = on_return },
};

static bool registered[ARRAY_SIZE(probes)];

/**
 * pisteer_events_init() - register the probes and scan once
 *
 * Return: 0; a probe that fails to register is logged and left out.
 */
int pisteer_events_init(void)
{
	unsigned int i;
	int ret, first_err = 0;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		probes[i].maxactive = 32;
		ret = register_kretprobe(&probes[i]);
		if (ret) {
			pr_info("not watching %s (%d): changes through it show at the next scan\n",
				probes[i].kp.symbol_name, ret);
			first_err = first_err ?: ret;
			continue;
		}
		registered[i] = true;
	}
	pst_host_feature(PISTEER_HOST_EVENT_PROBES, first_err);
	pst_host_feature(PISTEER_HOST_VM_FILES, 0);
	kick(0);
	return 0;
}

void pisteer_events_exit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (registered[i])
			unregister_kretprobe(&probes[i]);
		registered[i] = false;
	}
	/* No handler runs any more; the work may re-arm itself: disable it. */
	cancel_delayed_work_sync(&rescan_work);
}
