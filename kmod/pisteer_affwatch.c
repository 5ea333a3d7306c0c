// SPDX-License-Identifier: GPL-2.0
/*
 * The affinity watch: notice when someone else (an admin writing
 * /proc/irq/N/smp_affinity, irqbalance, the kernel moving IRQs off a CPU
 * going offline) changes the affinity of an IRQ pisteer steers.
 *
 * A kprobe on irq_do_set_affinity(), through which every affinity change
 * of an IRQ passes, runs under the descriptor's lock with interrupts off:
 * its handler only tests a bit of a small table of the steered IRQs (by
 * number, hashed: a collision costs one rescan more, never a missed
 * change) and kicks a rescan.  The rescan compares each steered IRQ's
 * affinity with what pisteer set, counts an override and applies the
 * policy again (pisteer_steer.c).  Changes pisteer makes itself are
 * marked as its own and ignored.  Without the probe, such changes show at
 * the next rescan only.
 *
 * CPU hotplug: a CPU that comes online kicks a rescan too (a steered IRQ
 * the kernel moved off it when it went offline goes back; follow looks
 * again at the vCPU threads), and so does one that is dead: the rescans
 * that the kernel's IRQ and task moves kicked during the offlining may
 * have looked before it was done.  The reconcile decides under
 * cpus_read_lock().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpuhotplug.h>
#include <linux/irq.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>

#include "pisteer.h"

#define WATCH_BITS	4096
/* Long enough for the change to be done when the rescan looks. */
#define WATCH_DELAY_NS	(2 * NSEC_PER_MSEC)

static unsigned long watched[BITS_TO_LONGS(WATCH_BITS)];
static unsigned long next[BITS_TO_LONGS(WATCH_BITS)];	/* under steer_lock */
static unsigned int own_irq = PST_NO_IRQ;
static atomic64_t nr_seen, nr_own;
static bool registered;
static int hp_state;	/* the dynamic hotplug states, or errors */
static int hp_dead_state;

static int on_set_affinity(struct kprobe *kp, struct pt_regs *regs)
{
	struct irq_data *data = (struct irq_data *)regs_get_kernel_argument(regs, 0);
	unsigned int irq = data->irq;

	if (!test_bit(irq % WATCH_BITS, watched))
		return 0;
	if (irq == READ_ONCE(own_irq)) {
		atomic64_inc(&nr_own);
		return 0;
	}
	atomic64_inc(&nr_seen);
	pisteer_events_kick_at(ktime_get_ns() + WATCH_DELAY_NS);
	return 0;
}

static struct kprobe probe = {
	.symbol_name = "irq_do_set_affinity",
	.pre_handler = on_set_affinity,
};

/**
 * pisteer_affwatch_own() - the affinity change about to be made is pisteer's
 * @irq: the IRQ being moved, or %PST_NO_IRQ when done
 *
 * Context: under the steering lock (one move at a time).
 */
void pisteer_affwatch_own(unsigned int irq)
{
	WRITE_ONCE(own_irq, irq);
}

/* pisteer_affwatch_begin(), _add() for each steered IRQ, _commit(): the new set. */
void pisteer_affwatch_begin(void)
{
	bitmap_zero(next, WATCH_BITS);
}

void pisteer_affwatch_add(unsigned int irq)
{
	__set_bit(irq % WATCH_BITS, next);
}

void pisteer_affwatch_commit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(watched); i++)
		WRITE_ONCE(watched[i], next[i]);
}

/* debugfs pisteer/probes: the watch's line. */
void pisteer_affwatch_show(struct seq_file *m)
{
	seq_printf(m, "%s %s changes %lld own %lld missed %lu\n", probe.symbol_name,
		   registered ? "registered" : "absent",
		   (long long)atomic64_read(&nr_seen),
		   (long long)atomic64_read(&nr_own),
		   registered ? probe.nmissed : 0UL);
}

static int cpu_online_cb(unsigned int cpu)
{
	pisteer_events_kick_now();
	return 0;
}

static int cpu_dead_cb(unsigned int cpu)
{
	pisteer_events_kick_now();
	return 0;
}

/* Without the probe pisteer works on; it says what that costs. */
void pisteer_affwatch_init(void)
{
	int ret;

	hp_state = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "pisteer:online",
					     cpu_online_cb, NULL);
	if (hp_state < 0)
		pr_info("not watching CPUs coming online (%d): steering there waits for the next rescan\n",
			hp_state);
	hp_dead_state = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "pisteer:dead",
						  NULL, cpu_dead_cb);
	if (hp_dead_state < 0)
		pr_info("not watching CPUs going offline (%d): steering waits for the next rescan\n",
			hp_dead_state);
	ret = register_kprobe(&probe);

	if (ret) {
		pr_info("not watching IRQ affinity changes (%d): changes by others show at the next rescan\n",
			ret);
		return;
	}
	registered = true;
}

void pisteer_affwatch_exit(void)
{
	if (hp_state > 0)
		cpuhp_remove_state_nocalls(hp_state);
	if (hp_dead_state > 0)
		cpuhp_remove_state_nocalls(hp_dead_state);
	hp_state = 0;
	hp_dead_state = 0;
	if (registered)
		unregister_kprobe(&probe);
	registered = false;
}
