// SPDX-License-Identifier: GPL-2.0
/*
 * Records: the passthrough vectors as the last scan saw them.  Each scan
 * hands its result here; what is new, changed or gone since the previous
 * one is emitted as pisteer:vector_add, vector_update, vector_del.  A
 * vector is keyed by its VM (pid, fd) and host IRQ.
 */
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pisteer.h>
#include <linux/slab.h>

#include "pisteer.h"

#define CREATE_TRACE_POINTS
#include "pisteer_trace.h"

static DEFINE_MUTEX(records_lock);
static struct pisteer_vector *last;
static unsigned int nr_last;

static bool same_key(const struct pisteer_vector *a,
		     const struct pisteer_vector *b)
{
	return a->vm_pid == b->vm_pid && a->vm_fd == b->vm_fd &&
	       a->host_irq == b->host_irq;
}

/* Has anything an operator or the steering cares about changed? */
static bool changed(const struct pisteer_vector *a,
		    const struct pisteer_vector *b)
{
	return a->gsi != b->gsi || a->msi_addr_lo != b->msi_addr_lo ||
	       a->msi_addr_hi != b->msi_addr_hi || a->msi_data != b->msi_data ||
	       a->vcpu != b->vcpu || a->mode != b->mode ||
	       a->reason != b->reason ||
	       (a->flags & PISTEER_VEC_F_PAIRED) != (b->flags & PISTEER_VEC_F_PAIRED);
}

static const struct pisteer_vector *find(const struct pisteer_vector *set,
					 unsigned int nr,
					 const struct pisteer_vector *v)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (same_key(&set[i], v))
			return &set[i];
	return NULL;
}

/**
 * pisteer_records_update() - take a scan's result as the current records
 * @now: the vectors found
 * @nr: their number
 *
 * Emits the tracepoints for the differences to the previous records.
 * If the copy cannot be allocated the previous records stay.
 */
void pisteer_records_update(const struct pisteer_vector *now, unsigned int nr)
{
	struct pisteer_vector *copy = NULL;
	const struct pisteer_vector *old;
	unsigned int i;

	if (nr) {
		copy = pst_kvmalloc_array(nr, sizeof(*copy), GFP_KERNEL);
		if (!copy)
			return;
		memcpy(copy, now, nr * sizeof(*copy));
	}

	mutex_lock(&records_lock);
	for (i = 0; i < nr; i++) {
		old = find(last, nr_last, &now[i]);
		if (!old)
			trace_vector_add(&now[i]);
		else if (changed(old, &now[i]))
			trace_vector_update(&now[i]);
	}
	for (i = 0; i < nr_last; i++)
		if (!find(now, nr, &last[i]))
			trace_vector_del(&last[i]);
	pst_kvfree(last);
	last = copy;
	nr_last = nr;
	mutex_unlock(&records_lock);
}

/* How many vectors the records hold now. */
unsigned int pisteer_records_count(void)
{
	unsigned int nr;

	mutex_lock(&records_lock);
	nr = nr_last;
	mutex_unlock(&records_lock);
	return nr;
}

void pisteer_records_exit(void)
{
	mutex_lock(&records_lock);
	pst_kvfree(last);
	last = NULL;
	nr_last = 0;
	mutex_unlock(&records_lock);
}
