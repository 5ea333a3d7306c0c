/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IOMMU's interrupt-posting capability: irq_remapping_cap() in
 * asm/irq_remapping.h on every supported kernel; without CONFIG_IRQ_REMAP
 * the stub there says no.
 */
#ifndef PISTEER_COMPAT_IOMMU_H
#define PISTEER_COMPAT_IOMMU_H

#include <asm/irq_remapping.h>

static inline bool pst_iommu_can_post(void)
{
	return irq_remapping_cap(IRQ_POSTING_CAP);
}

#endif /* PISTEER_COMPAT_IOMMU_H */
