// SPDX-License-Identifier: GPL-2.0
/*
 * Target vCPU: which vCPU a guest MSI names, by the x86 APIC rules, from
 * what a module can see of KVM: each vCPU's vcpu_id and its APIC base MSR.
 *
 * KVM resets every vCPU's APIC ID to its vcpu_id.  An x2APIC ID cannot be
 * changed and fixes the logical ID (cluster = ID >> 4 in bits 31:16, bit
 * ID & 15 below); an xAPIC ID can be rewritten by the guest (Linux never
 * does; KVM then stops using its fast APIC map as well) and an xAPIC
 * logical ID is whatever the guest wrote to its LDR and DFR, which only
 * KVM's private APIC state holds: such a destination is reported as
 * unknown, never guessed.  KVM's own kvm_intr_is_single_vcpu() says the
 * same for the other cases but is exported to kvm_intel/kvm_amd only from
 * 6.18 on.
 *
 * Lowest-priority delivery to several vCPUs goes to one of them: with
 * KVM's default vector hashing the (vector mod n)-th candidate in APIC ID
 * order, which is what KVM posts to as well.
 */
#include <linux/bitops.h>
#include <linux/kvm_host.h>
#include <linux/msi.h>
#include <linux/pisteer.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>

#include "pisteer.h"

#define XAPIC_BROADCAST		0xff
#define X2APIC_BROADCAST	0xffffffffU
#define DM_FIXED		0	/* MSI data delivery mode field */
#define DM_LOWEST		1

static bool vcpu_x2apic(const struct kvm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->arch.apic_base) & X2APIC_ENABLE;
}

static bool vcpu_apic_enabled(const struct kvm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->arch.apic_base) & MSR_IA32_APICBASE_ENABLE;
}

/* The enabled x2APIC vCPU that bit @b of logical destination @dest names. */
static struct kvm_vcpu *cluster_vcpu(struct kvm *kvm, u32 dest,
				     unsigned int b)
{
	struct kvm_vcpu *vcpu = kvm_get_vcpu_by_id(kvm, (dest >> 16) * 16 + b);

	return vcpu && vcpu_apic_enabled(vcpu) && vcpu_x2apic(vcpu) ? vcpu : NULL;
}

/**
 * pst_msi_dest_id() - the destination APIC ID of a guest MSI
 * @lo: MSI address, low 32 bits
 * @hi: MSI address, high 32 bits
 * @x2apic_format: the VM's KVM_CAP_X2APIC_API MSI format (bits 31:8 of
 *	the ID in the high address)
 *
 * Return: the destination ID, as KVM decodes it.
 */
u32 pst_msi_dest_id(u32 lo, u32 hi, bool x2apic_format)
{
	u32 dest = (lo >> 12) & 0xff;

	if (x2apic_format)
		dest |= hi & 0xffffff00;
	return dest;
}

/**
 * pst_msi_target() - the vCPU a guest MSI is delivered to
 * @kvm: the VM (referenced by the caller)
 * @m: the MSI, decoded
 * @out: set to the target vCPU when there is one
 *
 * Return: PST_TARGET_ONE (@out set, @m->how says how), PST_TARGET_SEVERAL
 * (broadcast or several fixed destinations), PST_TARGET_NONE (no vCPU has
 * that ID), or PST_TARGET_UNKNOWN (@m->why says why).
 */
enum pst_target pst_msi_target(struct kvm *kvm, struct pst_msi *m,
			       struct kvm_vcpu **out)
{
	bool x2 = kvm->arch.x2apic_format;
	unsigned int b, n = 0, pick, total;
	struct kvm_vcpu *vcpu;
	unsigned long i;

	*out = NULL;
	m->how = PISTEER_TARGET_NONE;
	m->why = PISTEER_TARGET_UNK_NONE;
	if (m->dest == (x2 ? X2APIC_BROADCAST : XAPIC_BROADCAST))
		return PST_TARGET_SEVERAL;

	if (!m->logical) {
		kvm_for_each_vcpu(i, vcpu, kvm) {
			if (vcpu->vcpu_id == m->dest && vcpu_apic_enabled(vcpu)) {
				*out = vcpu;
				m->how = PISTEER_TARGET_BY_APIC_ID;
				return PST_TARGET_ONE;
			}
		}
		return PST_TARGET_NONE;
	}

	/* A vCPU whose logical ID the guest wrote makes the answer unknown. */
	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (vcpu_apic_enabled(vcpu) && !vcpu_x2apic(vcpu)) {
			m->why = PISTEER_TARGET_UNK_XAPIC_LOGICAL;
			return PST_TARGET_UNKNOWN;
		}
	}
	/* x2APIC: bit b of cluster c is APIC ID c * 16 + b. */
	for (b = 0; b < 16; b++)
		if ((m->dest & BIT(b)) && cluster_vcpu(kvm, m->dest, b))
			n++;
	if (!n)
		return PST_TARGET_NONE;
	if (n > 1 && m->delivery_mode != DM_LOWEST)
		return PST_TARGET_SEVERAL;
	/* kvm_vector_to_index(): the (vector mod n)-th, in APIC ID order. */
	total = n;
	pick = m->vector % total;
	for (b = 0, n = 0; b < 16; b++) {
		vcpu = (m->dest & BIT(b)) ? cluster_vcpu(kvm, m->dest, b) : NULL;
		if (vcpu && n++ == pick) {
			*out = vcpu;
			m->how = total > 1 ? PISTEER_TARGET_BY_VECTOR_HASH :
					     PISTEER_TARGET_BY_X2APIC_LDR;
			return PST_TARGET_ONE;
		}
	}
	return PST_TARGET_SEVERAL;
}

/* Only fixed and lowest-priority interrupts can be posted. */
bool pst_msi_postable(const struct pst_msi *m)
{
	return m->delivery_mode == DM_FIXED || m->delivery_mode == DM_LOWEST;
}
