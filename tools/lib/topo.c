// SPDX-License-Identifier: GPL-2.0
/*
 * hwloc rather than libnuma: placement needs cores and packages as well as
 * nodes, and hwloc knows all three (and SMT siblings, and offline CPUs)
 * from one walk; libnuma knows nodes only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

/* The object of @type above @pu, or NULL. */
static hwloc_obj_t above(hwloc_topology_t topo, hwloc_obj_t pu, hwloc_obj_type_t type)
{
	return hwloc_get_ancestor_obj_by_type(topo, type, pu);
}

int pst_topo_load(struct pst_topo *t)
{
	hwloc_topology_t topo;
	hwloc_const_bitmap_t online;
	hwloc_obj_t pu = NULL, o;
	int n = 0, c;

	memset(t, 0, sizeof(*t));
	if (hwloc_topology_init(&topo) < 0) {
		fprintf(stderr, "pisteer: hwloc: cannot initialise the topology\n");
		return -ENOMEM;
	}
	/* The whole machine, not just the CPUs this process may use. */
	hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
	if (hwloc_topology_load(topo) < 0) {
		int err = errno;

		fprintf(stderr, "pisteer: hwloc: cannot read the CPU topology: %s\n",
			strerror(err));
		hwloc_topology_destroy(topo);
		return -err;
	}
	online = hwloc_topology_get_topology_cpuset(topo);
	while ((pu = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, pu))) {
		struct pst_topo_cpu *cpu;

		c = (int)pu->os_index;
		if (c >= PST_MAX_CPUS)
			continue;
		cpu = &t->cpu[c];
		cpu->present = true;
		cpu->online = hwloc_bitmap_isset(online, (unsigned int)c);
		o = above(topo, pu, HWLOC_OBJ_CORE);
		/* No core object (some VMs): each PU is its own core. */
		cpu->core = o ? (int)o->logical_index : PST_MAX_CPUS + (int)c;
		o = above(topo, pu, HWLOC_OBJ_PACKAGE);
		cpu->package = o ? (int)o->os_index : 0;
		cpu->node = -1;
		o = NULL;
		while ((o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, o)))
			if (hwloc_bitmap_isset(o->cpuset, (unsigned int)c))
				cpu->node = (int)o->os_index;
		if ((unsigned int)c + 1 > t->nr_cpus)
			t->nr_cpus = (unsigned int)c + 1;
		n++;
	}
	/* Offline CPUs have no PU object, only a bit in the complete set. */
	hwloc_bitmap_foreach_begin(c, hwloc_topology_get_complete_cpuset(topo)) {
		if (c >= 0 && c < PST_MAX_CPUS && !t->cpu[c].present) {
			t->cpu[c].present = true;
			t->cpu[c].core = PST_MAX_CPUS + c;
			t->cpu[c].node = -1;
			if ((unsigned int)c + 1 > t->nr_cpus)
				t->nr_cpus = (unsigned int)c + 1;
		}
	} hwloc_bitmap_foreach_end();
	hwloc_topology_destroy(topo);
	if (!n) {
		fprintf(stderr, "pisteer: hwloc found no CPUs\n");
		return -ENODEV;
	}
	return 0;
}

void pst_topo_online(const struct pst_topo *t, struct pst_cpus *set)
{
	unsigned int c;

	pst_cpus_zero(set);
	for (c = 0; c < t->nr_cpus; c++)
		if (t->cpu[c].present && t->cpu[c].online)
			pst_cpus_set(set, c);
}

int pst_pci_numa_node(const char *bdf)
{
	char path[128];
	int node;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", bdf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &node) != 1)
		node = -1;
	fclose(f);
	return node < 0 ? -1 : node;
}
