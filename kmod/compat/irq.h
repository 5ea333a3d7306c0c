/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The number of IRQ descriptors: the nr_irqs variable until 6.12,
 * irq_get_nr_irqs() from 6.13 on.
 *
 * Holding a descriptor across a sleep: with CONFIG_SPARSE_IRQ (every
 * Debian x86 kernel) a descriptor is freed by the last put of its kobject,
 * the IRQ core's own put coming an RCU grace period after the number was
 * freed, so a reference taken under rcu_read_lock() while the number still
 * maps to it keeps its memory; without it descriptors are static.
 */
#ifndef PISTEER_COMPAT_IRQ_H
#define PISTEER_COMPAT_IRQ_H

#include <linux/irqdesc.h>
#include <linux/irqnr.h>
#include <linux/kobject.h>

static inline unsigned int pst_nr_irqs(void)
{
#if PST_KERNEL_AT_LEAST(6, 13)
	return irq_get_nr_irqs();
#else
	return nr_irqs;
#endif
}

/* Under rcu_read_lock(), @desc found by its number just now. */
static inline void pst_irq_desc_get(struct irq_desc *desc)
{
#ifdef CONFIG_SPARSE_IRQ
	kobject_get(&desc->kobj);
#endif
}

static inline void pst_irq_desc_put(struct irq_desc *desc)
{
#ifdef CONFIG_SPARSE_IRQ
	kobject_put(&desc->kobj);
#endif
}

#endif /* PISTEER_COMPAT_IRQ_H */
