// SPDX-License-Identifier: GPL-2.0
/*
 * The VM cache: the VMs of the last walk of every open file of the host.
 *
 * Finding the VMs is the costly part of a scan (it visits every file of
 * every process), and while a follow policy exists a scan runs whenever a
 * followed vCPU thread moves.  Those rescans only look again at where vCPU threads
 * run; which VM feeds which vector can only change through the functions
 * the events probe (KVM_IRQFD, KVM_SET_GSI_ROUTING, the VM file's release,
 * VFIO_DEVICE_SET_IRQS), and each of them marks the cache stale.  So a
 * periodic rescan reuses the cached VMs unless the cache is stale or older
 * than VMCACHE_MAX_AGE: what can change unseen is only who holds a VM
 * file (a fork, an fd passed on), and that shows within that age.
 *
 * The cache holds a reference on each VM's struct kvm, so a VM that exits
 * stays valid (not running: its file is gone) until the rescan its
 * release triggers drops it, 20 ms later, or at the latest the walk
 * VMCACHE_MAX_AGE brings.  It exists only while a policy that follows
 * exists (nothing else rescans periodically): a walk without one, a scan
 * that finds no VFIO vector, the rescan after the last such policy went,
 * and unloading drop it.  Everything here runs under the scan lock of
 * pisteer_discover.c.
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/kvm_host.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/seq_file.h>

#include "pisteer.h"

#define VMCACHE_MAX_AGE	HZ

static struct pisteer_vm_ref *cached;
static int nr_cached;
static bool valid;
static unsigned long stored_at;
static atomic_t stale = ATOMIC_INIT(1);

/* How scans went, for debugfs (atomic: read without the scan lock). */
static atomic64_t nr_walks, nr_reuses, walk_ns, reuse_ns;

/**
 * pisteer_vmcache_invalidate() - the next rescan must walk the files again
 *
 * Callable from any context (the event probes).
 */
void pisteer_vmcache_invalidate(void)
{
	atomic_set(&stale, 1);
}

/**
 * pisteer_vmcache_walk_starts() - a walk of every file begins
 *
 * Clears the stale mark first, so that an event during the walk marks it
 * again and the walk's result is not taken for newer than it is.
 */
void pisteer_vmcache_walk_starts(void)
{
	atomic_set(&stale, 0);
}

/**
 * pisteer_vmcache_drop() - forget the cached VMs, dropping the references
 */
void pisteer_vmcache_drop(void)
{
	while (nr_cached > 0)
		pst_vm_ref_put(&cached[--nr_cached]);
	pst_kvfree(cached);
	cached = NULL;
	valid = false;
}

/**
 * pisteer_vmcache_store() - keep a copy of what a walk found
 * @vms: the VMs, each referenced by the caller (who keeps its references)
 * @nr: how many
 *
 * On allocation failure nothing is cached and the next rescan walks.
 */
void pisteer_vmcache_store(const struct pisteer_vm_ref *vms, int nr)
{
	int i;

	pisteer_vmcache_drop();
	if (nr) {
		cached = pst_kvcalloc(nr, sizeof(*cached), GFP_KERNEL);
		if (!cached)
			return;
	}
	for (i = 0; i < nr; i++) {
		cached[i] = vms[i];
		pst_vm_ref_dup(&cached[i]);
	}
	nr_cached = nr;
	valid = true;
	stored_at = jiffies;
}

/**
 * pisteer_vmcache_load() - the cached VMs, if they may serve a rescan
 * @out: set to a new array (pst_kvfree() it) of the VMs, each referenced
 *	for the caller (drop with pst_vm_ref_put())
 *
 * Return: their number, -EAGAIN when the cache is stale, old or empty (the
 * caller walks), or -ENOMEM.
 */
int pisteer_vmcache_load(struct pisteer_vm_ref **out)
{
	struct pisteer_vm_ref *c;
	int i;

	if (!valid || atomic_read(&stale) ||
	    time_after(jiffies, stored_at + VMCACHE_MAX_AGE))
		return -EAGAIN;
	c = pst_kvcalloc(nr_cached ? nr_cached : 1, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	for (i = 0; i < nr_cached; i++) {
		c[i] = cached[i];
		pst_vm_ref_dup(&c[i]);
	}
	*out = c;
	return nr_cached;
}

/**
 * pisteer_vmcache_account() - count one scan and its duration
 * @walked: it walked every file (else it reused the cache)
 * @ns: how long the whole scan took
 */
void pisteer_vmcache_account(bool walked, u64 ns)
{
	atomic64_inc(walked ? &nr_walks : &nr_reuses);
	atomic64_add(ns, walked ? &walk_ns : &reuse_ns);
}

/**
 * pisteer_vmcache_show() - the scan counts, for debugfs
 * @m: the seq_file
 */
void pisteer_vmcache_show(struct seq_file *m)
{
	seq_printf(m, "walks %lld\nwalk_ns %lld\nreuses %lld\nreuse_ns %lld\n",
		   (long long)atomic64_read(&nr_walks),
		   (long long)atomic64_read(&walk_ns),
		   (long long)atomic64_read(&nr_reuses),
		   (long long)atomic64_read(&reuse_ns));
}
