/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recognising a VM file.  From 6.7 on KVM sets kvm_vm_fops.owner to the
 * vendor module (kvm_intel, kvm_amd); 6.1 leaves it NULL (seen in the rig:
 * an open VM file holds no reference on either module).  There the file is
 * KVM's when its release method is kvm_vm_release (by name, like VFIO's
 * handler), and whether APICv is on comes from the VM's own
 * APICV_INHIBIT_REASON_DISABLE bit, which 6.1's public header numbers and
 * KVM sets exactly when enable_apicv is off.
 */
#ifndef PISTEER_COMPAT_KVM_VM_H
#define PISTEER_COMPAT_KVM_VM_H

#include <linux/kvm_host.h>

#define PST_VM_FOPS_OWNED	PST_KERNEL_AT_LEAST(6, 7)

#if !PST_VM_FOPS_OWNED
/* APICv off for @kvm: its DISABLE inhibit, set at creation from enable_apicv. */
static inline bool pst_kvm_apicv_disabled(struct kvm *kvm)
{
	return test_bit(APICV_INHIBIT_REASON_DISABLE,
			&kvm->arch.apicv_inhibit_reasons);
}
#endif

#endif /* PISTEER_COMPAT_KVM_VM_H */
