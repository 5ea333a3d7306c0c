/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency statistics in perftest's terms, and their reports (text row and
 * JSON).  Used by pisteer rdma-lat; no verbs in here, so unit tests link it
 * alone.
 */
#ifndef PISTEER_LATSTATS_H
#define PISTEER_LATSTATS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* All figures in microseconds. */
struct pst_latstats {
	size_t n;
	double min, max;
	double typical;		/* the median */
	double avg, stdev;	/* stdev: of the population, as perftest */
	double p99, p999;	/* nearest rank: sorted[ceil(q * n) - 1] */
};

/*
 * Summarise @n samples of @ns nanoseconds each divided by @div (2 turns
 * round trips into one-way latencies).  Sorts @ns in place.  0, or
 * -EINVAL when @n or @div is 0.
 */
int pst_latstats(uint64_t *ns, size_t n, unsigned int div, struct pst_latstats *s);

/* The header of the text table, and one row of it. */
void pst_latstats_header(FILE *out);
void pst_latstats_row(FILE *out, const char *mode, unsigned long bytes,
		      const struct pst_latstats *s);

/* A JSON object {mode, bytes, iterations, t_min, ... } (new reference). */
json_object *pst_latstats_json(const char *mode, unsigned long bytes,
			       const struct pst_latstats *s);

/* A number of microseconds for JSON, printed with two decimals. */
json_object *pst_json_us(double us);

#endif
