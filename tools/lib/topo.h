/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's CPUs as placement sees them: for each CPU its core,
 * package and NUMA node, and whether it is online.  The placement code
 * works on this struct only, so tests can feed it any topology; topo_load()
 * fills it from the live machine through hwloc.
 */
#ifndef PISTEER_TOPO_H
#define PISTEER_TOPO_H

#include <stdbool.h>

#include "cpus.h"

struct pst_topo_cpu {
	bool present;		/* the CPU exists (online or not) */
	bool online;
	int core;		/* machine-wide core id: SMT siblings share it */
	int package;
	int node;		/* NUMA node, -1 unknown */
};

struct pst_topo {
	unsigned int nr_cpus;	/* highest present CPU + 1 */
	struct pst_topo_cpu cpu[PST_MAX_CPUS];
};

/* Fill @t from this machine.  0, or -errno after saying why on stderr. */
int pst_topo_load(struct pst_topo *t);

/* The online CPUs of @t. */
void pst_topo_online(const struct pst_topo *t, struct pst_cpus *set);

/* NUMA node of a PCI device from sysfs: >= 0, -1 none, or -errno. */
int pst_pci_numa_node(const char *bdf);

#endif
