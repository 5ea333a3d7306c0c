// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "stats.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

struct stats stats_summary(uint64_t *ns, int n)
{
	struct stats s = { .n = n };

	if (n <= 0)
		return s;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	s.min_us = us(ns[0]);
	s.p50_us = us(ns[n / 2]);
	s.p99_us = us(ns[(int)((long long)n * 99 / 100)]);
	s.p999_us = us(ns[(int)((long long)n * 999 / 1000)]);
	s.max_us = us(ns[n - 1]);
	return s;
}
