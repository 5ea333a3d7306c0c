// SPDX-License-Identifier: GPL-2.0
/*
 * Events: rescan when KVM or VFIO change what a scan would find.
 *
 * Return probes on the functions through which every such change passes;
 * their handlers note the process that made the change, or the VM file
 * released, for the VM set (pisteer_vmset.c), and arm a short delayed
 * work, which rescans from process context, so bursts (a VM wiring up all
 * its vectors) cost one scan.  A
 * kick never postpones a rescan already due sooner, so a stream of changes
 * cannot starve it.  The work is unbound: it runs on the CPUs of the
 * workqueue cpumask (/sys/devices/virtual/workqueue/cpumask, without the
 * nohz_full= CPUs), not on whichever CPU a vCPU thread triggered it from.
 *   kvm_irqfd            KVM_IRQFD assign/deassign
 *   kvm_set_irq_routing  KVM_SET_GSI_ROUTING (the guest reprogrammed an MSI)
 *   kvm_irqfd_release    the VM file closed: all its irqfds go
 *   vfio_pci_set_irqs_ioctl  MSI/MSI-X enable, disable, resize (if present)
 * Nothing is changed in the probed functions.  A probe whose module is
 * not loaded yet (vfio_pci_core after pisteer.ko) is registered when that
 * module comes up, through a module notifier, and dropped when it goes, so
 * a reload of vfio-pci or kvm is followed.  The kretprobes use the
 * kernel's default number of instances; hits missed for want of one are
 * counted (debugfs pisteer/probes, the version ioctl, a warning in
 * pisteer status): a missed hit means a change that shows only at the
 * next scan.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pisteer.h>
#include <linux/seq_file.h>
#include <linux/workqueue.h>

#include "pisteer.h"

#define RESCAN_DELAY_MS	20
/*
 * While a follow policy exists and the vCPU watch lacks a hook: how often
 * vCPU threads are looked at (with every hook, moves kick a rescan).
 */
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
	/* pisteer_scan() hands its records to steering and the model itself. */
	pisteer_scan();
	if (pisteer_steer_following() && !pisteer_vcpuwatch_complete())
		kick(msecs_to_jiffies(STEER_PERIOD_MS));
}

/*
 * A policy changed and was applied by the caller's own scan: if it is a
 * follow policy and the vCPU watch cannot see every thread move, start
 * the periodic rescans that watch the vCPU threads.
 */
void pisteer_events_follow(void)
{
	if (pisteer_steer_following() && !pisteer_vcpuwatch_complete())
		kick(msecs_to_jiffies(STEER_PERIOD_MS));
}

/* Rescan as soon as the work runs (the vCPU watch's irq_work). */
void pisteer_events_kick_now(void)
{
	kick(0);
}

/* Rescan at ktime_get_ns() @when_ns, unless one is due earlier. */
void pisteer_events_kick_at(u64 when_ns)
{
	u64 now = ktime_get_ns();

	kick(when_ns > now ? nsecs_to_jiffies(when_ns - now) + 1 : 0);
}

/* A VMM's ioctl changed a VM's irqfds or routes, or a device's vectors. */
static int on_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	pisteer_vmset_note_current();
	kick(msecs_to_jiffies(RESCAN_DELAY_MS));
	return 0;
}

/* kvm_irqfd_release(struct kvm *kvm): keep the VM for the return. */
static int release_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(void **)ri->data = (void *)regs_get_kernel_argument(regs, 0);
	return 0;
}

/* A VM file was released: its VM goes. */
static int on_release(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	pisteer_vmset_note_release(*(void **)ri->data);
	kick(msecs_to_jiffies(RESCAN_DELAY_MS));
	return 0;
}

/* Each probed function, as registered anew each time its module comes. */
static const struct kretprobe probe_tmpl[] = {
	{ .kp.symbol_name = "kvm_irqfd", .handler = on_return },
	{ .kp.symbol_name = "kvm_set_irq_routing", .handler = on_return },
	{ .kp.symbol_name = "kvm_irqfd_release", .entry_handler = release_entry,
	  .handler = on_release, .data_size = sizeof(void *) },
	{ .kp.symbol_name = "vfio_pci_set_irqs_ioctl", .handler = on_return },
};

static struct kretprobe probes[ARRAY_SIZE(probe_tmpl)];

/* The module each probed function lives in. */
static const char *const owners[ARRAY_SIZE(probes)] = {
	"kvm", "kvm", "kvm", "vfio_pci_core",
};

static DEFINE_MUTEX(probe_lock);	/* registered[], probes[] life cycle */
static bool registered[ARRAY_SIZE(probes)];
static int probe_err[ARRAY_SIZE(probes)];

/* The host feature: active only while every probe is registered. */
static void report_probes(void)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (!registered[i] && !err)
			err = probe_err[i] ? probe_err[i] : -ENOENT;
	pst_host_feature(PISTEER_HOST_EVENT_PROBES, err);
}

/* Caller holds probe_lock. */
static void probe_on(unsigned int i, bool quiet)
{
	int ret;

	if (registered[i])
		return;
	/* A kretprobe is registered anew from its template, no stale state. */
	probes[i] = probe_tmpl[i];
	ret = register_kretprobe(&probes[i]);
	probe_err[i] = ret;
	if (ret) {
		if (!quiet)
			pr_info("not watching %s (%d) until %s loads: changes through it show at the next scan\n",
				probes[i].kp.symbol_name, ret, owners[i]);
		return;
	}
	registered[i] = true;
}

/* Caller holds probe_lock. */
static void probe_off(unsigned int i)
{
	if (!registered[i])
		return;
	unregister_kretprobe(&probes[i]);
	registered[i] = false;
	probe_err[i] = -ENOENT;
}

/* Follow the modules the probed functions live in as they come and go. */
static int module_cb(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;
	unsigned int i;
	bool hit = false;

	if (state != MODULE_STATE_LIVE && state != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&probe_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (strcmp(mod->name, owners[i]))
			continue;
		hit = true;
		if (state == MODULE_STATE_LIVE)
			probe_on(i, false);
		else
			probe_off(i);
	}
	if (hit)
		report_probes();
	mutex_unlock(&probe_lock);
	/* Whatever that module held or now reaches: look again, everywhere. */
	if (hit && state == MODULE_STATE_LIVE) {
		pisteer_vmset_request_walk();
		kick(0);
	}
	return NOTIFY_OK;
}

static struct notifier_block module_nb = { .notifier_call = module_cb };

/**
 * pisteer_events_missed() - probe hits missed for want of an instance
 *
 * Return: the sum over the registered return probes.
 */
u64 pisteer_events_missed(void)
{
	u64 n;

	pisteer_events_complete(&n);
	return n;
}

/**
 * pisteer_events_complete() - does every change reach the VM set
 * @missed: set to pisteer_events_missed()
 *
 * Both under one hold of probe_lock, so that the answer and the count
 * are of the same registrations.
 *
 * Return: true when every event probe is registered (a missed hit shows
 * as a change of @missed).
 */
bool pisteer_events_complete(u64 *missed)
{
	unsigned int i;
	bool all = true;
	u64 n = 0;

	mutex_lock(&probe_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (registered[i])
			n += probes[i].nmissed + probes[i].kp.nmissed;
		else
			all = false;
	}
	mutex_unlock(&probe_lock);
	*missed = n;
	return all;
}

/* debugfs pisteer/probes: one line per return probe. */
void pisteer_events_show(struct seq_file *m)
{
	unsigned int i;

	mutex_lock(&probe_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		seq_printf(m, "%s %s %d missed %lu\n", probes[i].kp.symbol_name,
			   registered[i] ? "registered" : "absent", probe_err[i],
			   registered[i] ? (unsigned long)probes[i].nmissed +
					   probes[i].kp.nmissed : 0UL);
	mutex_unlock(&probe_lock);
}

/**
 * pisteer_events_init() - register the probes and scan once
 *
 * Return: 0, or the module notifier's error; a probe whose module is not
 * there yet is registered when it loads.
 */
int pisteer_events_init(void)
{
	unsigned int i;
	int ret;

	/* The notifier first: a module loading meanwhile is not missed. */
	ret = register_module_notifier(&module_nb);
	if (ret)
		return ret;
	mutex_lock(&probe_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		probe_on(i, false);
	report_probes();
	mutex_unlock(&probe_lock);
	pst_host_feature(PISTEER_HOST_VM_FILES, 0);
	kick(0);
	return 0;
}

void pisteer_events_exit(void)
{
	unsigned int i;

	unregister_module_notifier(&module_nb);
	mutex_lock(&probe_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		probe_off(i);
	mutex_unlock(&probe_lock);
	/* No handler runs any more; the work may re-arm itself: disable it. */
	cancel_delayed_work_sync(&rescan_work);
}
