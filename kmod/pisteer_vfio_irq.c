// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO's host IRQs: recognising them, and moving one only while it is still
 * the vector pisteer means.
 *
 * An IRQ number names a vector only as long as its owner keeps it: when
 * VFIO frees a vector (MSI-X disabled or resized, the device closed) the
 * number can go to another device at once.  So every affinity change
 * pisteer makes, including a restore, goes through pst_vfio_irq_move(),
 * which holds the descriptor's request_mutex (free_irq() and request_irq()
 * take it: the owner cannot change meanwhile), checks under the
 * descriptor's lock that an action of the number is still VFIO's handler
 * for the same device and index, refuses kernel-managed affinity, and only
 * then changes the affinity.
 *
 * Lock order: desc->request_mutex, then desc->lock (the IRQ core's own).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdesc.h>
#include <linux/kallsyms.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pisteer.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "pisteer.h"
#include "compat/compat.h"

/**
 * pst_symbol_is() - is @addr the start of the function named @name
 * @addr: a code address (may be NULL)
 * @name: a symbol name
 *
 * Context: process; sprint_symbol() walks kallsyms, so callers remember
 * what they found.
 * Return: true when kallsyms names @addr exactly "@name+0x0".
 */
bool pst_symbol_is(const void *addr, const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);

	if (!addr)
		return false;
	sprint_symbol(buf, (unsigned long)addr);
	return !strncmp(buf, name, len) && !strncmp(buf + len, "+0x0/", 5);
}

/*
 * Is @handler vfio_msihandler()?  The address found is remembered; an
 * action must also bear VFIO's name to count, so a stale address
 * (vfio_pci_core reloaded) cannot make another driver's IRQ a VFIO one.
 */
static bool is_vfio_handler(const void *handler)
{
	static const void *known;

	if (handler && handler == READ_ONCE(known))
		return true;
	if (!pst_symbol_is(handler, "vfio_msihandler"))
		return false;
	WRITE_ONCE(known, handler);
	return true;
}

/* Parse VFIO's IRQ name, "vfio-msix[3](0000:00:02.0)" or "vfio-msi[..](..)". */
static bool parse_vfio_name(const char *name, struct pst_vfio_id *id)
{
	unsigned int idx, seg, bus, dev, fn;
	const char *fmt;

	if (!name)
		return false;
	if (!strncmp(name, "vfio-msix[", 10)) {
		id->irq_type = PISTEER_IRQ_MSIX;
		fmt = "vfio-msix[%u](%x:%x:%x.%x)";
	} else if (!strncmp(name, "vfio-msi[", 9)) {
		id->irq_type = PISTEER_IRQ_MSI;
		fmt = "vfio-msi[%u](%x:%x:%x.%x)";
	} else {
		return false;
	}
	if (sscanf(name, fmt, &idx, &seg, &bus, &dev, &fn) != 5 ||
	    seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	id->index = idx;
	id->pci_seg = seg;
	id->pci_bus = bus;
	id->pci_devfn = PCI_DEVFN(dev, fn);
	return true;
}

/**
 * pst_vfio_action() - is @action one of VFIO's MSI/MSI-X vectors, and which
 * @action: an action of an IRQ descriptor, its lock held by the caller
 * @id: filled with the vector's device and index when it is
 *
 * Context: under the descriptor's lock; the first call may walk kallsyms.
 * Return: true for a vector VFIO requested with vfio_msihandler().
 */
bool pst_vfio_action(const struct irqaction *action, struct pst_vfio_id *id)
{
	return parse_vfio_name(action->name, id) && is_vfio_handler(action->handler);
}

/**
 * pst_vfio_id_equal() - are @a and @b the same VFIO vector
 * @a: a device and MSI/MSI-X index
 * @b: another
 *
 * Field by field: the struct has padding.
 * Return: true when device, kind and index are the same.
 */
bool pst_vfio_id_equal(const struct pst_vfio_id *a, const struct pst_vfio_id *b)
{
	return a->irq_type == b->irq_type && a->index == b->index &&
	       a->pci_seg == b->pci_seg && a->pci_bus == b->pci_bus &&
	       a->pci_devfn == b->pci_devfn;
}

/* The descriptor of @irq, referenced (pst_irq_desc_put()), or NULL. */
static struct irq_desc *desc_get(unsigned int irq)
{
	struct irq_data *data;
	struct irq_desc *desc = NULL;

	/* Descriptors are freed after an RCU grace period. */
	rcu_read_lock();
	data = irq_get_irq_data(irq);
	if (data) {
		desc = irq_data_to_desc(data);
		pst_irq_desc_get(desc);
	}
	rcu_read_unlock();
	return desc;
}

static bool desc_is(unsigned int irq, const struct irq_desc *desc)
{
	struct irq_data *data;
	bool same;

	rcu_read_lock();
	data = irq_get_irq_data(irq);
	same = data && irq_data_to_desc(data) == desc;
	rcu_read_unlock();
	return same;
}

/**
 * pst_vfio_irq_move() - set a VFIO vector's host IRQ affinity, if still its
 * @irq: the host IRQ number
 * @id: the VFIO vector the number must still belong to
 * @mask: the new affinity
 * @expect: when not NULL, change it only while the affinity is this
 * @before: when not NULL, set to the affinity just before the change
 *
 * Context: process, may sleep.  Takes desc->request_mutex, then desc->lock.
 * Return: 0; -ESTALE when @irq is no longer that vector (freed, or taken
 * by another device or index); -EPERM for kernel-managed affinity;
 * -EBUSY when the affinity is not @expect; else irq_set_affinity()'s
 * error.  Nothing is changed unless 0.
 */
int pst_vfio_irq_move(unsigned int irq, const struct pst_vfio_id *id,
		      const struct cpumask *mask, const struct cpumask *expect,
		      struct cpumask *before)
{
	struct irqaction *action;
	struct irq_desc *desc;
	struct pst_vfio_id seen;
	unsigned long flags;
	bool owned = false, managed = false, as_expected = true;
	int ret;

	desc = desc_get(irq);
	if (!desc)
		return -ESTALE;
	/* free_irq() and request_irq() take it: the owner stays as checked. */
	mutex_lock(&desc->request_mutex);
	if (!desc_is(irq, desc)) {
		ret = -ESTALE;
		goto out;
	}
	raw_spin_lock_irqsave(&desc->lock, flags);
	for (action = desc->action; action && !owned; action = action->next)
		owned = pst_vfio_action(action, &seen) && pst_vfio_id_equal(&seen, id);
	managed = irqd_affinity_is_managed(&desc->irq_data);
	if (expect)
		as_expected = cpumask_equal(expect,
					    irq_data_get_affinity_mask(&desc->irq_data));
	if (owned && !managed && before)
		cpumask_copy(before, irq_data_get_affinity_mask(&desc->irq_data));
	raw_spin_unlock_irqrestore(&desc->lock, flags);
	if (!owned) {
		ret = -ESTALE;
	} else if (managed) {
		ret = -EPERM;
	} else if (!as_expected) {
		ret = -EBUSY;
	} else {
		/* The affinity watch is not to take this change for another's. */
		pisteer_affwatch_own(irq);
		ret = irq_set_affinity(irq, mask);
		pisteer_affwatch_own(PST_NO_IRQ);
	}
out:
	mutex_unlock(&desc->request_mutex);
	pst_irq_desc_put(desc);
	return ret;
}
