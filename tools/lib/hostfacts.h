/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a host says, outside the module, about how interrupts can reach a
 * vCPU: its IOMMUs and whether they can post, KVM's APICv/AVIC parameter,
 * the kernel command line, CPU isolation and irqbalance's bans.  Read from
 * sysfs and /proc only; pisteer check turns these into verdicts.
 */
#ifndef PISTEER_HOSTFACTS_H
#define PISTEER_HOSTFACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "cpus.h"

/* The IOMMUs of /sys/class/iommu and whether they can post interrupts. */
struct pst_iommu {
	unsigned int nr;		/* IOMMUs listed */
	char names[128];		/* "dmar0 dmar1" */
	bool intel, amd;		/* VT-d (dmar*), AMD-Vi (ivhd*) */
	int can_post;			/* 1 every one can, 0 one cannot, -1 unknown */
	char post_why[192];		/* why can_post is what it is */
};

void pst_iommu_read(struct pst_iommu *io);

/* /proc/cmdline into @buf: 0 or -errno. */
int pst_cmdline_read(char *buf, size_t len);

/*
 * Does the kernel command line @cmdline carry parameter @name with option
 * @opt among its comma-separated values ("intremap=on,nopost" has
 * intremap/nopost)?  With @opt NULL: is @name there at all (as name or
 * name=...)?
 */
bool pst_cmdline_has(const char *cmdline, const char *name, const char *opt);

/* KVM's vendor module and its APICv/AVIC parameter. */
struct pst_kvm_apicv {
	const char *module;		/* "kvm_intel", "kvm_amd", NULL: none loaded */
	const char *param;		/* "enable_apicv", "avic" */
	int on;				/* 1, 0, -1 unreadable */
	char value[16];			/* as sysfs shows it */
};

void pst_kvm_apicv_read(struct pst_kvm_apicv *k);

/* "modprobe -r kvm_amd && modprobe kvm_amd avic=1" and the like. */
void pst_kvm_apicv_fix(const struct pst_kvm_apicv *k, char *buf, size_t len);

/* The CPU vendor: "AuthenticAMD", "GenuineIntel", or "" unknown. */
void pst_cpu_vendor(char *buf, size_t len);

#define PST_MAX_BANIRQ	256

/* A running irqbalance and what it leaves alone. */
struct pst_irqbalance {
	int pid;			/* 0: not running */
	bool has_banned;		/* a banned CPU list is in effect */
	struct pst_cpus banned;		/* IRQBALANCE_BANNED_CPULIST/CPUS */
	unsigned int nr_banirq;		/* --banirq IRQs */
	unsigned int banirq[PST_MAX_BANIRQ];
	/* /etc/default/irqbalance's banned list, when it is set there */
	bool file_has_banned;
	struct pst_cpus file_banned;
};

/* @defaults: /etc/default/irqbalance (a parameter, so tests can pass a file). */
void pst_irqbalance_read(const char *defaults, struct pst_irqbalance *ib);

bool pst_irqbalance_bans_irq(const struct pst_irqbalance *ib, unsigned int irq);

#endif
