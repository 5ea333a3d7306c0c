/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where each vCPU of a VM goes: one physical CPU per vCPU, on the NUMA
 * node of the VM's passthrough devices first, one vCPU per core before SMT
 * siblings, never on housekeeping CPUs or CPUs another pinned VM holds.
 */
#ifndef PISTEER_PLACE_H
#define PISTEER_PLACE_H

#include <stddef.h>

#include "cpus.h"
#include "topo.h"

struct pst_place_req {
	const struct pst_topo *topo;
	unsigned int nr_vcpus;
	struct pst_cpus housekeeping;	/* never used for vCPUs */
	struct pst_cpus held;		/* held by other pinned VMs */
	const struct pst_cpus *only;	/* --cpus: use these only, or NULL */
	int node;			/* preferred NUMA node, -1 none */
};

/*
 * Fill @cpu_of_vcpu[0..nr_vcpus-1].  Returns 0, or -EINVAL (a CPU in
 * --cpus that is offline, housekeeping or held) or -ENOSPC (not enough
 * CPUs) with a sentence for the operator in @why.  Nothing else changes.
 *
 * Order: CPUs on the preferred node before the others; then CPUs whose
 * core has fewer busy threads (housekeeping, held, or already given to a
 * vCPU of this VM); then node, package, core and CPU number.
 */
int pst_place(const struct pst_place_req *r, int *cpu_of_vcpu, char *why,
	      size_t whylen);

#endif
