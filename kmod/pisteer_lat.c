// SPDX-License-Identifier: GPL-2.0
/*
 * Latency sampling: per passthrough vector, a log2 histogram of the host
 * delivery latency, from the entry of the host IRQ handler to the next VM
 * entry of the vector's target vCPU (see struct pisteer_lat_ctl).
 *
 * Two kprobes, registered only while some sampling is enabled:
 *   vfio_msihandler(irq, trigger)  stamps the target vCPU with the time,
 *				     unless a stamp is pending already;
 *   svm_vcpu_run/vmx_vcpu_run(vcpu, ...)  accounts now - stamp into the
 *				     stamping vector's histogram, clears it.
 * Both run with interrupts off, look up an RCU-published table (built by
 * the scans, in process context) and touch only per-vCPU raw spinlocks
 * and atomics: no sleeping, no allocation.  Pointers to eventfds and vCPUs
 * are compared, never dereferenced.
 *
 * Objects: a lat_stats per sampled vector (keyed like the records: VM pid,
 * fd, host IRQ), a lat_vcpu per target vCPU (the pending stamp), both on
 * lists under lat_lock; the table points at them.  A new table is
 * published only when its contents differ; after a grace period nothing
 * reaches the objects it dropped, except a lat_vcpu's pending pointer to a
 * lat_stats, cleared under that vCPU's lock before the lat_stats is freed
 * (accounting happens under the same lock).  A vector that went away keeps
 * its lat_stats, readable, until a reset or disable of its VM.
 *
 * Locking: scan_lock (the caller of pisteer_lat_update) -> lat_lock ->
 * lat_vcpu.lock.  The ioctls never hold lat_lock while they scan.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pisteer.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "pisteer.h"
#include "pisteer_model.h"

#define MAX_VMS		64
#define MAX_OBJECTS	1024	/* of each kind: lat_stats, lat_vcpu */

struct lat_stats {
	struct list_head link;
	struct pisteer_lat_vector id;	/* identity; its counters unused */
	bool in_table;
	atomic64_t count, coalesced, sum, min, max;
	atomic64_t hist[PISTEER_LAT_BUCKETS];
};

struct lat_vcpu {
	struct list_head link;
	const void *vcpu;		/* struct kvm_vcpu: compared only */
	bool in_table;
	raw_spinlock_t lock;
	u64 stamp;			/* host IRQ entry; 0: none pending */
	struct lat_stats *st;		/* the vector that stamped */
};

struct lat_irq {
	unsigned int irq;
	const void *trigger;		/* eventfd_ctx: compared only */
	struct lat_stats *st;
	struct lat_vcpu *vc;
};

/*
 * What the probes look up, published by RCU.  Both lookups are hashed
 * (open addressing, at most half full): a probe costs the same with one
 * sampled vector as with a thousand.  A slot holds an index + 1; 0 is free.
 */
struct lat_table {
	unsigned int nr_irqs, nr_vcpus;
	struct lat_irq *irqs;
	struct lat_vcpu **vcpus;
	unsigned int hbits;
	u16 *irq_slot, *vcpu_slot;
};

static DEFINE_MUTEX(lat_lock);
static bool lat_all;
static pid_t lat_pids[MAX_VMS];
static unsigned int nr_pids;
static bool probes_on;
static bool lat_active;		/* READ_ONCE by scans outside lat_lock */
static unsigned int dropped;
static LIST_HEAD(stats_list);
static unsigned int nr_stats;
static LIST_HEAD(vcpu_list);
static unsigned int nr_vcpus;
static struct lat_table __rcu *table;

/* Hot path: both probes run with interrupts off. */

static void account(struct lat_stats *st, u64 ns)
{
	s64 old;

	atomic64_inc(&st->hist[ns ? ilog2(ns) : 0]);
	atomic64_add(ns, &st->sum);
	old = atomic64_read(&st->min);
	while ((u64)old > ns && !atomic64_try_cmpxchg(&st->min, &old, ns))
		;
	old = atomic64_read(&st->max);
	while ((u64)old < ns && !atomic64_try_cmpxchg(&st->max, &old, ns))
		;
	/* Last: a reader never sees more samples counted than in hist. */
	atomic64_inc(&st->count);
}

/* Entry of vfio_msihandler(int irq, void *trigger). */
static int on_msi(struct kprobe *kp, struct pt_regs *regs)
{
	unsigned int irq = regs_get_kernel_argument(regs, 0);
	const void *trigger = (const void *)regs_get_kernel_argument(regs, 1);
	const struct lat_table *t;
	unsigned long flags;
	unsigned int h;

	rcu_read_lock();
	t = rcu_dereference(table);
	for (h = t ? hash_32(irq, t->hbits) : 0; t && t->irq_slot[h];
	     h = (h + 1) & (BIT(t->hbits) - 1)) {
		struct lat_irq *e = &t->irqs[t->irq_slot[h] - 1];

		if (e->irq != irq || e->trigger != trigger)
			continue;
		raw_spin_lock_irqsave(&e->vc->lock, flags);
		if (!e->vc->stamp) {
			e->vc->stamp = ktime_get_mono_fast_ns();
			e->vc->st = e->st;
		} else {
			atomic64_inc(&e->st->coalesced);
		}
		raw_spin_unlock_irqrestore(&e->vc->lock, flags);
		break;
	}
	rcu_read_unlock();
	return 0;
}

/* Entry of the vendor's vcpu_run(struct kvm_vcpu *vcpu, ...). */
static int on_vcpu_run(struct kprobe *kp, struct pt_regs *regs)
{
	const void *vcpu = (const void *)regs_get_kernel_argument(regs, 0);
	const struct lat_table *t;
	unsigned long flags;
	unsigned int h;
	u64 now;

	rcu_read_lock();
	t = rcu_dereference(table);
	for (h = t ? hash_ptr(vcpu, t->hbits) : 0; t && t->vcpu_slot[h];
	     h = (h + 1) & (BIT(t->hbits) - 1)) {
		struct lat_vcpu *vc = t->vcpus[t->vcpu_slot[h] - 1];

		if (vc->vcpu != vcpu)
			continue;
		if (!READ_ONCE(vc->stamp))
			break;
		raw_spin_lock_irqsave(&vc->lock, flags);
		now = ktime_get_mono_fast_ns();
		if (vc->stamp && vc->st)
			account(vc->st, now > vc->stamp ? now - vc->stamp : 0);
		vc->stamp = 0;
		vc->st = NULL;
		raw_spin_unlock_irqrestore(&vc->lock, flags);
		break;
	}
	rcu_read_unlock();
	return 0;
}

static struct kprobe msi_probe, run_probe;

/* The vendor function KVM enters the guest through, first arg the vCPU. */
static const char * const run_symbols[] = { "svm_vcpu_run", "vmx_vcpu_run" };

static int register_probes(void)
{
	unsigned int i;
	int ret;

	/* A kprobe is re-registered from scratch: symbol, no address. */
	msi_probe = (struct kprobe){ .symbol_name = "vfio_msihandler",
				     .pre_handler = on_msi };
	ret = register_kprobe(&msi_probe);
	if (ret) {
		pr_info("latency: cannot probe vfio_msihandler (%d): is vfio-pci loaded?\n",
			ret);
		pst_host_feature(PISTEER_HOST_LAT_PROBES, ret);
		return -ENODEV;
	}
	for (i = 0; i < ARRAY_SIZE(run_symbols); i++) {
		run_probe = (struct kprobe){ .symbol_name = run_symbols[i],
					     .pre_handler = on_vcpu_run };
		ret = register_kprobe(&run_probe);
		if (!ret) {
			pst_host_feature(PISTEER_HOST_LAT_PROBES, 0);
			return 0;
		}
	}
	pst_host_feature(PISTEER_HOST_LAT_PROBES, ret);
	pr_info("latency: cannot probe svm_vcpu_run or vmx_vcpu_run (%d): is kvm_amd or kvm_intel loaded?\n",
		ret);
	unregister_kprobe(&msi_probe);
	return -ENODEV;
}

/* Process context, lat_lock held. */

static bool pid_sampled(pid_t pid)
{
	unsigned int i;

	if (lat_all)
		return true;
	for (i = 0; i < nr_pids; i++)
		if (lat_pids[i] == pid)
			return true;
	return false;
}

static void zero_stats(struct lat_stats *st)
{
	unsigned int b;

	atomic64_set(&st->count, 0);
	atomic64_set(&st->coalesced, 0);
	atomic64_set(&st->sum, 0);
	atomic64_set(&st->min, -1);	/* U64_MAX */
	atomic64_set(&st->max, 0);
	for (b = 0; b < PISTEER_LAT_BUCKETS; b++)
		atomic64_set(&st->hist[b], 0);
}

static struct lat_stats *get_stats(const struct pst_vec *v)
{
	struct lat_stats *st;

	list_for_each_entry(st, &stats_list, link)
		if (st->id.vm_pid == v->vm.pid && st->id.vm_fd == v->vm.fd &&
		    st->id.host_irq == v->host.irq)
			goto found;
	if (nr_stats >= MAX_OBJECTS)
		return NULL;
	st = pst_kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return NULL;
	zero_stats(st);
	list_add_tail(&st->link, &stats_list);
	nr_stats++;
found:
	st->id.host_irq = v->host.irq;
	st->id.pci_seg = v->host.dev.pci_seg;
	st->id.pci_bus = v->host.dev.pci_bus;
	st->id.pci_devfn = v->host.dev.pci_devfn;
	st->id.irq_type = v->host.dev.irq_type;
	st->id.index = v->host.dev.index;
	st->id.vm_pid = v->vm.pid;
	st->id.vm_fd = v->vm.fd;
	st->id.vcpu = v->target.vcpu;
	return st;
}

static struct lat_vcpu *get_vcpu(const void *vcpu)
{
	struct lat_vcpu *vc;

	list_for_each_entry(vc, &vcpu_list, link)
		if (vc->vcpu == vcpu)
			return vc;
	if (nr_vcpus >= MAX_OBJECTS)
		return NULL;
	vc = pst_kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc)
		return NULL;
	vc->vcpu = vcpu;
	raw_spin_lock_init(&vc->lock);
	list_add_tail(&vc->link, &vcpu_list);
	nr_vcpus++;
	return vc;
}

static void free_table(struct lat_table *t)
{
	if (!t)
		return;
	pst_kvfree(t->irqs);
	pst_kvfree(t->vcpus);
	pst_kvfree(t->irq_slot);
	pst_kvfree(t->vcpu_slot);
	pst_kfree(t);
}

/* Index both lookups of @t; false when out of memory. */
static bool hash_table(struct lat_table *t)
{
	unsigned int i, h, mask;

	t->hbits = order_base_2(2 * max(t->nr_irqs, 1U));
	mask = BIT(t->hbits) - 1;
	t->irq_slot = pst_kvcalloc(BIT(t->hbits), sizeof(u16), GFP_KERNEL);
	t->vcpu_slot = pst_kvcalloc(BIT(t->hbits), sizeof(u16), GFP_KERNEL);
	if (!t->irq_slot || !t->vcpu_slot)
		return false;
	for (i = 0; i < t->nr_irqs; i++) {
		for (h = hash_32(t->irqs[i].irq, t->hbits); t->irq_slot[h];
		     h = (h + 1) & mask)
			;
		t->irq_slot[h] = i + 1;
	}
	for (i = 0; i < t->nr_vcpus; i++) {
		for (h = hash_ptr(t->vcpus[i]->vcpu, t->hbits); t->vcpu_slot[h];
		     h = (h + 1) & mask)
			;
		t->vcpu_slot[h] = i + 1;
	}
	return true;
}

static bool same_table(const struct lat_table *a, const struct lat_table *b)
{
	unsigned int i;

	if (!a || !b)
		return a == b;
	if (a->nr_irqs != b->nr_irqs || a->nr_vcpus != b->nr_vcpus)
		return false;
	for (i = 0; i < a->nr_irqs; i++)
		if (memcmp(&a->irqs[i], &b->irqs[i], sizeof(a->irqs[i])))
			return false;
	for (i = 0; i < a->nr_vcpus; i++)
		if (a->vcpus[i] != b->vcpus[i])
			return false;
	return true;
}

/* No pending stamp may point at @st any more (it is about to be freed). */
static void unpend(struct lat_stats *st)
{
	struct lat_vcpu *vc;
	unsigned long flags;

	list_for_each_entry(vc, &vcpu_list, link) {
		raw_spin_lock_irqsave(&vc->lock, flags);
		if (vc->st == st) {
			vc->stamp = 0;
			vc->st = NULL;
		}
		raw_spin_unlock_irqrestore(&vc->lock, flags);
	}
}

/*
 * Free what the current table does not reach: every lat_vcpu, and the
 * lat_stats of vectors gone whose VM is no longer sampled (or all gone
 * ones of @reset_pid's VMs, 0: of every VM, when @reset).  Only after a
 * grace period since the table that reached them was replaced.
 */
static void collect(bool reset, pid_t reset_pid)
{
	const struct lat_table *t = rcu_dereference_protected(table,
					lockdep_is_held(&lat_lock));
	struct lat_stats *st, *stn;
	struct lat_vcpu *vc, *vcn;
	unsigned int i;

	list_for_each_entry(st, &stats_list, link)
		st->in_table = false;
	list_for_each_entry(vc, &vcpu_list, link)
		vc->in_table = false;
	for (i = 0; t && i < t->nr_irqs; i++) {
		t->irqs[i].st->in_table = true;
		t->irqs[i].vc->in_table = true;
	}
	list_for_each_entry_safe(vc, vcn, &vcpu_list, link) {
		if (vc->in_table)
			continue;
		list_del(&vc->link);
		nr_vcpus--;
		pst_kfree(vc);
	}
	list_for_each_entry_safe(st, stn, &stats_list, link) {
		if (st->in_table)
			continue;
		if (pid_sampled(st->id.vm_pid) &&
		    !(reset && (!reset_pid || reset_pid == st->id.vm_pid)))
			continue;
		unpend(st);
		list_del(&st->link);
		nr_stats--;
		pst_kfree(st);
	}
}

static void publish(struct lat_table *t)
{
	struct lat_table *old;

	old = rcu_replace_pointer(table, t, lockdep_is_held(&lat_lock));
	synchronize_rcu();
	free_table(old);
}

/* Stop sampling everything and drop every sample. */
static void stop_locked(void)
{
	struct lat_stats *st, *stn;
	struct lat_vcpu *vc, *vcn;

	WRITE_ONCE(lat_active, false);
	if (probes_on) {
		struct kprobe *kps[] = { &msi_probe, &run_probe };

		/* Waits until no handler runs. */
		unregister_kprobes(kps, ARRAY_SIZE(kps));
		probes_on = false;
	}
	publish(NULL);
	list_for_each_entry_safe(st, stn, &stats_list, link) {
		list_del(&st->link);
		pst_kfree(st);
	}
	list_for_each_entry_safe(vc, vcn, &vcpu_list, link) {
		list_del(&vc->link);
		pst_kfree(vc);
	}
	nr_stats = 0;
	nr_vcpus = 0;
	dropped = 0;
	lat_all = false;
	nr_pids = 0;
}

/**
 * pisteer_lat_update() - sample the vectors a scan found
 * @vecs: the records, with their trigger eventfd and target vCPU
 * @nr: their number
 *
 * Called with the scan lock held, in process context.  Builds the table
 * the probes look vectors up in, and publishes it when it changed.
 */
void pisteer_lat_update(const struct pst_vec *vecs, unsigned int nr)
{
	struct lat_table *t, *old;
	unsigned int i, j;

	if (!READ_ONCE(lat_active))
		return;
	mutex_lock(&lat_lock);
	if (!probes_on)
		goto out;
	t = pst_kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		goto out;
	t->irqs = pst_kvcalloc(max(nr, 1U), sizeof(*t->irqs), GFP_KERNEL);
	t->vcpus = pst_kvcalloc(max(nr, 1U), sizeof(*t->vcpus), GFP_KERNEL);
	if (!t->irqs || !t->vcpus) {
		free_table(t);
		goto out;
	}
	dropped = 0;
	for (i = 0; i < nr; i++) {
		struct lat_irq *e = &t->irqs[t->nr_irqs];

		if (!vecs[i].vcpu_id || vecs[i].target.vcpu < 0 ||
		    !pid_sampled(vecs[i].vm.pid))
			continue;
		e->st = get_stats(&vecs[i]);
		e->vc = get_vcpu(vecs[i].vcpu_id);
		if (!e->st || !e->vc) {
			dropped++;
			continue;
		}
		e->irq = vecs[i].host.irq;
		e->trigger = vecs[i].trigger;
		t->nr_irqs++;
		for (j = 0; j < t->nr_vcpus && t->vcpus[j] != e->vc; j++)
			;
		if (j == t->nr_vcpus)
			t->vcpus[t->nr_vcpus++] = e->vc;
	}
	if (!hash_table(t)) {
		free_table(t);
		goto out;
	}
	old = rcu_dereference_protected(table, lockdep_is_held(&lat_lock));
	if (same_table(old, t))
		free_table(t);
	else
		publish(t);
	collect(false, 0);
out:
	mutex_unlock(&lat_lock);
}

bool pisteer_lat_active(void)
{
	return READ_ONCE(lat_active);
}

/**
 * pisteer_lat_ctl() - enable, disable or reset sampling
 * @req: the request, copied in
 *
 * Return: 0 or a negative errno as documented for %PISTEER_IOC_LAT_CTL;
 * on error nothing changed.  The caller rescans after a success.
 */
int pisteer_lat_ctl(const struct pisteer_lat_ctl *req)
{
	struct lat_stats *st;
	unsigned int i;
	int ret = 0;

	if (req->flags || req->reserved || req->op < PISTEER_LAT_ENABLE ||
	    req->op > PISTEER_LAT_RESET ||
	    (req->scope == PISTEER_LAT_SCOPE_ALL && req->pid) ||
	    (req->scope == PISTEER_LAT_SCOPE_VM && req->pid <= 0) ||
	    req->scope > PISTEER_LAT_SCOPE_VM)
		return -EINVAL;

	mutex_lock(&lat_lock);
	for (i = 0; i < nr_pids && lat_pids[i] != req->pid; i++)
		;
	switch (req->op) {
	case PISTEER_LAT_ENABLE:
		if (req->scope == PISTEER_LAT_SCOPE_VM && i == nr_pids &&
		    nr_pids == MAX_VMS) {
			ret = -ENOSPC;
			break;
		}
		if (!probes_on) {
			ret = register_probes();
			if (ret)
				break;
			probes_on = true;
		}
		if (req->scope == PISTEER_LAT_SCOPE_ALL)
			lat_all = true;
		else if (i == nr_pids)
			lat_pids[nr_pids++] = req->pid;
		WRITE_ONCE(lat_active, true);
		break;
	case PISTEER_LAT_DISABLE:
		if (req->scope == PISTEER_LAT_SCOPE_VM) {
			if (i == nr_pids) {
				ret = -ENOENT;
				break;
			}
			lat_pids[i] = lat_pids[--nr_pids];
		}
		if (req->scope == PISTEER_LAT_SCOPE_ALL || (!lat_all && !nr_pids))
			stop_locked();
		/* else the caller's rescan drops this VM's vectors */
		break;
	case PISTEER_LAT_RESET:
		if (req->scope == PISTEER_LAT_SCOPE_VM && !pid_sampled(req->pid)) {
			ret = -ENOENT;
			break;
		}
		list_for_each_entry(st, &stats_list, link)
			if (req->scope == PISTEER_LAT_SCOPE_ALL ||
			    st->id.vm_pid == req->pid)
				zero_stats(st);
		collect(true, req->pid);
		break;
	}
	mutex_unlock(&lat_lock);
	return ret;
}

static bool lat_matches(const struct pisteer_lat_read *req,
			const struct pisteer_lat_vector *e)
{
	struct pst_match want = { req->pid, req->pci_seg, req->pci_bus, req->pci_devfn };
	struct pst_match have = { e->vm_pid, e->pci_seg, e->pci_bus, e->pci_devfn };

	return pisteer_filter_match(req->flags, &want, &have);
}

/**
 * pisteer_lat_read() - copy the samples that match @req
 * @req: the validated request; count, state, nr_vms, dropped filled in
 * @out: set to a kvmalloc'ed array of the matching vectors (pst_kvfree() it)
 *
 * Return: 0 or -ENOMEM.
 */
int pisteer_lat_read(struct pisteer_lat_read *req,
		     struct pisteer_lat_vector **out)
{
	struct pisteer_lat_vector *v;
	struct lat_stats *st;
	unsigned int n = 0, b;

	*out = NULL;
	mutex_lock(&lat_lock);
	v = pst_kvcalloc(max(nr_stats, 1U), sizeof(*v), GFP_KERNEL);
	if (!v) {
		mutex_unlock(&lat_lock);
		return -ENOMEM;
	}
	list_for_each_entry(st, &stats_list, link) {
		struct pisteer_lat_vector *e = &v[n];

		if (!lat_matches(req, &st->id))
			continue;
		*e = st->id;
		if (!st->in_table)
			e->flags |= PISTEER_LAT_F_GONE;
		e->count = atomic64_read(&st->count);
		e->coalesced = atomic64_read(&st->coalesced);
		e->sum_ns = atomic64_read(&st->sum);
		e->min_ns = e->count ? atomic64_read(&st->min) : 0;
		e->max_ns = atomic64_read(&st->max);
		for (b = 0; b < PISTEER_LAT_BUCKETS; b++)
			e->hist[b] = atomic64_read(&st->hist[b]);
		n++;
	}
	req->count = n;
	req->state = (lat_all ? PISTEER_LAT_S_ALL : 0) |
		     (probes_on ? PISTEER_LAT_S_PROBES : 0);
	req->nr_vms = nr_pids;
	req->dropped = dropped;
	mutex_unlock(&lat_lock);
	*out = v;
	return 0;
}

/* How many lat_stats and lat_vcpu objects exist now. */
void pisteer_lat_counts(unsigned int *stats, unsigned int *vcpus)
{
	mutex_lock(&lat_lock);
	*stats = nr_stats;
	*vcpus = nr_vcpus;
	mutex_unlock(&lat_lock);
}

/* Module unload: unregister the probes, free everything. */
void pisteer_lat_exit(void)
{
	mutex_lock(&lat_lock);
	stop_locked();
	mutex_unlock(&lat_lock);
}
