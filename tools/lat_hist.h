/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log2 latency histograms as the module keeps them (PISTEER_LAT_BUCKETS
 * buckets: bucket 0 holds 0 and 1 ns, bucket k [2^k, 2^(k+1)) ns):
 * percentiles, the terminal drawing (as bpftrace's hist()) and an SVG plot.
 */
#ifndef PISTEER_LAT_HIST_H
#define PISTEER_LAT_HIST_H

#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

#define LAT_BUCKETS	64

/* Lower bound of bucket @k and its upper bound (exclusive; saturates). */
uint64_t lat_bucket_lo(unsigned int k);
uint64_t lat_bucket_hi(unsigned int k);

/*
 * A percentile is known only as the bucket that holds it: [ge, lt), the
 * bucket's bounds narrowed to the samples' [min, max] when those are known.
 */
struct lat_pct {
	uint64_t ge;
	uint64_t lt;
};

/*
 * The bucket of the @q quantile (0 < q <= 1: 0.5, 0.99, 0.999) of @hist:
 * the first bucket where the running count reaches ceil(q * total).
 * @min and @max (the smallest and largest sample) narrow the bounds; pass
 * 0 and UINT64_MAX when unknown.  Returns 0, or -1 when @hist is empty.
 */
int lat_percentile(const __u64 *hist, uint64_t min, uint64_t max, double q,
		   struct lat_pct *out);

/* Sum of the buckets. */
uint64_t lat_hist_total(const __u64 *hist);

/* "850ns", "12.3us", "1.05ms", "2.00s" into @buf. */
void lat_fmt_ns(uint64_t ns, char *buf, size_t len);

/* Bucket label as bpftrace prints it: "[0, 2)", "[2, 4)", "[1K, 2K)". */
void lat_bucket_label(unsigned int k, char *buf, size_t len);

/*
 * Draw @hist from its first to its last non-empty bucket, one line each:
 * "[1K, 2K)            12 |@@@@@@@@                                      |",
 * the longest bar LAT_BAR_WIDTH wide.  Nothing for an empty histogram.
 */
#define LAT_BAR_WIDTH	52
void lat_hist_print(FILE *out, const __u64 *hist, const char *indent);

/* One plot of lat_svg_write(). */
struct lat_series {
	const char *title;
	const __u64 *hist;
};

/*
 * An SVG document with one bar chart per series (log2 buckets, counts),
 * stacked.  Returns 0, or -1 when writing failed.
 */
int lat_svg_write(FILE *out, const struct lat_series *s, unsigned int n);

#endif
