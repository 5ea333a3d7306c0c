/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cpuset cgroup a thread is in and the CPUs it allows, cgroup v1 or
 * v2.  sched_setaffinity() silently fails (EINVAL) or narrows outside
 * them, and libvirt gives each vCPU thread a cpuset cgroup of its own.
 */
#ifndef PISTEER_CGCPUSET_H
#define PISTEER_CGCPUSET_H

#include <stdbool.h>
#include <stddef.h>

#include "cpus.h"

struct pst_cg_cpuset {
	bool restricted;	/* false: no cpuset cgroup limits the thread */
	char cgroup[512];	/* its path inside the hierarchy */
	char file[768];		/* the file @allowed was read from */
	struct pst_cpus allowed;
};

/*
 * From @cgroup_file (/proc/PID/task/TID/cgroup) and @mounts_file
 * (/proc/self/mounts) — files, so tests can pass fixtures — find the
 * thread's cpuset cgroup.  0, or -errno.
 */
int pst_cg_cpuset_of(const char *cgroup_file, const char *mounts_file,
		     struct pst_cg_cpuset *cg);

/* The same for a live thread. */
int pst_cg_cpuset_of_tid(int pid, int tid, struct pst_cg_cpuset *cg);

/*
 * Would a thread in @cg refuse the affinity @target?  If so, write the
 * operator's sentence into @msg (naming the cgroup and the libvirt command
 * that moves such a thread: virsh vcpupin for vCPU @vcpu, virsh
 * emulatorpin for an emulator thread, @vcpu -1) and return true.
 */
bool pst_cg_refuses(const struct pst_cg_cpuset *cg, const struct pst_cpus *target,
		    int vcpu, int tid, char *msg, size_t len);

#endif
