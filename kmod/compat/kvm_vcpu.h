/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vCPU thread's pid: RCU-protected until 6.12, under vcpu->pid_lock
 * from 6.13 on.  Returns a reference (put_pid()) or NULL.
 */
#ifndef PISTEER_COMPAT_KVM_VCPU_H
#define PISTEER_COMPAT_KVM_VCPU_H

#include <linux/kvm_host.h>
#include <linux/pid.h>

static inline struct pid *pst_vcpu_get_pid(struct kvm_vcpu *vcpu)
{
	struct pid *pid;

#if PST_KERNEL_AT_LEAST(6, 13)
	read_lock(&vcpu->pid_lock);
	pid = get_pid(vcpu->pid);
	read_unlock(&vcpu->pid_lock);
#else
	rcu_read_lock();
	pid = get_pid(rcu_dereference(vcpu->pid));
	rcu_read_unlock();
#endif
	return pid;
}

#endif /* PISTEER_COMPAT_KVM_VCPU_H */
