// SPDX-License-Identifier: GPL-2.0
/*
 * Discovery: which VFIO MSI/MSI-X vectors feed which KVM VM, and how.
 *
 * The join key is the trigger eventfd.  VFIO requests each vector's host
 * IRQ with vfio_msihandler() and the eventfd_ctx as dev_id; KVM's irqfd
 * keeps the same eventfd_ctx.  The irq-bypass pairing uses it as token too,
 * but is not relied on: 6.12 registers no bypass consumer unless the host
 * can post, which is exactly where steering matters most.
 *
 * A scan, in three steps with no lock held across them:
 *  1. host IRQs: every action whose handler is vfio_msihandler gives
 *     (host IRQ, device, index, eventfd pointer, affinity);
 *  2. VMs: the VM set (pisteer_vmset.c), learnt from events, each taken
 *     with a reference on its struct kvm and its vendor module while its
 *     file is still in the fd table, so a VM that exits meanwhile stays
 *     valid until this scan drops the reference;
 *  3. per VM, its irqfds (under kvm->irqfds.lock) joined with step 1 on the
 *     eventfd pointer, then guest MSI, target vCPU (pisteer_target.c) and
 *     delivery mode, by KVM's own rules from what KVM shows a module.
 * The eventfd pointers are compared, never dereferenced.  A VM or vector
 * that comes or goes during a scan shows in the next one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bsearch.h>
#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdesc.h>
#include <linux/kvm_host.h>
#include <linux/kvm_irqfd.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/pisteer.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pisteer.h"
#include "pisteer_irte.h"
#include "pisteer_model.h"
#include "compat/compat.h"

/* An irqfd of one VM that matched a VFIO vector, copied under the lock. */
struct irqfd_match {
	unsigned int vec;
	u32 gsi;
	bool paired;
	struct kvm_kernel_irq_routing_entry entry;
};

/**
 * pst_irq_ir_kind() - the interrupt-remapping unit an IRQ goes through
 * @data: the IRQ's top irq_data (may be NULL)
 *
 * By the irq chip in its hierarchy: the chip, not the CPU vendor, says how
 * the IOMMU posts (an AMD CPU can sit behind an emulated VT-d, as in the
 * rig).
 *
 * Return: %PST_IR_INTEL, %PST_IR_AMD or %PST_IR_NONE.
 */
enum pst_ir pst_irq_ir_kind(struct irq_data *data)
{
	for (; data; data = data->parent_data) {
		const char *name = data->chip ? data->chip->name : NULL;

		if (!name)
			continue;
		if (!strncmp(name, "INTEL-IR", 8))
			return PST_IR_INTEL;
		if (!strcmp(name, "AMD-IR"))
			return PST_IR_AMD;
	}
	return PST_IR_NONE;
}

static void copy_affinity(struct irq_data *data, struct pst_vec_host *h)
{
	const struct cpumask *aff = irq_data_get_affinity_mask(data);
	const struct cpumask *eff = irq_data_get_effective_affinity_mask(data);
	unsigned int cpu;

	h->effective_cpu = -1;
	if (eff && !cpumask_empty(eff))
		h->effective_cpu = cpumask_first(eff);
	if (!aff)
		return;
	for_each_cpu(cpu, aff)
		if (cpu < PST_AFFINITY_BITS)
			__set_bit(cpu, h->affinity);
}

/*
 * Visit the VFIO MSI/MSI-X actions of the host: count them when @vecs is
 * NULL, else fill the host side and trigger of up to @cap records.
 * Returns how many were seen.
 */
static unsigned int vfio_walk(struct pst_vec *vecs, unsigned int cap)
{
	unsigned int n = 0, nr = pst_nr_irqs();
	unsigned int irq;

	for (irq = 0; irq < nr; irq++) {
		struct irqaction *action;
		struct irq_data *data;
		struct irq_desc *desc;
		unsigned long flags;

		/* Descriptors are freed after an RCU grace period. */
		rcu_read_lock();
		data = irq_get_irq_data(irq);
		if (!data) {
			rcu_read_unlock();
			continue;
		}
		desc = irq_data_to_desc(data);
		raw_spin_lock_irqsave(&desc->lock, flags);
		for (action = desc->action; action; action = action->next) {
			struct pst_vfio_id id;
			struct pst_vec *v;

			if (!pst_vfio_action(action, &id))
				continue;
			if (vecs && n < cap) {
				v = &vecs[n];
				v->host.irq = irq;
				v->host.dev = id;
				v->host.ir = pst_irq_ir_kind(data);
				copy_affinity(data, &v->host);
				v->trigger = action->dev_id;
			}
			n++;
		}
		raw_spin_unlock_irqrestore(&desc->lock, flags);
		rcu_read_unlock();
	}
	return n;
}

static void put_vms(struct pisteer_vm_ref *vms, unsigned int nr)
{
	while (nr--)
		pst_vm_ref_put(&vms[nr]);
}

/* Host vectors by trigger pointer, for the irqfd join's binary search. */
static int cmp_trigger(const void *a, const void *b)
{
	const void *ta = ((const struct pst_vec *)a)->trigger;
	const void *tb = ((const struct pst_vec *)b)->trigger;

	return ta < tb ? -1 : ta > tb;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/*
 * Copy the irqfds of @kvm whose eventfd is one of @vecs (sorted by
 * trigger) into @m.  Under the VM's irqfd lock, with interrupts off: the
 * cost is the VM's irqfds times log(host vectors), nothing more.
 */
static unsigned int irqfd_collect(struct kvm *kvm, const struct pst_vec *vecs,
				  unsigned int nr_vecs, struct irqfd_match *m)
{
	struct kvm_kernel_irqfd *irqfd;
	const struct pst_vec *hit;
	struct pst_vec key;
	unsigned int n = 0;

	spin_lock_irq(&kvm->irqfds.lock);
	list_for_each_entry(irqfd, &kvm->irqfds.items, list) {
		key.trigger = irqfd->eventfd;
		hit = bsearch(&key, vecs, nr_vecs, sizeof(*vecs), cmp_trigger);
		/* KVM allows one irqfd per eventfd in a VM. */
		if (!hit || n == nr_vecs)
			continue;
		m[n].vec = hit - vecs;
		m[n].gsi = irqfd->gsi;
		m[n].paired = !!irqfd->producer;
		m[n].entry = irqfd->irq_entry;
		n++;
	}
	spin_unlock_irq(&kvm->irqfds.lock);
	return n;
}

static void fill_vcpu(struct kvm_vcpu *vcpu, struct pst_vec_target *v)
{
	struct task_struct *task;
	struct pid *pid;

	v->vcpu = vcpu->vcpu_idx;
	v->pcpu = READ_ONCE(vcpu->cpu);
	pid = pst_vcpu_get_pid(vcpu);
	if (!pid)
		return;
	v->tid = pid_nr(pid);
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	if (task) {
		/*
		 * The thread's CPU, not KVM's vcpu->cpu: a thread the scheduler
		 * just moved (the vCPU watch's event) has not loaded the vCPU
		 * on its new CPU yet.
		 */
		v->pcpu = task_cpu(task);
		v->nr_allowed = task->nr_cpus_allowed;
		if (task->nr_cpus_allowed == 1)
			v->pinned_cpu = cpumask_first(task->cpus_ptr);
	}
	rcu_read_unlock();
	put_pid(pid);
}

/*
 * The delivery mode KVM would choose for a vector, in the order KVM's
 * pi_update_irte checks: APICv, its inhibits, the MSI's kind and target,
 * the IOMMU, the bypass pairing.
 */
static void decide_mode(struct kvm *kvm, enum pst_apicv apicv,
			const struct irqfd_match *m, const struct pst_msi *msi,
			enum pst_target t, enum pst_ir ir,
			struct pst_vec_delivery *v)
{
	if (apicv == PST_APICV_UNKNOWN)
		v->apicv_unknown = true;
	if (apicv == PST_APICV_OFF)
		v->reason = PISTEER_REASON_NO_APICV;
	else if (apicv == PST_APICV_UNKNOWN)
		v->reason = PISTEER_REASON_APICV_UNKNOWN;
	/* VT-d posts regardless of the VM's inhibits (vmx_pi_update_irte). */
	else if (READ_ONCE(kvm->arch.apicv_inhibit_reasons) &&
		 ir != PST_IR_INTEL)
		v->reason = PISTEER_REASON_APICV_INHIBITED;
	else if (!pst_msi_postable(msi))
		v->reason = PISTEER_REASON_NOT_POSTABLE;
	else if (t == PST_TARGET_UNKNOWN)
		v->reason = PISTEER_REASON_TARGET_UNKNOWN;
	else if (t != PST_TARGET_ONE)
		v->reason = PISTEER_REASON_NOT_SINGLE_DEST;
	else if (!pst_iommu_can_post())
		v->reason = PISTEER_REASON_IOMMU_NO_POSTING;
	else if (!m->paired)
		v->reason = PISTEER_REASON_NOT_PAIRED;
	else
		v->mode = PISTEER_MODE_POSTED;
}

/*
 * Guest MSI, target vCPU and delivery mode of one joined record, whose
 * host side and VM are filled in.
 */
static void fill_guest(struct kvm *kvm, enum pst_apicv apicv,
		       const struct irqfd_match *m, struct pst_vec *v)
{
	const struct kvm_kernel_irq_routing_entry *e = &m->entry;
	struct pst_vec_route *r = &v->route;
	struct kvm_vcpu *vcpu = NULL;
	struct pst_msi msi = { };
	struct msi_msg msg;
	enum pst_target t;

	r->gsi = m->gsi;
	r->paired = m->paired;
	v->target.vcpu = -1;
	v->target.pcpu = -1;
	v->target.pinned_cpu = -1;
	v->dlv.mode = PISTEER_MODE_REMAPPED;
	v->dlv.inferred = true;
	if (e->type != KVM_IRQ_ROUTING_MSI) {
		v->dlv.mode = PISTEER_MODE_UNKNOWN;
		v->dlv.reason = PISTEER_REASON_NOT_MSI_ROUTE;
		return;
	}

	msg.address_lo = e->msi.address_lo;
	msg.address_hi = e->msi.address_hi;
	msg.data = e->msi.data;
	r->addr_lo = msg.address_lo;
	r->addr_hi = msg.address_hi;
	r->data = msg.data;
	r->dest_id = pst_msi_dest_id(msg.address_lo, msg.address_hi,
				     kvm->arch.x2apic_format);
	r->vector = msg.arch_data.vector;
	r->delivery_mode = msg.arch_data.delivery_mode;
	r->logical = msg.arch_addr_lo.dest_mode_logical;
	r->redir_hint = msg.arch_addr_lo.redirect_hint;

	msi.dest = r->dest_id;
	msi.logical = r->logical;
	msi.delivery_mode = r->delivery_mode;
	msi.vector = r->vector;
	t = pst_msi_target(kvm, &msi, &vcpu);
	v->target.how = msi.how;
	v->target.why = msi.why;
	v->target.unknown = t == PST_TARGET_UNKNOWN;
	if (t != PST_TARGET_ONE)
		vcpu = NULL;
	if (vcpu) {
		fill_vcpu(vcpu, &v->target);
		v->vcpu_id = vcpu;
	}
	decide_mode(kvm, apicv, m, &msi, t, v->host.ir, &v->dlv);

	/* What the IOMMU was actually told, when that has been seen. */
	pisteer_irte_apply(vcpu, v);
}

/* The growing result of a scan: its records. */
struct scan_out {
	struct pst_vec *vecs;
	unsigned int nr, cap;
};

static int append(struct scan_out *o, const struct pst_vec *v)
{
	if (o->nr == o->cap) {
		unsigned int ncap = o->cap ? o->cap * 2 : 16;
		struct pst_vec *n;

		n = pst_kvmalloc_array(ncap, sizeof(*n), GFP_KERNEL);
		if (!n)
			return -ENOMEM;
		if (o->nr)
			memcpy(n, o->vecs, o->nr * sizeof(*n));
		pst_kvfree(o->vecs);
		o->vecs = n;
		o->cap = ncap;
	}
	o->vecs[o->nr++] = *v;
	return 0;
}

static DEFINE_MUTEX(scan_lock);

/* Scans by what they are for: the scans file in debugfs shows them. */
static atomic64_t nr_reconciles, nr_reads;

/*
 * One scan: observe, steer if @reconcile (else only report the steering),
 * and commit the records to the model.
 */
static int scan(bool reconcile)
{
	struct irqfd_match *matches = NULL;
	struct scan_out o = { };
	struct pst_vec *vecs = NULL;
	struct pisteer_vm_ref *vms = NULL;
	unsigned int *irqs = NULL;
	unsigned int nr_vecs = 0, i, j, n;
	enum pst_apicv apicv = PST_APICV_UNKNOWN;
	int nr_vms = 0, ret = 0;
	bool walked = false;
	u64 t0;

	mutex_lock(&scan_lock);

	t0 = ktime_get_ns();
	/* Vectors may appear between counting and filling: leave room. */
	nr_vecs = vfio_walk(NULL, 0) + 16;
	vecs = pst_kvcalloc(nr_vecs, sizeof(*vecs), GFP_KERNEL);
	matches = pst_kvcalloc(nr_vecs, sizeof(*matches), GFP_KERNEL);
	irqs = pst_kvcalloc(nr_vecs, sizeof(*irqs), GFP_KERNEL);
	if (!vecs || !matches || !irqs) {
		ret = -ENOMEM;
		goto out;
	}
	nr_vecs = min(vfio_walk(vecs, nr_vecs), nr_vecs);
	for (i = 0; i < nr_vecs; i++)
		irqs[i] = vecs[i].host.irq;
	sort(irqs, nr_vecs, sizeof(*irqs), cmp_uint, NULL);
	sort(vecs, nr_vecs, sizeof(*vecs), cmp_trigger, NULL);
	/* Forget the IRTE facts of the IRQs VFIO no longer has. */
	pst_irte_store_sync(irqs, nr_vecs);

	/* Also without vectors: the set follows the events it was told of. */
	nr_vms = pisteer_vmset_get(&vms, &walked);
	if (nr_vms < 0) {
		ret = nr_vms;
		nr_vms = 0;
		goto out;
	}
	if (!nr_vecs)
		goto out;
	for (i = 0; i < nr_vms && !ret; i++) {
		/* A read-only parameter: one read per vendor module a scan. */
		if (!i || !vms[i].vendor || vms[i].vendor != vms[i - 1].vendor)
			apicv = pst_vm_apicv(vms[i].kvm, vms[i].vendor);
		n = irqfd_collect(vms[i].kvm, vecs, nr_vecs, matches);
		for (j = 0; j < n && !ret; j++) {
			struct pst_vec v = vecs[matches[j].vec];

			v.vm.pid = vms[i].pid;
			v.vm.start = vms[i].start;
			v.vm.fd = vms[i].fd;
			fill_guest(vms[i].kvm, apicv, &matches[j], &v);
			ret = append(&o, &v);
		}
	}
out:
	put_vms(vms, nr_vms);
	if (!ret) {
		if (reconcile) {
			pisteer_steer_apply(o.vecs, o.nr);
			atomic64_inc(&nr_reconciles);
		} else {
			pisteer_steer_report(o.vecs, o.nr);
			atomic64_inc(&nr_reads);
		}
		pisteer_lat_update(o.vecs, o.nr);
		/* The model owns the records from here. */
		pst_model_commit(o.vecs, o.nr);
		o.vecs = NULL;
	}
	pst_kvfree(o.vecs);
	pst_kvfree(vms);
	pst_kvfree(irqs);
	pst_kvfree(matches);
	pst_kvfree(vecs);
	if (!ret)
		pisteer_vmset_account(walked, ktime_get_ns() - t0);
	mutex_unlock(&scan_lock);
	return ret;
}

/**
 * pisteer_scan() - reconcile: find the passthrough vectors as they are now,
 *	steer them as their policies say and commit them to the model
 *
 * For writers only: a policy change, latency control, unloading, the
 * event rescans.
 *
 * Return: 0 or -ENOMEM (the model is then as before).
 */
int pisteer_scan(void)
{
	return scan(true);
}

/**
 * pisteer_observe() - find the passthrough vectors as they are now and
 *	commit them to the model, for readers
 *
 * Reports the policy and steering of each vector without changing any
 * IRQ: a read never steers (the list ioctl, debugfs).  The reader then
 * copies out of the model (pst_model_export()).
 *
 * Return: 0 or -ENOMEM (the model is then as before).
 */
int pisteer_observe(void)
{
	return scan(false);
}

/**
 * pisteer_scan_show() - how many scans reconciled and how many only read
 * @m: the debugfs scans file
 */
void pisteer_scan_show(struct seq_file *m)
{
	seq_printf(m, "reconciles %lld\nreads %lld\n",
		   (long long)atomic64_read(&nr_reconciles),
		   (long long)atomic64_read(&nr_reads));
}

/**
 * pisteer_scan_forget() - drop what scans keep between them (the VM set)
 *
 * For unloading.
 */
void pisteer_scan_forget(void)
{
	mutex_lock(&scan_lock);
	pisteer_vmset_drop();
	mutex_unlock(&scan_lock);
}
