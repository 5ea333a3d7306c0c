// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU watch: follow steering reacts when a followed vCPU thread
 * lands on another CPU or is re-pinned, instead of rescanning on a timer
 * (as Xen moves a pIRQ on vCPU migration, hvm_migrate_pirq()).
 *
 *   sched:sched_migrate_task  the scheduler moves a task to another CPU
 *                             (found with for_each_kernel_tracepoint())
 *   sched_setaffinity         a thread re-pinned (taskset, libvirt vcpupin)
 *   set_cpus_allowed_ptr      the same from the kernel (cpuset cgroups)
 *
 * The handlers run in scheduler context (rq locks held for the
 * tracepoint): they only test a bit of a small table of the followed
 * vCPU threads (by thread id, hashed: a collision costs one rescan more)
 * and queue this CPU's irq_work, which kicks the rescan.  Per CPU, and
 * never on a CPU that is going offline (the scheduler moves its tasks off
 * from there; the hotplug callbacks kick a rescan once it is dead): a work
 * left pending on a dead CPU would swallow every later hit.  While nothing moves,
 * nothing is scanned.  Without a hook, pisteer falls back to rescanning
 * every STEER_PERIOD_MS while a follow policy exists (events.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "pisteer.h"

#define WATCH_BITS	65536

static unsigned long watched[BITS_TO_LONGS(WATCH_BITS)];
static unsigned long next[BITS_TO_LONGS(WATCH_BITS)];	/* under steer_lock */
static atomic64_t nr_hits;
static struct tracepoint *migrate_tp;
static bool tp_on;

static void kick_fn(struct irq_work *work)
{
	pisteer_events_kick_now();
}

static DEFINE_PER_CPU(struct irq_work, kick_work);

/* Context: the scheduler's or a probe's, preemption off. */
static void hit(pid_t tid)
{
	if (tid <= 0 || !test_bit(tid % WATCH_BITS, watched))
		return;
	if (!cpu_active(smp_processor_id()))
		return;
	atomic64_inc(&nr_hits);
	irq_work_queue(this_cpu_ptr(&kick_work));
}

static void on_migrate(void *data, struct task_struct *p, int dest_cpu)
{
	hit(p->pid);
}

/* Both return probes: the thread's id at entry, the kick at return. */
struct entry {
	pid_t tid;
};

static int setaff_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	pid_t pid = (pid_t)regs_get_kernel_argument(regs, 0);

	((struct entry *)ri->data)->tid = pid ? pid : current->pid;
	return 0;
}

static int allowed_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = (struct task_struct *)regs_get_kernel_argument(regs, 0);

	((struct entry *)ri->data)->tid = p->pid;
	return 0;
}

static int on_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	hit(((struct entry *)ri->data)->tid);
	return 0;
}

static struct kretprobe probes[] = {
	{ .kp.symbol_name = "sched_setaffinity", .entry_handler = setaff_entry,
	  .handler = on_return, .data_size = sizeof(struct entry) },
	{ .kp.symbol_name = "set_cpus_allowed_ptr", .entry_handler = allowed_entry,
	  .handler = on_return, .data_size = sizeof(struct entry) },
};

static bool registered[ARRAY_SIZE(probes)];

static void find_migrate(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_migrate_task"))
		migrate_tp = tp;
}

/**
 * pisteer_vcpuwatch_complete() - whether every hook is in place
 *
 * Return: true when thread moves and re-pins all kick a rescan, so that
 * follow needs no periodic rescan.
 */
bool pisteer_vcpuwatch_complete(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (!registered[i])
			return false;
	return tp_on;
}

/* _begin(), _add() for each followed vCPU thread, _commit(): the new set. */
void pisteer_vcpuwatch_begin(void)
{
	bitmap_zero(next, WATCH_BITS);
}

void pisteer_vcpuwatch_add(pid_t tid)
{
	if (tid > 0)
		__set_bit(tid % WATCH_BITS, next);
}

void pisteer_vcpuwatch_commit(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(watched); i++)
		WRITE_ONCE(watched[i], next[i]);
}

/* debugfs pisteer/probes: the watch's lines. */
void pisteer_vcpuwatch_show(struct seq_file *m)
{
	unsigned int i;

	seq_printf(m, "sched_migrate_task %s hits %lld\n",
		   tp_on ? "registered" : "absent",
		   (long long)atomic64_read(&nr_hits));
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		seq_printf(m, "%s %s missed %lu\n", probes[i].kp.symbol_name,
			   registered[i] ? "registered" : "absent",
			   registered[i] ? (unsigned long)probes[i].nmissed +
					   probes[i].kp.nmissed : 0UL);
}

void pisteer_vcpuwatch_init(void)
{
	unsigned int i;
	int ret;

	for_each_possible_cpu(i)
		init_irq_work(per_cpu_ptr(&kick_work, i), kick_fn);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		ret = register_kretprobe(&probes[i]);
		if (ret)
			pr_info("not watching %s (%d): follow rescans periodically\n",
				probes[i].kp.symbol_name, ret);
		registered[i] = !ret;
	}
	for_each_kernel_tracepoint(find_migrate, NULL);
	ret = migrate_tp ? tracepoint_probe_register(migrate_tp, (void *)on_migrate, NULL) :
			   -ENOENT;
	if (ret)
		pr_info("not watching sched_migrate_task (%d): follow rescans periodically\n",
			ret);
	tp_on = !ret;
}

void pisteer_vcpuwatch_exit(void)
{
	unsigned int i;

	if (tp_on)
		tracepoint_probe_unregister(migrate_tp, (void *)on_migrate, NULL);
	tp_on = false;
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (registered[i])
			unregister_kretprobe(&probes[i]);
	memset(registered, 0, sizeof(registered));
	tracepoint_synchronize_unregister();
	for_each_possible_cpu(i)
		irq_work_sync(per_cpu_ptr(&kick_work, i));
}
