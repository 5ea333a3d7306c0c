// SPDX-License-Identifier: GPL-2.0
/*
 * Latency statistics in perftest's terms: t_min, t_max, t_typical (median),
 * t_avg, t_stdev, 99% and 99.9% percentiles, in microseconds.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "latstats.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least @q of all at or below it. */
static uint64_t rank(const uint64_t *sorted, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

int pst_latstats(uint64_t *ns, size_t n, unsigned int div, struct pst_latstats *s)
{
	double scale, sum = 0, sq = 0, d;
	size_t i, mid;

	if (!n || !div)
		return -EINVAL;
	scale = 1e3 * div;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	s->n = n;
	s->min = (double)ns[0] / scale;
	s->max = (double)ns[n - 1] / scale;
	mid = n / 2;
	if (n % 2)
		s->typical = (double)ns[mid] / scale;
	else
		s->typical = ((double)ns[mid - 1] + (double)ns[mid]) / 2 / scale;
	for (i = 0; i < n; i++)
		sum += (double)ns[i];
	s->avg = sum / (double)n / scale;
	for (i = 0; i < n; i++) {
		d = (double)ns[i] / scale - s->avg;
		sq += d * d;
	}
	s->stdev = sqrt(sq / (double)n);
	s->p99 = (double)rank(ns, n, 0.99) / scale;
	s->p999 = (double)rank(ns, n, 0.999) / scale;
	return 0;
}

void pst_latstats_header(FILE *out)
{
	fprintf(out, " %-6s %7s %11s %12s %12s %16s %12s %14s %21s %23s\n", "mode",
		"#bytes", "#iterations", "t_min[usec]", "t_max[usec]",
		"t_typical[usec]", "t_avg[usec]", "t_stdev[usec]",
		"99% percentile[usec]", "99.9% percentile[usec]");
}

void pst_latstats_row(FILE *out, const char *mode, unsigned long bytes,
		      const struct pst_latstats *s)
{
	fprintf(out, " %-6s %7lu %11zu %12.2f %12.2f %16.2f %12.2f %14.2f %21.2f %23.2f\n",
		mode, bytes, s->n, s->min, s->max, s->typical, s->avg, s->stdev,
		s->p99, s->p999);
}

json_object *pst_json_us(double us)
{
	char buf[32];

	/* Two decimals, as the text: nanosecond noise is not information. */
	snprintf(buf, sizeof(buf), "%.2f", round(us * 100) / 100);
	return json_object_new_double_s(round(us * 100) / 100, buf);
}

static void add_us(json_object *o, const char *key, double us)
{
	json_object_object_add(o, key, pst_json_us(us));
}

json_object *pst_latstats_json(const char *mode, unsigned long bytes,
			       const struct pst_latstats *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	json_object_object_add(o, "iterations", json_object_new_uint64(s->n));
	add_us(o, "t_min", s->min);
	add_us(o, "t_max", s->max);
	add_us(o, "t_typical", s->typical);
	add_us(o, "t_avg", s->avg);
	add_us(o, "t_stdev", s->stdev);
	add_us(o, "p99", s->p99);
	add_us(o, "p99_9", s->p999);
	return o;
}
