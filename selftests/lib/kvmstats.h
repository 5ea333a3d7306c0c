/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's own statistics of a VM or vCPU through its binary stats file
 * (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst 4.133).
 */
#ifndef PISTEER_KVMSTATS_H
#define PISTEER_KVMSTATS_H

#include <stdint.h>

struct kvmstats;

/*
 * Read the statistics file @stats_fd (from KVM_GET_STATS_FD, which must be
 * called on a vCPU before it runs: vCPU ioctls wait for KVM_RUN to return).
 * The file is duplicated.  NULL with errno set.
 */
struct kvmstats *kvmstats_open(int stats_fd);
void kvmstats_close(struct kvmstats *st);

/*
 * The current value of the statistic @name (e.g. "exits"): 0, or -ENOENT
 * when there is no such statistic, or -errno.
 */
int kvmstats_read(struct kvmstats *st, const char *name, uint64_t *value);

#endif
