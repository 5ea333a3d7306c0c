/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a host IRQ's counts from /proc/interrupts by its action name
 * (e.g. "vfio-msix[0](0000:00:02.0)", the name VFIO gives MSI-X vectors).
 */
#ifndef PISTEER_PROCIRQ_H
#define PISTEER_PROCIRQ_H

#define PROCIRQ_MAX_CPUS	64

struct procirq {
	int irq;
	int nr_cpus;
	long long total;
	long long percpu[PROCIRQ_MAX_CPUS];
};

/* Fill @pi for the IRQ named @name: 0, or -1 when there is no such IRQ. */
int procirq_read(const char *name, struct procirq *pi);

/*
 * Fill @pi (irq -1) for the row labelled @label, e.g. "RES" or "CAL": the
 * architecture's rows of IPIs and other interrupts without an IRQ number.
 * 0, or -1 when there is no such row.
 */
int procirq_read_row(const char *label, struct procirq *pi);

/* Total count over all CPUs, or -1 when there is no such IRQ. */
long long procirq_count(const char *name, int *irq);

#endif
