/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer guest companion: the one place for kernel-version differences.
 *
 * The module builds for every Debian kernel generation a guest runs:
 * bookworm's 6.1 and 6.12 and the 7.x of trixie-backports.  Each interface
 * that changed between them has one small helper here, named after the
 * mechanism; the rest of guest/ calls the helper and reads as if there were
 * one kernel.
 */
#ifndef PISTEER_GUEST_COMPAT_H
#define PISTEER_GUEST_COMPAT_H

#include <linux/device.h>
#include <linux/irqdesc.h>
#include <linux/kobject.h>
#include <linux/msi.h>
#include <linux/sysfs.h>
#include <linux/version.h>

/*
 * True when building for kernel @maj.@min or later.  Interfaces change at
 * a release (major.minor), so the sublevel does not count; Debian's stable
 * updates keep an interface within a release.
 */
#define PG_KERNEL_AT_LEAST(maj, min)					\
	(KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0) >= \
	 KERNEL_VERSION(maj, min, 0))

/*
 * MSI descriptor lock of a device.  While it is held the device's MSI
 * descriptors, and so its vectors, cannot be freed or reallocated.
 *
 * 6.15 ("genirq/msi: Rename msi_[un]lock_descs()") left only
 * guard(msi_descs_lock), a scoped guard whose constructor and destructor
 * are __msi_lock_descs() and __msi_unlock_descs().  The module holds the
 * lock from pg_queue_lock() to pg_queue_unlock(), which a scoped guard
 * cannot span, so it calls the two functions the guard is made of.
 */
#if PG_KERNEL_AT_LEAST(6, 15)
static inline void pg_msi_lock_descs(struct device *dev)
{
	__msi_lock_descs(dev);
}

static inline void pg_msi_unlock_descs(struct device *dev)
{
	__msi_unlock_descs(dev);
}
#else
static inline void pg_msi_lock_descs(struct device *dev)
{
	msi_lock_descs(dev);
}

static inline void pg_msi_unlock_descs(struct device *dev)
{
	msi_unlock_descs(dev);
}
#endif

/*
 * Binary sysfs attributes.  6.16 ("sysfs: constify bin_attribute argument
 * of bin_attribute::read/write()", "sysfs: constify
 * attribute_group::bin_attrs") made the attribute a read callback gets,
 * and the attributes a group lists, const.  Before 6.16 the non-const
 * forms are the ones every kernel has (6.13 to 6.15 also offer const
 * variants under other names, read_new and bin_attrs_new).
 *
 * PG_BIN_ATTR_CONST qualifies a struct bin_attribute wherever the kernel
 * wants it const: the attribute itself, the read callback's argument, and
 * the NULL-terminated list of an attribute group (its elements and the
 * pointers in it).
 */
#if PG_KERNEL_AT_LEAST(6, 16)
#define PG_BIN_ATTR_CONST	const
#else
#define PG_BIN_ATTR_CONST
#endif

/*
 * A reference on an IRQ descriptor.  When a driver frees a vector,
 * free_desc() drops the descriptor's own reference on its kobject after
 * an RCU grace period; the memory, with the per-CPU counts, goes with the
 * last reference (irq_kobj_release()).  6.1 to 7.3 alike.  Holding one
 * keeps the address from being given to a vector allocated later, so an
 * equal pointer means the same vector, not a new one with the same IRQ
 * number; and the counts of a freed vector stay readable.  Only the
 * sparse IRQ descriptors of CONFIG_SPARSE_IRQ (every x86_64 distribution
 * kernel) are reference counted.
 */
#ifndef CONFIG_SPARSE_IRQ
#error "pisteer_guest needs CONFIG_SPARSE_IRQ"
#endif

static inline void pg_irq_desc_hold(struct irq_desc *desc)
{
	kobject_get(&desc->kobj);
}

static inline void pg_irq_desc_put(struct irq_desc *desc)
{
	kobject_put(&desc->kobj);
}

#endif /* PISTEER_GUEST_COMPAT_H */
