// SPDX-License-Identifier: GPL-2.0
/*
 * Steering: put each remapped vector's host IRQ where its policy says.
 *
 * Policies are set per VM (pid), device or host IRQ; the most specific one
 * wins; a vector none of them names has the default policy (module
 * parameters), if one is set.  auto resolves per vector to nothing (posted), follow (no APICv/AVIC
 * on the host) or housekeeping (APICv, but the vector remapped), at every
 * scan, so a vector that falls back from posted to remapped is steered.
 * Every reconciling scan (on KVM/VFIO events, a policy change, a followed
 * vCPU thread that moved or was re-pinned (pisteer_vcpuwatch.c), an
 * affinity change by someone else (pisteer_affwatch.c)) hands its vectors
 * here, in process context, under the scan lock: nothing is moved from
 * scheduler or probe context.
 *
 * Life cycle of a steered IRQ: first move (its affinity saved) -> later
 * moves (at most one per interval) -> restore (policy off or removed,
 * vector gone, module unload) -> forgotten.  Every move and restore goes
 * through pst_vfio_irq_move(), which acts only while the number is still
 * the same VFIO vector (device and index) and its affinity not managed by
 * the kernel: an IRQ that VFIO has freed is forgotten without restore, as
 * its number may already belong to someone else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/hashtable.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pisteer.h>
#include <linux/sched/isolation.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/topology.h>

#include "pisteer.h"
#include "pisteer_model.h"
#include "pisteer_trace.h"

#define MAX_POLICIES		64
#define DEFAULT_INTERVAL_US	10000
#define MAX_INTERVAL_US		10000000

struct steered {
	struct hlist_node node;		/* in steered_irqs, by irq */
	u64 seen;			/* the last reconcile that named it */
	unsigned int irq;
	struct pst_vfio_id id;		/* the vector the number was */
	int cpu;
	u32 moves;
	u32 overridden;		/* changes found that pisteer did not make */
	bool away;		/* moved off @cpu by someone else, not put back yet */
	u64 last_move_ns;
	cpumask_var_t orig;
};

static DEFINE_MUTEX(steer_lock);
/*
 * A policy as set, and for a VM scope the identity of the process it was
 * set for: pid and start time, so that a process that later gets the same
 * pid is a different VM.
 */
struct steer_policy {
	struct pisteer_policy p;
	u64 vm_start;
};

static struct steer_policy policies[MAX_POLICIES];
static unsigned int nr_policies;
/* The steered IRQs, hashed by number: a lookup per vector, not a list walk. */
static DEFINE_HASHTABLE(steered_irqs, 8);
static unsigned int nr_steered;
/* Which reconcile this is: a steered IRQ not seen in it is forgotten. */
static u64 reconcile_gen;

/*
 * The default for every vector no policy of its own names (module
 * parameters default_policy and housekeeping_cpus, pisteer_main.c):
 * PISTEER_POLICY_NONE (the default) steers nothing.  Under steer_lock.
 */
static struct pisteer_policy default_policy = {
	.scope = PISTEER_SCOPE_VM,
	.policy = PISTEER_POLICY_NONE,
};

static bool same_scope(const struct pisteer_policy *a,
		       const struct pisteer_policy *b)
{
	if (a->scope != b->scope)
		return false;
	switch (a->scope) {
	case PISTEER_SCOPE_VM:
		return a->pid == b->pid;
	case PISTEER_SCOPE_DEVICE:
		return a->pci_seg == b->pci_seg && a->pci_bus == b->pci_bus &&
		       a->pci_devfn == b->pci_devfn;
	default:
		return a->irq == b->irq;
	}
}

/*
 * The policy of @v: its IRQ's, else its device's, else its VM's, else the
 * default (@by_default set), else NULL.
 */
static const struct pisteer_policy *policy_of(const struct pst_vec *v,
					      bool *by_default)
{
	const struct pisteer_policy *best = NULL;
	unsigned int i;

	for (i = 0; i < nr_policies; i++) {
		const struct pisteer_policy *p = &policies[i].p;

		if (p->scope == PISTEER_SCOPE_IRQ && p->irq == v->host.irq)
			return p;
		if (p->scope == PISTEER_SCOPE_DEVICE &&
		    p->pci_seg == v->host.dev.pci_seg &&
		    p->pci_bus == v->host.dev.pci_bus &&
		    p->pci_devfn == v->host.dev.pci_devfn)
			best = p;
		else if (p->scope == PISTEER_SCOPE_VM && p->pid == v->vm.pid &&
			 policies[i].vm_start == v->vm.start && !best)
			best = p;
	}
	*by_default = !best && default_policy.policy != PISTEER_POLICY_NONE;
	return *by_default ? &default_policy : best;
}

static struct steered *find_steered(unsigned int irq)
{
	struct steered *s;

	hash_for_each_possible(steered_irqs, s, node, irq)
		if (s->irq == irq)
			return s;
	return NULL;
}

/* What reconcile did with @s's IRQ, into @v's record. */
static void report_steered(const struct steered *s, struct pst_vec *v)
{
	v->steer.cpu = s->cpu;
	v->steer.moves = s->moves;
	v->steer.overridden = s->overridden;
}

static bool is_vector(const struct steered *s, const struct pst_vec *v)
{
	return pst_vfio_id_equal(&v->host.dev, &s->id);
}

/*
 * Restore what pisteer changed, if the number is still that vector's and
 * its affinity still what pisteer set: a later choice of someone else
 * (an admin, irqbalance) stays.
 */
static void forget(struct steered *s)
{
	const struct cpumask *mine = s->cpu >= 0 ? cpumask_of(s->cpu) : NULL;
	int ret = pst_vfio_irq_move(s->irq, &s->id, s->orig, mine, NULL);

	if (!ret)
		trace_steer(s->irq, s->cpu, -1, PISTEER_POLICY_OFF);
	else if (ret == -EBUSY)
		pr_info("irq %u: not restored to %*pbl: its affinity was set after pisteer's move, and stays\n",
			s->irq, cpumask_pr_args(s->orig));
	else if (ret != -ESTALE)
		pr_warn("irq %u: restoring its affinity failed: %d\n",
			s->irq, ret);
	hash_del(&s->node);
	nr_steered--;
	pst_free_cpumask_var(s->orig);
	pst_kfree(s);
}

/* The first move of @v's IRQ: its affinity saved as it was just before. */
static struct steered *start_steering(const struct pst_vec *v, int cpu)
{
	struct steered *s;
	int ret;

	s = pst_kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	if (!pst_zalloc_cpumask_var(&s->orig, GFP_KERNEL)) {
		pst_kfree(s);
		return NULL;
	}
	s->irq = v->host.irq;
	s->cpu = -1;
	s->id = v->host.dev;
	ret = pst_vfio_irq_move(s->irq, &s->id, cpumask_of(cpu), NULL, s->orig);
	if (ret) {
		if (ret != -ESTALE)
			pr_warn_ratelimited("irq %u: cannot move it to CPU %d: %d\n",
					    s->irq, cpu, ret);
		pst_free_cpumask_var(s->orig);
		pst_kfree(s);
		return NULL;
	}
	hash_add(steered_irqs, &s->node, s->irq);
	nr_steered++;
	return s;
}

/*
 * The CPU the vector's target vCPU runs on: the one it is pinned to, else
 * (or when that one is offline) the one its thread is on, or -1.  A thread
 * pinned to a CPU that went offline runs where the scheduler put it, and
 * its affinity is widened only when it next wakes, with no event.
 */
static int vcpu_cpu(const struct pst_vec *v)
{
	if (v->target.pinned_cpu >= 0 && cpu_online(v->target.pinned_cpu))
		return v->target.pinned_cpu;
	return v->target.pcpu;
}

static int device_node(const struct pst_vec *v)
{
	const struct pst_vfio_id *d = &v->host.dev;
	struct pci_dev *pdev;
	int node;

	pdev = pci_get_domain_bus_and_slot(d->pci_seg, d->pci_bus, d->pci_devfn);
	if (!pdev)
		return NUMA_NO_NODE;
	node = dev_to_node(&pdev->dev);
	pci_dev_put(pdev);
	return node;
}

/*
 * housekeeping: one of the policy's CPUs (else the kernel's housekeeping
 * CPUs), those on the device's node first, not the target vCPU's CPU while
 * another remains; spread over the candidates by host IRQ number.
 */
static int pick_housekeeping_cpu(const struct pisteer_policy *p,
				 const struct pst_vec *v)
{
	int node = device_node(v), own = vcpu_cpu(v), cpu, n, pick = -1;
	unsigned int i, nbits = min_t(unsigned int, nr_cpu_ids,
				      PISTEER_AFFINITY_WORDS * 64);
	cpumask_var_t cand;

	if (!pst_zalloc_cpumask_var(&cand, GFP_KERNEL))
		return -1;
	for (i = 0; i < nbits; i++)
		if (p->cpus[i / 64] & BIT_ULL(i % 64))
			cpumask_set_cpu(i, cand);
	if (cpumask_empty(cand))
		cpumask_copy(cand, housekeeping_cpumask(HK_TYPE_DOMAIN));
	cpumask_and(cand, cand, cpu_online_mask);
	if (node != NUMA_NO_NODE && cpumask_intersects(cand, cpumask_of_node(node)))
		cpumask_and(cand, cand, cpumask_of_node(node));
	if (own >= 0 && own < nr_cpu_ids && cpumask_weight(cand) > 1)
		cpumask_clear_cpu(own, cand);
	n = cpumask_weight(cand);
	if (n) {
		i = v->host.irq % n;
		for_each_cpu(cpu, cand)
			if (!i--) {
				pick = cpu;
				break;
			}
	}
	pst_free_cpumask_var(cand);
	return pick;
}

static int target_cpu(const struct pisteer_policy *p, u32 applied,
		      const struct pst_vec *v)
{
	switch (applied) {
	case PISTEER_POLICY_STATIC:
		return p->cpu;
	case PISTEER_POLICY_HOUSEKEEPING:
		return pick_housekeeping_cpu(p, v);
	default:
		return vcpu_cpu(v);
	}
}

/* What auto comes to for @v, and why. */
static u32 auto_choice(const struct pst_vec *v, u32 *why)
{
	if (v->dlv.mode == PISTEER_MODE_POSTED) {
		*why = PISTEER_WHY_POSTED;
		return PISTEER_POLICY_NONE;
	}
	if (v->dlv.mode != PISTEER_MODE_REMAPPED) {
		*why = PISTEER_WHY_MODE_UNKNOWN;
		return PISTEER_POLICY_NONE;
	}
	/* Whether APICv is on: the vendor module's word, read at the scan. */
	if (v->dlv.apicv_unknown) {
		*why = PISTEER_WHY_MODE_UNKNOWN;
		return PISTEER_POLICY_NONE;
	}
	if (v->dlv.reason == PISTEER_REASON_NO_APICV) {
		*why = PISTEER_WHY_NO_APICV;
		return PISTEER_POLICY_FOLLOW;
	}
	*why = PISTEER_WHY_APICV_REMAPPED;
	return PISTEER_POLICY_HOUSEKEEPING;
}

/* Is the affinity the scan saw exactly @cpu? */
static bool affinity_is(const struct pst_vec *v, int cpu)
{
	return test_bit(cpu, v->host.affinity) &&
	       bitmap_weight(v->host.affinity, PST_AFFINITY_BITS) == 1;
}

/* Earliest time a move held back by the interval may be done, or 0. */
static u64 retry_at_ns;

static void steer_one(const struct pisteer_policy *p, u32 applied,
		      struct pst_vec *v)
{
	struct steered *s = find_steered(v->host.irq);
	u32 interval = p->interval_us ? p->interval_us : DEFAULT_INTERVAL_US;
	int cpu = target_cpu(p, applied, v);
	u64 now = ktime_get_ns();
	int ret;

	/* The number went to another vector since: what was saved is void. */
	if (s && !is_vector(s, v)) {
		forget(s);
		s = NULL;
	}
	/*
	 * Someone else moved it since (an admin, irqbalance): count it once
	 * and apply the policy again, at most once per interval like every
	 * move.  Until then an off leaves their choice in place.
	 */
	if (s && !s->away && s->cpu >= 0 && s->cpu < PST_AFFINITY_BITS &&
	    !affinity_is(v, s->cpu)) {
		s->overridden++;
		s->away = true;
		pr_info_ratelimited("irq %u: moved off CPU %d by someone else (%u times); the policy is applied again\n",
				    s->irq, s->cpu, s->overridden);
	}
	/* Posting ignores host affinity: nothing to gain from a move. */
	if (v->dlv.mode == PISTEER_MODE_POSTED || cpu < 0 || !cpu_online(cpu))
		goto report;
	if (s && s->cpu == cpu && !s->away)
		goto report;
	if (s && now - s->last_move_ns < (u64)interval * NSEC_PER_USEC) {
		u64 at = s->last_move_ns + (u64)interval * NSEC_PER_USEC;

		if (!retry_at_ns || at < retry_at_ns)
			retry_at_ns = at;
		goto report;
	}
	if (!s) {
		s = start_steering(v, cpu);
		if (!s)
			goto report;
	} else {
		ret = pst_vfio_irq_move(s->irq, &s->id, cpumask_of(cpu), NULL, NULL);
		if (ret) {
			if (ret != -ESTALE)
				pr_warn_ratelimited("irq %u: cannot move it to CPU %d: %d\n",
						    v->host.irq, cpu, ret);
			goto report;
		}
	}
	trace_steer(v->host.irq, s->cpu, cpu, applied);
	s->away = false;
	s->cpu = cpu;
	s->moves++;
	s->last_move_ns = now;
report:
	if (s) {
		s->seen = reconcile_gen;
		report_steered(s, v);
	}
}

/* The start time of process @pid (its thread group leader): 0 or -ESRCH. */
static int process_start(pid_t nr, u64 *start)
{
	struct task_struct *task;
	struct pid *pid;

	pid = find_get_pid(nr);
	task = pid ? get_pid_task(pid, PIDTYPE_TGID) : NULL;
	put_pid(pid);
	if (!task)
		return -ESRCH;
	*start = task->start_boottime;
	put_task_struct(task);
	return 0;
}

/*
 * Drop the VM policies whose process is gone (or whose pid now names
 * another process): no later VM may inherit them.  Caller holds steer_lock.
 */
static void drop_dead_vm_policies(void)
{
	unsigned int i = 0;
	u64 start;

	while (i < nr_policies) {
		struct steer_policy *sp = &policies[i];

		if (sp->p.scope == PISTEER_SCOPE_VM &&
		    (process_start(sp->p.pid, &start) || start != sp->vm_start)) {
			*sp = policies[--nr_policies];
			continue;
		}
		i++;
	}
}

/* @v's policy fields; returns its policy (NULL: none), what it came to in @applied. */
static const struct pisteer_policy *resolve(struct pst_vec *v, u32 *applied)
{
	struct pst_vec_steer *st = &v->steer;
	const struct pisteer_policy *p;

	p = policy_of(v, &st->by_default);
	st->cpu = -1;
	st->moves = 0;
	st->overridden = 0;
	st->why = PISTEER_WHY_NONE;
	st->policy = p ? p->policy : PISTEER_POLICY_NONE;
	st->applied = st->policy;
	if (st->applied == PISTEER_POLICY_AUTO)
		st->applied = auto_choice(v, &st->why);
	*applied = st->applied;
	return p;
}

static bool moves_irq(u32 applied)
{
	return applied != PISTEER_POLICY_NONE && applied != PISTEER_POLICY_OFF;
}

/* Tell the affinity watch which IRQs are steered now.  Caller holds steer_lock. */
static void watch_steered(void)
{
	struct steered *s;
	unsigned int bkt;

	pisteer_affwatch_begin();
	hash_for_each(steered_irqs, bkt, s, node)
		pisteer_affwatch_add(s->irq);
	pisteer_affwatch_commit();
}

/* Does where @applied puts an IRQ depend on where its vCPU runs? */
static bool follows_vcpu(u32 applied)
{
	return applied == PISTEER_POLICY_FOLLOW ||
	       applied == PISTEER_POLICY_HOUSEKEEPING;
}

/**
 * pisteer_steer_apply() - reconcile: steer the vectors a scan found
 * @vecs: the records; their steering is filled in
 * @nr: their number
 *
 * Context: process, under the scan lock; the only place IRQs are moved
 * (besides unloading).
 */
void pisteer_steer_apply(struct pst_vec *vecs, unsigned int nr)
{
	struct hlist_node *tmp;
	struct steered *s;
	unsigned int i, bkt;
	u64 retry;

	/* Decisions about CPUs with no CPU coming or going meanwhile. */
	cpus_read_lock();
	mutex_lock(&steer_lock);
	retry_at_ns = 0;
	reconcile_gen++;
	drop_dead_vm_policies();
	pisteer_vcpuwatch_begin();
	for (i = 0; i < nr; i++) {
		const struct pisteer_policy *p;
		u32 applied;

		p = resolve(&vecs[i], &applied);
		if (follows_vcpu(applied))
			pisteer_vcpuwatch_add(vecs[i].target.tid);
		if (moves_irq(applied)) {
			steer_one(p, applied, &vecs[i]);
			continue;
		}
		s = find_steered(vecs[i].host.irq);
		if (s)
			forget(s);
	}
	/* Steered IRQs no vector with a moving policy names any more. */
	hash_for_each_safe(steered_irqs, bkt, tmp, s, node)
		if (s->seen != reconcile_gen)
			forget(s);
	watch_steered();
	pisteer_vcpuwatch_commit();
	retry = retry_at_ns;
	mutex_unlock(&steer_lock);
	cpus_read_unlock();
	/* A move the interval held back is done by a rescan, not forgotten. */
	if (retry)
		pisteer_events_kick_at(retry);
}

/**
 * pisteer_steer_report() - fill in the policy and steering of records
 * @vecs: the records
 * @nr: their number
 *
 * For readers: moves nothing, changes no policy.
 */
void pisteer_steer_report(struct pst_vec *vecs, unsigned int nr)
{
	struct steered *s;
	unsigned int i;
	u32 applied;

	mutex_lock(&steer_lock);
	for (i = 0; i < nr; i++) {
		resolve(&vecs[i], &applied);
		s = find_steered(vecs[i].host.irq);
		if (s && is_vector(s, &vecs[i]))
			report_steered(s, &vecs[i]);
	}
	mutex_unlock(&steer_lock);
}

static bool depends_on_vcpus(u32 policy)
{
	return policy == PISTEER_POLICY_FOLLOW ||
	       policy == PISTEER_POLICY_HOUSEKEEPING ||
	       policy == PISTEER_POLICY_AUTO;
}

/*
 * Does a policy exist, or the default, that depends on where vCPU threads
 * run (follow, and housekeeping and auto, which avoid or follow the
 * vCPU's CPU)?
 */
bool pisteer_steer_following(void)
{
	bool ret;
	unsigned int i;

	mutex_lock(&steer_lock);
	ret = depends_on_vcpus(default_policy.policy);
	for (i = 0; i < nr_policies && !ret; i++)
		ret = depends_on_vcpus(policies[i].p.policy);
	mutex_unlock(&steer_lock);
	return ret;
}

/**
 * pisteer_steer_set_default() - the policy of vectors with none of their own
 * @policy: %PISTEER_POLICY_NONE (nothing steered by default), _AUTO,
 *	_FOLLOW or _HOUSEKEEPING
 *
 * Applies from the next reconcile on; the caller kicks one.
 *
 * Return: 0, or -EINVAL for another policy (nothing changed).
 */
int pisteer_steer_set_default(u32 policy)
{
	if (policy != PISTEER_POLICY_NONE && policy != PISTEER_POLICY_AUTO &&
	    policy != PISTEER_POLICY_FOLLOW &&
	    policy != PISTEER_POLICY_HOUSEKEEPING)
		return -EINVAL;
	mutex_lock(&steer_lock);
	default_policy.policy = policy;
	mutex_unlock(&steer_lock);
	return 0;
}

/* The default policy, PISTEER_POLICY_NONE when there is none. */
u32 pisteer_steer_default(void)
{
	u32 policy;

	mutex_lock(&steer_lock);
	policy = default_policy.policy;
	mutex_unlock(&steer_lock);
	return policy;
}

/**
 * pisteer_steer_set_default_cpus() - the default's housekeeping CPUs
 * @cpus: the CPUs (possible ones, below 1024); empty: the kernel's
 *	housekeeping CPUs
 *
 * For the default policy's housekeeping (and auto's, when it comes to
 * housekeeping); of those CPUs, the online ones are used.
 *
 * Return: 0, or -EINVAL for a CPU that is not possible or too high
 * (nothing changed).
 */
int pisteer_steer_set_default_cpus(const struct cpumask *cpus)
{
	__u64 words[PISTEER_AFFINITY_WORDS] = { };
	int cpu;

	if (!cpumask_subset(cpus, cpu_possible_mask))
		return -EINVAL;
	for_each_cpu(cpu, cpus) {
		if (cpu >= PISTEER_AFFINITY_WORDS * 64)
			return -EINVAL;
		words[cpu / 64] |= BIT_ULL(cpu % 64);
	}
	mutex_lock(&steer_lock);
	memcpy(default_policy.cpus, words, sizeof(words));
	mutex_unlock(&steer_lock);
	return 0;
}

/* The default's housekeeping CPUs into @cpus (empty: the kernel's). */
void pisteer_steer_default_cpus(struct cpumask *cpus)
{
	unsigned int i, nbits = min_t(unsigned int, nr_cpu_ids,
				      PISTEER_AFFINITY_WORDS * 64);

	cpumask_clear(cpus);
	mutex_lock(&steer_lock);
	for (i = 0; i < nbits; i++)
		if (default_policy.cpus[i / 64] & BIT_ULL(i % 64))
			cpumask_set_cpu(i, cpus);
	mutex_unlock(&steer_lock);
}

/* @req's housekeeping CPUs: only online ones, only where they mean something. */
static bool cpus_valid(const struct pisteer_policy *req)
{
	bool takes = req->policy == PISTEER_POLICY_HOUSEKEEPING ||
		     req->policy == PISTEER_POLICY_AUTO;
	unsigned int i;

	for (i = 0; i < PISTEER_AFFINITY_WORDS * 64; i++) {
		if (!(req->cpus[i / 64] & BIT_ULL(i % 64)))
			continue;
		if (!takes || i >= nr_cpu_ids || !cpu_online(i))
			return false;
	}
	return true;
}

/**
 * pisteer_steer_set_policy() - set, replace or remove one scope's policy
 * @req: validated except for the CPU and pid
 *
 * Return: 0, -EINVAL, -ENOSPC or -ENOENT; on error nothing changed.
 */
int pisteer_steer_set_policy(const struct pisteer_policy *req)
{
	unsigned int i;
	u64 start = 0;
	int ret = 0;

	if (req->scope < PISTEER_SCOPE_VM || req->scope > PISTEER_SCOPE_IRQ ||
	    req->policy > PISTEER_POLICY_AUTO || req->flags || req->reserved ||
	    req->interval_us > MAX_INTERVAL_US || !cpus_valid(req))
		return -EINVAL;
	if (req->scope == PISTEER_SCOPE_VM && req->pid <= 0)
		return -EINVAL;
	if (req->policy == PISTEER_POLICY_STATIC &&
	    (req->cpu < 0 || req->cpu >= nr_cpu_ids || !cpu_online(req->cpu)))
		return -EINVAL;

	if (req->scope == PISTEER_SCOPE_VM && req->policy != PISTEER_POLICY_NONE &&
	    process_start(req->pid, &start))
		return -ESRCH;

	mutex_lock(&steer_lock);
	/* A VM that exited since the last reconcile has no policy left. */
	drop_dead_vm_policies();
	for (i = 0; i < nr_policies && !same_scope(&policies[i].p, req); i++)
		;
	if (req->policy == PISTEER_POLICY_NONE) {
		if (i == nr_policies)
			ret = -ENOENT;
		else
			policies[i] = policies[--nr_policies];
	} else if (i < nr_policies) {
		policies[i].p = *req;
		policies[i].vm_start = start;
	} else if (nr_policies == MAX_POLICIES) {
		ret = -ENOSPC;
	} else {
		policies[nr_policies].p = *req;
		policies[nr_policies++].vm_start = start;
	}
	mutex_unlock(&steer_lock);
	return ret;
}

/* How many host IRQs are steered now (their affinity kept), how many policies. */
void pisteer_steer_counts(unsigned int *steered, unsigned int *policies)
{
	mutex_lock(&steer_lock);
	drop_dead_vm_policies();
	*steered = nr_steered;
	*policies = nr_policies;
	mutex_unlock(&steer_lock);
}

/* Before unload: no policy, so the next scan restores what it can check. */
void pisteer_steer_clear_policies(void)
{
	mutex_lock(&steer_lock);
	nr_policies = 0;
	default_policy.policy = PISTEER_POLICY_NONE;
	mutex_unlock(&steer_lock);
}

/* Module unload: whatever is still steered goes back where it was. */
void pisteer_steer_exit(void)
{
	struct hlist_node *tmp;
	struct steered *s;
	unsigned int bkt;

	cpus_read_lock();
	mutex_lock(&steer_lock);
	hash_for_each_safe(steered_irqs, bkt, tmp, s, node)
		forget(s);
	watch_steered();
	pisteer_vcpuwatch_begin();
	pisteer_vcpuwatch_commit();
	nr_policies = 0;
	default_policy.policy = PISTEER_POLICY_NONE;
	mutex_unlock(&steer_lock);
	cpus_read_unlock();
}
