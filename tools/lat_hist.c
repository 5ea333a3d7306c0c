// SPDX-License-Identifier: GPL-2.0
/*
 * Log2 latency histograms: percentiles, terminal drawing, SVG.
 */
#include <math.h>
#include <string.h>

#include "lat_hist.h"

uint64_t lat_bucket_lo(unsigned int k)
{
	return k ? 1ULL << k : 0;
}

uint64_t lat_bucket_hi(unsigned int k)
{
	return k >= LAT_BUCKETS - 1 ? UINT64_MAX : 1ULL << (k + 1);
}

uint64_t lat_hist_total(const __u64 *hist)
{
	uint64_t t = 0;
	unsigned int k;

	for (k = 0; k < LAT_BUCKETS; k++)
		t += hist[k];
	return t;
}

int lat_percentile(const __u64 *hist, uint64_t min, uint64_t max, double q,
		   struct lat_pct *out)
{
	uint64_t total = lat_hist_total(hist), rank, run = 0;
	unsigned int k;

	if (!total || q <= 0 || q > 1)
		return -1;
	rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (k = 0; k < LAT_BUCKETS; k++) {
		run += hist[k];
		if (run >= rank)
			break;
	}
	out->ge = lat_bucket_lo(k);
	out->lt = lat_bucket_hi(k);
	if (min > out->ge && min < out->lt)
		out->ge = min;
	if (max < UINT64_MAX && max + 1 < out->lt && max + 1 > out->ge)
		out->lt = max + 1;
	return 0;
}

void lat_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct { double div; const char *unit; } units[] = {
		{ 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" },
	};
	unsigned int i;
	double v;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if ((double)ns < units[i].div)
			continue;
		v = (double)ns / units[i].div;
		snprintf(buf, len, v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s",
			 v, units[i].unit);
		return;
	}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/* 2^k with a 1024-based suffix: 1, 512, 1K, 8K, 1M, ... */
static void pow2_label(unsigned int k, char *buf, size_t len)
{
	static const char sfx[] = " KMGTPE";

	snprintf(buf, len, "%llu%.*s", 1ULL << (k % 10), k >= 10 ? 1 : 0,
		 &sfx[k / 10]);
}

void lat_bucket_label(unsigned int k, char *buf, size_t len)
{
	char lo[16], hi[16];

	if (k == 0) {
		snprintf(buf, len, "[0, 2)");
		return;
	}
	pow2_label(k, lo, sizeof(lo));
	if (k >= LAT_BUCKETS - 1)
		snprintf(hi, sizeof(hi), "...");
	else
		pow2_label(k + 1, hi, sizeof(hi));
	snprintf(buf, len, "[%s, %s)", lo, hi);
}

/* First and last non-empty bucket; false when there is none. */
static int hist_range(const __u64 *hist, unsigned int *first,
		      unsigned int *last)
{
	unsigned int k;
	int seen = 0;

	for (k = 0; k < LAT_BUCKETS; k++) {
		if (!hist[k])
			continue;
		if (!seen)
			*first = k;
		*last = k;
		seen = 1;
	}
	return seen;
}

void lat_hist_print(FILE *out, const __u64 *hist, const char *indent)
{
	unsigned int first = 0, last = 0, k, w;
	uint64_t top = 0;
	char label[40], bar[LAT_BAR_WIDTH + 1];

	if (!hist_range(hist, &first, &last))
		return;
	for (k = first; k <= last; k++)
		if (hist[k] > top)
			top = hist[k];
	if (!top)
		return;
	for (k = first; k <= last; k++) {
		w = (unsigned int)(hist[k] * LAT_BAR_WIDTH / top);
		memset(bar, '@', w);
		bar[w] = '\0';
		lat_bucket_label(k, label, sizeof(label));
		fprintf(out, "%s%-20s %8llu |%-*s|\n", indent, label,
			(unsigned long long)hist[k], LAT_BAR_WIDTH, bar);
	}
}

/* Text content for SVG: the five characters XML reserves, escaped. */
static void svg_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

#define SVG_W		720
#define SVG_PANEL_H	220
#define SVG_LEFT	60
#define SVG_TOP		30
#define SVG_PLOT_H	140

static void svg_panel(FILE *out, const struct lat_series *s, unsigned int y0)
{
	unsigned int first = 0, last = 0, k, nb;
	uint64_t top = 0;
	double bw, h, x;
	char label[40];

	fprintf(out, "<g transform=\"translate(0,%u)\">\n", y0);
	fprintf(out, "<text x=\"%d\" y=\"18\" font-size=\"13\">", SVG_LEFT);
	svg_text(out, s->title);
	fprintf(out, "</text>\n");
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
		SVG_LEFT, SVG_TOP + SVG_PLOT_H, SVG_W - 10, SVG_TOP + SVG_PLOT_H);
	if (!hist_range(s->hist, &first, &last)) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\">no samples</text>\n",
			SVG_LEFT + 10, SVG_TOP + SVG_PLOT_H / 2);
		fprintf(out, "</g>\n");
		return;
	}
	for (k = first; k <= last; k++)
		if (s->hist[k] > top)
			top = s->hist[k];
	nb = last - first + 1;
	bw = (double)(SVG_W - 10 - SVG_LEFT) / nb;
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%llu</text>\n",
		SVG_LEFT - 4, SVG_TOP + 10, (unsigned long long)top);
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">0</text>\n",
		SVG_LEFT - 4, SVG_TOP + SVG_PLOT_H);
	for (k = first; k <= last; k++) {
		x = SVG_LEFT + (k - first) * bw;
		h = (double)s->hist[k] * SVG_PLOT_H / (double)top;
		lat_bucket_label(k, label, sizeof(label));
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"steelblue\"><title>",
			x + 1, SVG_TOP + SVG_PLOT_H - h, bw - 2, h);
		svg_text(out, label);
		fprintf(out, " ns: %llu</title></rect>\n", (unsigned long long)s->hist[k]);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">",
			x + bw / 2, SVG_TOP + SVG_PLOT_H + 14);
		svg_text(out, label);
		fprintf(out, "</text>\n");
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"10\">host delivery latency, ns (log2 buckets)</text>\n",
		SVG_LEFT, SVG_TOP + SVG_PLOT_H + 32);
	fprintf(out, "</g>\n");
}

int lat_svg_write(FILE *out, const struct lat_series *s, unsigned int n)
{
	unsigned int i, h = (n ? n : 1) * SVG_PANEL_H;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" font-family=\"sans-serif\">\n",
		SVG_W, h, SVG_W, h);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	if (!n)
		fprintf(out, "<text x=\"%d\" y=\"40\" font-size=\"13\">no sampled vectors</text>\n",
			SVG_LEFT);
	for (i = 0; i < n; i++)
		svg_panel(out, &s[i], i * SVG_PANEL_H);
	fprintf(out, "</svg>\n");
	return ferror(out) ? -1 : 0;
}
