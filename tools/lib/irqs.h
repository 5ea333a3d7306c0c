/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host IRQs as /proc shows them: /proc/irq/N/ for affinity, /proc/interrupts
 * for the names (and the per-CPU interrupts, which have no number).
 */
#ifndef PISTEER_IRQS_H
#define PISTEER_IRQS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpus.h"

struct pst_irq {
	unsigned int irq;
	char name[96];			/* chip, type and actions, as listed */
	bool has_affinity;		/* /proc/irq/N/smp_affinity_list readable */
	struct pst_cpus affinity;
	struct pst_cpus effective;
};

/*
 * Every numbered IRQ, by number, into *@irqs (free() it); *@percpu (free()
 * it) gets the names of the per-CPU interrupts ("LOC NMI ...").  Returns
 * the count, or -errno.
 */
int pst_irqs_read(struct pst_irq **irqs, char **percpu);

/* Write /proc/irq/N/smp_affinity_list: 0 or -errno (-EIO: refused). */
int pst_irq_set_affinity(unsigned int irq, const struct pst_cpus *set);

/* Read /proc/irq/N/smp_affinity_list: 0 or -errno. */
int pst_irq_get_affinity(unsigned int irq, struct pst_cpus *set);

/*
 * Interrupts of each of @irqs[0..@n) so far, summed over the CPUs of
 * /proc/interrupts, into @counts: UINT64_MAX for an IRQ not listed.
 * 0, or -errno when /proc/interrupts cannot be read.
 */
int pst_irq_counts(const unsigned int *irqs, unsigned int n, uint64_t *counts);

/* Pid of a running process named @comm, 0 if none. */
int pst_find_process(const char *comm);

#endif
