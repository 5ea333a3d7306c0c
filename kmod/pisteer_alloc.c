// SPDX-License-Identifier: GPL-2.0
/*
 * Counting what the module holds.  Every heap object of the module is
 * allocated and freed through these helpers, and every reference it takes
 * on a struct kvm is taken and dropped through them, so that the number
 * live of each kind can be read at /sys/kernel/debug/pisteer/allocs.  With
 * no VM, no policy and latency sampling off, every count is 0; a count that
 * grows over VM start/stop cycles is a leak.
 *
 * Objects are counted, not bytes: kvfree() is not told the size, and
 * storing it beside each object would change what is measured.  kmalloc
 * and kvmalloc objects are counted apart, so that freeing one with the
 * other's function shows as two counts that do not return to 0.  A
 * cpumask_var_t counts as one object whether or not the kernel keeps it
 * off the stack (CONFIG_CPUMASK_OFFSTACK).
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pisteer.h"

static atomic_long_t live[PST_NR_COUNTS];

static const char * const names[PST_NR_COUNTS] = {
	[PST_KMALLOC] = "kmalloc",
	[PST_KVMALLOC] = "kvmalloc",
	[PST_CPUMASK] = "cpumask",
	[PST_KVM_REF] = "kvm_refs",
};

void *pst_kzalloc(size_t size, gfp_t gfp)
{
	void *p = kzalloc(size, gfp);

	if (p)
		atomic_long_inc(&live[PST_KMALLOC]);
	return p;
}

void pst_kfree(const void *p)
{
	if (!p)
		return;
	atomic_long_dec(&live[PST_KMALLOC]);
	kfree(p);
}

void *pst_kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	void *p = kvcalloc(n, size, gfp);

	if (p)
		atomic_long_inc(&live[PST_KVMALLOC]);
	return p;
}

void *pst_kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	void *p = kvmalloc_array(n, size, gfp);

	if (p)
		atomic_long_inc(&live[PST_KVMALLOC]);
	return p;
}

void pst_kvfree(const void *p)
{
	if (!p)
		return;
	atomic_long_dec(&live[PST_KVMALLOC]);
	kvfree(p);
}

bool pst_zalloc_cpumask_var(cpumask_var_t *mask, gfp_t gfp)
{
	if (!zalloc_cpumask_var(mask, gfp))
		return false;
	atomic_long_inc(&live[PST_CPUMASK]);
	return true;
}

void pst_free_cpumask_var(cpumask_var_t mask)
{
	atomic_long_dec(&live[PST_CPUMASK]);
	free_cpumask_var(mask);
}

/**
 * pst_vm_ref_take() - reference a VM found in an fd table
 * @r: filled in (kvm, vendor); pid and fd are the caller's
 * @kvm: the VM, whose file is still in the fd table (it has users)
 * @vendor: its vendor module
 *
 * Context: any (the fd table lock is held).
 * Return: false when the vendor module is going away.
 */
bool pst_vm_ref_take(struct pisteer_vm_ref *r, struct kvm *kvm,
		     struct module *vendor)
{
	if (!try_module_get(vendor))
		return false;
	kvm_get_kvm(kvm);
	atomic_long_inc(&live[PST_KVM_REF]);
	r->kvm = kvm;
	r->vendor = vendor;
	return true;
}

/* Another reference on a VM already referenced through @r. */
void pst_vm_ref_dup(const struct pisteer_vm_ref *r)
{
	__module_get(r->vendor);
	kvm_get_kvm(r->kvm);
	atomic_long_inc(&live[PST_KVM_REF]);
}

void pst_vm_ref_put(const struct pisteer_vm_ref *r)
{
	atomic_long_dec(&live[PST_KVM_REF]);
	kvm_put_kvm(r->kvm);
	module_put(r->vendor);
}

long pst_count(enum pst_count_kind kind)
{
	return atomic_long_read(&live[kind]);
}

const char *pst_count_name(enum pst_count_kind kind)
{
	return names[kind];
}
