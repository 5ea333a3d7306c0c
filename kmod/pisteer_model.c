// SPDX-License-Identifier: GPL-2.0
/*
 * The model: the records of the passthrough vectors as the last scan found
 * them (pisteer_model.h).  Each scan commits its records here; what is
 * new, changed or gone since the previous commit is emitted as
 * pisteer:vector_add, vector_update and vector_del.  The ioctls and
 * debugfs copy out of the records, through pst_vec_export().
 *
 * Records are kept sorted by key (VM pid, start, fd, host IRQ), so a
 * commit's diff is one merge of two sorted arrays.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pisteer.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pisteer.h"
#include "pisteer_model.h"

#define CREATE_TRACE_POINTS
#include "pisteer_trace.h"

static DEFINE_MUTEX(model_lock);
static struct pst_vec *recs;
static unsigned int nr_recs;

static int cmp_key(const struct pst_vec *a, const struct pst_vec *b)
{
	if (a->vm.pid != b->vm.pid)
		return a->vm.pid < b->vm.pid ? -1 : 1;
	if (a->vm.start != b->vm.start)
		return a->vm.start < b->vm.start ? -1 : 1;
	if (a->vm.fd != b->vm.fd)
		return a->vm.fd < b->vm.fd ? -1 : 1;
	if (a->host.irq != b->host.irq)
		return a->host.irq < b->host.irq ? -1 : 1;
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	return cmp_key(a, b);
}

/* Has anything an operator or the steering cares about changed? */
static bool changed(const struct pst_vec *a, const struct pst_vec *b)
{
	return a->route.gsi != b->route.gsi ||
	       a->route.addr_lo != b->route.addr_lo ||
	       a->route.addr_hi != b->route.addr_hi ||
	       a->route.data != b->route.data ||
	       a->route.paired != b->route.paired ||
	       a->target.vcpu != b->target.vcpu ||
	       a->dlv.mode != b->dlv.mode || a->dlv.reason != b->dlv.reason;
}

/**
 * pst_model_commit() - take a scan's records as the model
 * @vecs: the records, kvmalloc'ed; the model owns them from now on
 *	(NULL when @nr is 0)
 * @nr: their number
 *
 * Emits the tracepoints for the differences to the previous records.
 * Context: process, under the scan lock.
 */
void pst_model_commit(struct pst_vec *vecs, unsigned int nr)
{
	unsigned int i = 0, j = 0;
	int c;

	sort(vecs, nr, sizeof(*vecs), cmp_rec, NULL);
	mutex_lock(&model_lock);
	while (i < nr_recs || j < nr) {
		if (i == nr_recs)
			c = 1;
		else if (j == nr)
			c = -1;
		else
			c = cmp_key(&recs[i], &vecs[j]);
		if (c < 0) {
			trace_vector_del(&recs[i++]);
		} else if (c > 0) {
			trace_vector_add(&vecs[j++]);
		} else {
			if (changed(&recs[i], &vecs[j]))
				trace_vector_update(&vecs[j]);
			i++;
			j++;
		}
	}
	pst_kvfree(recs);
	recs = vecs;
	nr_recs = nr;
	mutex_unlock(&model_lock);
}

static u64 vec_flags(const struct pst_vec *v)
{
	u64 f = 0;

	if (v->route.paired)
		f |= PISTEER_VEC_F_PAIRED;
	if (v->route.logical)
		f |= PISTEER_VEC_F_DEST_LOGICAL;
	if (v->route.redir_hint)
		f |= PISTEER_VEC_F_REDIR_HINT;
	if (v->dlv.inferred)
		f |= PISTEER_VEC_F_MODE_INFERRED;
	if (v->host.ir == PST_IR_INTEL)
		f |= PISTEER_VEC_F_IR_INTEL;
	else if (v->host.ir == PST_IR_AMD)
		f |= PISTEER_VEC_F_IR_AMD;
	if (v->steer.by_default)
		f |= PISTEER_VEC_F_POLICY_DEFAULT;
	return f;
}

/**
 * pst_vec_export() - a record as the uapi reports it
 * @v: the record
 * @out: the uapi entry, overwritten whole
 *
 * The one place a struct pisteer_vector is written: no kernel or
 * physical address goes into it (@pi_addr stays 0).
 */
void pst_vec_export(const struct pst_vec *v, struct pisteer_vector *out)
{
	memset(out, 0, sizeof(*out));
	out->host_irq = v->host.irq;
	out->pci_seg = v->host.dev.pci_seg;
	out->pci_bus = v->host.dev.pci_bus;
	out->pci_devfn = v->host.dev.pci_devfn;
	out->irq_type = v->host.dev.irq_type;
	out->index = v->host.dev.index;
	out->irq_effective_cpu = v->host.effective_cpu;
	bitmap_to_arr64(out->irq_affinity, v->host.affinity, PST_AFFINITY_BITS);

	out->vm_pid = v->vm.pid;
	out->vm_fd = v->vm.fd;
	out->vm_start = v->vm.start;

	out->gsi = v->route.gsi;
	out->msi_addr_lo = v->route.addr_lo;
	out->msi_addr_hi = v->route.addr_hi;
	out->msi_data = v->route.data;
	out->dest_id = v->route.dest_id;
	out->guest_vector = v->route.vector;
	out->delivery_mode = v->route.delivery_mode;

	out->vcpu = v->target.vcpu;
	out->vcpu_tid = v->target.tid;
	out->vcpu_pcpu = v->target.pcpu;
	out->vcpu_pinned_cpu = v->target.pinned_cpu;
	out->vcpu_nr_allowed = v->target.nr_allowed;
	out->target_how = v->target.how;
	out->target_why = v->target.why;

	out->mode = v->dlv.mode;
	out->reason = v->dlv.reason;
	out->pi_flags = v->dlv.pi_flags;
	out->pi_ndst = v->dlv.pi_ndst;
	out->pi_ndst_expected = v->dlv.pi_ndst_expected;
	out->pi_ga_tag = v->dlv.pi_ga_tag;
	if (v->target.unknown)
		out->unknown |= PISTEER_UNK_TARGET;
	if (v->dlv.apicv_unknown)
		out->unknown |= PISTEER_UNK_APICV;
	out->flags = vec_flags(v);

	out->policy = v->steer.policy;
	out->policy_applied = v->steer.applied;
	out->policy_why = v->steer.why;
	out->steer_cpu = v->steer.cpu;
	out->steer_moves = v->steer.moves;
	out->steer_overridden = v->steer.overridden;
}

/**
 * pst_model_export() - copy the records that match a filter out of the model
 * @flags: PISTEER_LIST_F_* of the filter (0: all)
 * @want: the filter's values (unread, may be NULL, when @flags is 0)
 * @out: set to a kvmalloc'ed array (NULL when none matches); pst_kvfree() it
 * @nr: set to its number of entries
 *
 * Return: 0 or -ENOMEM.
 */
int pst_model_export(u32 flags, const struct pst_match *want,
		     struct pisteer_vector **out, unsigned int *nr)
{
	struct pisteer_vector *vecs = NULL;
	unsigned int i, n = 0;

	mutex_lock(&model_lock);
	if (nr_recs) {
		vecs = pst_kvmalloc_array(nr_recs, sizeof(*vecs), GFP_KERNEL);
		if (!vecs) {
			mutex_unlock(&model_lock);
			return -ENOMEM;
		}
	}
	for (i = 0; i < nr_recs; i++) {
		const struct pst_vec *v = &recs[i];
		struct pst_match have = {
			.pid = v->vm.pid,
			.pci_seg = v->host.dev.pci_seg,
			.pci_bus = v->host.dev.pci_bus,
			.pci_devfn = v->host.dev.pci_devfn,
		};

		if (pisteer_filter_match(flags, want, &have))
			pst_vec_export(v, &vecs[n++]);
	}
	mutex_unlock(&model_lock);
	if (!n) {
		pst_kvfree(vecs);
		vecs = NULL;
	}
	*out = vecs;
	*nr = n;
	return 0;
}

/* How many records the model holds now. */
unsigned int pst_model_count(void)
{
	unsigned int nr;

	mutex_lock(&model_lock);
	nr = nr_recs;
	mutex_unlock(&model_lock);
	return nr;
}

/* For unloading: the records go without tracepoints. */
void pst_model_exit(void)
{
	mutex_lock(&model_lock);
	pst_kvfree(recs);
	recs = NULL;
	nr_recs = 0;
	mutex_unlock(&model_lock);
}
