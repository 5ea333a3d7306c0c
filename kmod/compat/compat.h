/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer: the one place for what differs between the supported kernels
 * (Debian's 6.1 and 6.12) and for the kernel-internal declarations pisteer
 * relies on that no public header carries.  Everything else in kmod/ is
 * written against interfaces common to both.
 */
#ifndef PISTEER_COMPAT_H
#define PISTEER_COMPAT_H

#include <linux/version.h>

/*
 * enable_apicv is exported by kvm.ko (EXPORT_SYMBOL_GPL in x86.c, both
 * kernels) but declared only in arch/x86/kvm/x86.h, which is not shipped
 * with the headers.  kvm_intel and kvm_amd set it: on AMD it mirrors avic.
 */
extern bool enable_apicv;

/*
 * The IOMMU's interrupt-posting capability.  Both kernels declare
 * irq_remapping_cap() in asm/irq_remapping.h; without CONFIG_IRQ_REMAP the
 * stub there says no.
 */
#include <asm/irq_remapping.h>

static inline bool pisteer_iommu_can_post(void)
{
	return irq_remapping_cap(IRQ_POSTING_CAP);
}

/*
 * "No shorthand" in an ICR/kvm_lapic_irq: asm/apicdef.h has it in 6.12,
 * 6.1 only in the private arch/x86/kvm/lapic.h.
 */
#include <asm/apicdef.h>
#ifndef APIC_DEST_NOSHORT
#define APIC_DEST_NOSHORT	0x0
#endif

#endif /* PISTEER_COMPAT_H */
