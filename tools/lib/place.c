// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"

/* Core ids go up to 2 * PST_MAX_CPUS (a CPU without a core object). */
#define NR_CORE_IDS	(2 * PST_MAX_CPUS)

/* @n[core]: threads of each core that are busy (set in @busy). */
static void count_busy(const struct pst_topo *t, const struct pst_cpus *busy,
		       unsigned short *n)
{
	unsigned int c;

	memset(n, 0, (size_t)NR_CORE_IDS * sizeof(*n));
	for (c = 0; c < t->nr_cpus; c++)
		if (t->cpu[c].present && pst_cpus_test(busy, c) &&
		    t->cpu[c].core >= 0 && t->cpu[c].core < NR_CORE_IDS)
			n[t->cpu[c].core]++;
}

static unsigned int busy_of(const unsigned short *n, int core)
{
	return core >= 0 && core < NR_CORE_IDS ? n[core] : 0;
}

/* Is CPU a a better pick than CPU b?  See place.h for the order. */
static bool better(const struct pst_place_req *r, const unsigned short *busy,
		   unsigned int a, unsigned int b)
{
	const struct pst_topo_cpu *x = &r->topo->cpu[a], *y = &r->topo->cpu[b];
	unsigned int bx, by;
	bool lx, ly;

	lx = r->node >= 0 && x->node == r->node;
	ly = r->node >= 0 && y->node == r->node;
	if (lx != ly)
		return lx;
	bx = busy_of(busy, x->core);
	by = busy_of(busy, y->core);
	if (bx != by)
		return bx < by;
	if (x->node != y->node)
		return x->node < y->node;
	if (x->package != y->package)
		return x->package < y->package;
	if (x->core != y->core)
		return x->core < y->core;
	return a < b;
}

static void list(const struct pst_cpus *s, char *buf, size_t len)
{
	pst_cpus_format(s, buf, len);
}

/* Refuse a --cpus list that names CPUs the VM must not get. */
static int check_only(const struct pst_place_req *r, const struct pst_cpus *online,
		      char *why, size_t whylen)
{
	struct pst_cpus bad;
	char l[256];

	pst_cpus_andnot(&bad, r->only, online);
	if (pst_cpus_first(&bad) >= 0) {
		list(&bad, l, sizeof(l));
		snprintf(why, whylen, "--cpus names CPUs that are not online: %s", l);
		return -EINVAL;
	}
	pst_cpus_and(&bad, r->only, &r->housekeeping);
	if (pst_cpus_first(&bad) >= 0) {
		list(&bad, l, sizeof(l));
		snprintf(why, whylen, "--cpus and the housekeeping CPUs overlap: %s", l);
		return -EINVAL;
	}
	pst_cpus_and(&bad, r->only, &r->held);
	if (pst_cpus_first(&bad) >= 0) {
		list(&bad, l, sizeof(l));
		snprintf(why, whylen, "--cpus names CPUs another pinned VM holds: %s", l);
		return -EINVAL;
	}
	return 0;
}

int pst_place(const struct pst_place_req *r, int *cpu_of_vcpu, char *why,
	      size_t whylen)
{
	struct pst_cpus online, free_cpus, busy;
	char lo[256], lh[256], lb[256], lf[256];
	static unsigned short nbusy[NR_CORE_IDS];
	unsigned int v, c;
	int best;

	pst_topo_online(r->topo, &online);
	if (r->only && check_only(r, &online, why, whylen))
		return -EINVAL;
	pst_cpus_andnot(&free_cpus, r->only ? r->only : &online, &r->housekeeping);
	pst_cpus_andnot(&free_cpus, &free_cpus, &r->held);
	pst_cpus_and(&free_cpus, &free_cpus, &online);
	if (pst_cpus_count(&free_cpus) < r->nr_vcpus) {
		list(r->only ? r->only : &online, lo, sizeof(lo));
		list(&r->housekeeping, lh, sizeof(lh));
		list(&r->held, lb, sizeof(lb));
		list(&free_cpus, lf, sizeof(lf));
		snprintf(why, whylen,
			 "not enough CPUs: %u vCPUs need %u CPUs, %u are free (%s) of %s %s (housekeeping %s, held by other pinned VMs %s)",
			 r->nr_vcpus, r->nr_vcpus, pst_cpus_count(&free_cpus), lf,
			 r->only ? "--cpus" : "online", lo, lh, lb);
		return -ENOSPC;
	}
	pst_cpus_or(&busy, &r->housekeeping, &r->held);
	for (v = 0; v < r->nr_vcpus; v++) {
		best = -1;
		count_busy(r->topo, &busy, nbusy);
		for (c = 0; c < r->topo->nr_cpus; c++) {
			if (!pst_cpus_test(&free_cpus, c))
				continue;
			if (best < 0 || better(r, nbusy, c, (unsigned int)best))
				best = (int)c;
		}
		cpu_of_vcpu[v] = best;
		pst_cpus_clear(&free_cpus, (unsigned int)best);
		pst_cpus_set(&busy, (unsigned int)best);
	}
	return 0;
}
