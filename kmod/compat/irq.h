/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The number of IRQ descriptors: the nr_irqs variable until 6.12,
 * irq_get_nr_irqs() from 6.13 on.
 */
#ifndef PISTEER_COMPAT_IRQ_H
#define PISTEER_COMPAT_IRQ_H

#include <linux/irqnr.h>

static inline unsigned int pst_nr_irqs(void)
{
#if PST_KERNEL_AT_LEAST(6, 13)
	return irq_get_nr_irqs();
#else
	return nr_irqs;
#endif
}

#endif /* PISTEER_COMPAT_IRQ_H */
