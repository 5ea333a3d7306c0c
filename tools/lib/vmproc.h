/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM process and its threads as /proc shows them: vCPU threads by
 * QEMU's names ("CPU n/KVM", "CPU n/TCG"), every other thread is an
 * emulator thread.
 */
#ifndef PISTEER_VMPROC_H
#define PISTEER_VMPROC_H

#include <stddef.h>

#include "qmp.h"

struct pst_thread {
	int tid;
	int vcpu;		/* vCPU index, -1 for an emulator thread */
	char comm[16];
};

/* The vCPU index QEMU put in a thread name, or -1. */
int pst_vcpu_of_comm(const char *comm);

/*
 * The threads of @pid, vCPU or emulator by name, or, with @qmp (@nr_qmp
 * entries), by QMP's thread ids: each of those must be a thread of @pid.
 * *@th (free() it) gets *@nr threads, vCPUs first by index.  0, or -errno
 * with @why (-ESRCH: the process is gone; -ENOENT: no vCPU threads).
 */
int pst_vm_threads(int pid, const struct pst_vcpu_tid *qmp, unsigned int nr_qmp,
		   struct pst_thread **th, unsigned int *nr, char *why, size_t whylen);

/*
 * Does @pid hold a KVM VM (a file descriptor on "anon_inode:kvm-vm")?
 * 1 or 0; -ESRCH when there is no such process, -errno when its file
 * descriptors cannot be read.
 */
int pst_proc_holds_vm(int pid);

/* Start time of @pid (clock ticks since boot, /proc/PID/stat), 0 if gone. */
unsigned long long pst_proc_start(int pid);

/* The pid in libvirt's pid file of domain @name: > 0, or -errno with @why. */
int pst_libvirt_pid(const char *name, char *why, size_t whylen);

#endif
