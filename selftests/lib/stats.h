/* SPDX-License-Identifier: GPL-2.0 */
/* Order statistics of latency samples, for tests, demo and benchmarks. */
#ifndef PISTEER_STATS_H
#define PISTEER_STATS_H

#include <stdint.h>

struct stats {
	int n;
	double min_us, p50_us, p99_us, p999_us, max_us;
};

/* Sorts @ns in place and summarises it (all zero when @n is 0). */
struct stats stats_summary(uint64_t *ns, int n);

#endif
