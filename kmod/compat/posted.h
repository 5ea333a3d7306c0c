/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What KVM tells the IOMMU when it posts an interrupt, as pisteer's probes
 * see it.  6.17 reworked KVM's posted-interrupt code:
 *
 *  - irq_set_vcpu_affinity(irq, info): Intel's info is struct vcpu_data
 *    until 6.16 and struct intel_iommu_pi_data from 6.17 (both begin with
 *    pi_desc_addr); AMD's struct amd_iommu_pi_data had ga_tag, base and
 *    is_guest_mode, from 6.17 vapic_addr, ga_tag, cpu and is_guest_mode;
 *  - amd_iommu_update_ga(cpu, is_run, ir_data) became
 *    amd_iommu_update_ga(ir_data, cpu, ga_log_intr), IsRun set exactly
 *    when cpu (an APIC ID) is >= 0, and amd_iommu_activate_guest_mode()
 *    takes the same arguments and sets the destination too;
 *  - the kvm:kvm_pi_irte_update tracepoint moved to common x86 code, is
 *    emitted after the IOMMU accepted the change, and passes the vCPU (NULL
 *    when the IRTE went back to remapped) instead of vcpu_id and the
 *    descriptor address.
 */
#ifndef PISTEER_COMPAT_POSTED_H
#define PISTEER_COMPAT_POSTED_H

#include <linux/amd-iommu.h>
#include <linux/kprobes.h>
#include <linux/uaccess.h>
#include <asm/irq_remapping.h>
#include <asm/ptrace.h>

/* The posting request irq_set_vcpu_affinity() was given, decoded. */
struct pst_pi_req {
	bool guest_mode;	/* AMD: GA mode requested (Intel: always) */
	u64 addr;		/* PI descriptor (Intel), vAPIC page (AMD) */
	u32 ga_tag;		/* AMD only */
};

static inline bool pst_read_intel_pi(const void *info, struct pst_pi_req *r)
{
#if PST_KERNEL_AT_LEAST(6, 17)
	struct intel_iommu_pi_data pi;
#else
	struct vcpu_data pi;
#endif

	if (copy_from_kernel_nofault(&pi, info, sizeof(pi)))
		return false;
	r->guest_mode = true;
	r->addr = pi.pi_desc_addr;
	r->ga_tag = 0;
	return true;
}

static inline bool pst_read_amd_pi(const void *info, struct pst_pi_req *r)
{
	struct amd_iommu_pi_data pi;

	if (copy_from_kernel_nofault(&pi, info, sizeof(pi)))
		return false;
	r->guest_mode = pi.is_guest_mode;
	r->ga_tag = pi.ga_tag;
#if PST_KERNEL_AT_LEAST(6, 17)
	r->addr = pi.vapic_addr;
#else
	r->addr = pi.base;
#endif
	return true;
}

/* An AMD IRTE's IsRun and doorbell destination (-1: left as it was). */
struct pst_ga_update {
	const void *ir_data;
	int apic_id;
	bool is_run;
};

/* Arguments of amd_iommu_update_ga() at its entry. */
static inline void pst_read_update_ga(struct pt_regs *regs,
				      struct pst_ga_update *u)
{
#if PST_KERNEL_AT_LEAST(6, 17)
	u->ir_data = (const void *)regs_get_kernel_argument(regs, 0);
	u->apic_id = (int)regs_get_kernel_argument(regs, 1);
	u->is_run = u->apic_id >= 0;
#else
	u->apic_id = (int)regs_get_kernel_argument(regs, 0);
	u->is_run = regs_get_kernel_argument(regs, 1) & 1;
	u->ir_data = (const void *)regs_get_kernel_argument(regs, 2);
#endif
}

/*
 * amd_iommu_activate_guest_mode() also sets IsRun and the destination
 * from 6.17 on (same arguments as amd_iommu_update_ga()); before, it took
 * only ir_data and the destination came with a later update_ga.
 */
#define PST_HAVE_ACTIVATE_GA_DEST	PST_KERNEL_AT_LEAST(6, 17)

/*
 * kvm:kvm_pi_irte_update from 6.17 on: after the IOMMU accepted the IRTE
 * change, with the target vCPU or NULL (back to remapped).
 */
#define PST_HAVE_PI_IRTE_TP		PST_KERNEL_AT_LEAST(6, 17)

struct kvm_vcpu;

typedef void (*pst_pi_irte_tp_fn)(void *data, unsigned int host_irq,
				  struct kvm_vcpu *vcpu, unsigned int gsi,
				  unsigned int gvec, bool set);

#endif /* PISTEER_COMPAT_POSTED_H */
