/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PISTEER_PROCIRQ_H
#define PISTEER_PROCIRQ_H

/*
 * Total count, over all CPUs, of the host IRQ whose /proc/interrupts line
 * ends with the action name @name (e.g. "vfio-msix[0](0000:00:02.0)").
 * Returns -1 when there is no such IRQ; stores its number in *@irq.
 */
long long procirq_count(const char *name, int *irq);

#endif
