// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/pisteer/vectors: the vector table for humans, read
 * from a fresh scan at each open.
 *
 * /sys/kernel/debug/pisteer/allocs: what the module holds now, one
 * "name value" line each: live heap objects by kind and references on
 * VMs (see pisteer_alloc.c), then the vectors in the records, the steered
 * host IRQs, the policies and the latency sampling objects (lat_stats,
 * lat_vcpu).  No scan is made to read it.
 *
 * /sys/kernel/debug/pisteer/irte: the IRTE probes and their store: IRQs
 * and AMD IRTEs observed, free nodes, observations dropped for want of one.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/pisteer.h>
#include <linux/seq_file.h>

#include "pisteer.h"
#include "pisteer_model.h"

static struct dentry *pisteer_dir;

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case PISTEER_MODE_REMAPPED:
		return "remapped";
	case PISTEER_MODE_POSTED:
		return "posted";
	default:
		return "unknown";
	}
}

static int vectors_show(struct seq_file *m, void *unused)
{
	struct pisteer_vector *vecs, *v;
	unsigned int nr, i;
	int ret;

	ret = pisteer_observe();
	if (!ret)
		ret = pst_model_export(0, NULL, &vecs, &nr);
	if (ret)
		return ret;
	seq_puts(m, "vm           device       type  idx   irq   gsi  gvec  dest  vcpu  tid      pcpu  eff  mode      reason  flags\n");
	for (i = 0, v = vecs; i < nr; i++, v++)
		seq_printf(m, "%6d-%-5u %04x:%02x:%02x.%u %-5s %3u %5u %5u  0x%02x %5u %5d %-8d %4d %4d  %-9s %6u  %#llx\n",
			   v->vm_pid, v->vm_fd, v->pci_seg, v->pci_bus,
			   v->pci_devfn >> 3, v->pci_devfn & 7,
			   v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi",
			   v->index, v->host_irq, v->gsi, v->guest_vector,
			   v->dest_id, v->vcpu, v->vcpu_tid, v->vcpu_pcpu,
			   v->irq_effective_cpu, mode_name(v->mode), v->reason,
			   (unsigned long long)v->flags);
	pst_kvfree(vecs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vectors);

static int allocs_show(struct seq_file *m, void *unused)
{
	unsigned int kind, steered, policies, stats, vcpus;

	for (kind = 0; kind < PST_NR_COUNTS; kind++)
		seq_printf(m, "%s %ld\n", pst_count_name(kind), pst_count(kind));
	pisteer_steer_counts(&steered, &policies);
	pisteer_lat_counts(&stats, &vcpus);
	seq_printf(m, "records %u\nsteered_irqs %u\npolicies %u\nlat_vectors %u\nlat_vcpus %u\n",
		   pst_model_count(), steered, policies, stats, vcpus);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(allocs);

static int scans_show(struct seq_file *m, void *unused)
{
	pisteer_vmset_show(m);
	pisteer_scan_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(scans);

static int probes_show(struct seq_file *m, void *unused)
{
	pisteer_events_show(m);
	pisteer_affwatch_show(m);
	pisteer_vcpuwatch_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(probes);

static int irte_show(struct seq_file *m, void *unused)
{
	pisteer_irte_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(irte);

void pisteer_debugfs_init(void)
{
	pisteer_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("vectors", 0400, pisteer_dir, NULL, &vectors_fops);
	debugfs_create_file("allocs", 0400, pisteer_dir, NULL, &allocs_fops);
	debugfs_create_file("scans", 0400, pisteer_dir, NULL, &scans_fops);
	debugfs_create_file("probes", 0400, pisteer_dir, NULL, &probes_fops);
	debugfs_create_file("irte", 0400, pisteer_dir, NULL, &irte_fops);
}

void pisteer_debugfs_exit(void)
{
	debugfs_remove_recursive(pisteer_dir);
	pisteer_dir = NULL;
}
