// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer status --format prom and openmetrics: the vectors as metrics.
 * prom is the Prometheus text exposition format 0.0.4, the one
 * node_exporter's textfile collector parses: gauges, counters (their TYPE
 * line names the _total sample) and histograms only.  openmetrics is
 * OpenMetrics 1.0 text: an info family, # UNIT, # EOF at the end.  Both
 * have the same samples, so a query reads the same either way.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "lat_hist.h"
#include "lib/pisteer_dev.h"

int status_parse_format(const char *s)
{
	if (!strcmp(s, "table"))
		return STATUS_FMT_TABLE;
	if (!strcmp(s, "json"))
		return STATUS_FMT_JSON;
	if (!strcmp(s, "prom"))
		return STATUS_FMT_PROM;
	if (!strcmp(s, "openmetrics"))
		return STATUS_FMT_OPENMETRICS;
	return -1;
}

const char *status_format_name(int format)
{
	switch (format) {
	case STATUS_FMT_TABLE:
		return "table";
	case STATUS_FMT_JSON:
		return "json";
	case STATUS_FMT_PROM:
		return "prom";
	case STATUS_FMT_OPENMETRICS:
		return "openmetrics";
	default:
		return NULL;
	}
}

/* Escape \ and newline, and " when @quote (label values, OpenMetrics HELP). */
static void put_escaped(FILE *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"' && quote)
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

void prom_label_value(FILE *out, const char *s)
{
	fputc('"', out);
	put_escaped(out, s, true);
	fputc('"', out);
}

/* Nanoseconds as exact decimal seconds: 1 -> "0.000000001". */
static void put_seconds(FILE *out, uint64_t ns)
{
	char frac[16];
	size_t len;

	snprintf(frac, sizeof(frac), "%09" PRIu64, ns % 1000000000u);
	len = strlen(frac);
	while (len > 1 && frac[len - 1] == '0')
		frac[--len] = '\0';
	fprintf(out, "%" PRIu64 ".%s", ns / 1000000000u, frac);
}

/* The labels every series of @v has, without the braces. */
static void put_labels(FILE *out, const struct pisteer_vector *v)
{
	char bdf[16], buf[32];

	snprintf(buf, sizeof(buf), "%d-%u", v->vm_pid, v->vm_fd);
	fputs("vm=", out);
	prom_label_value(out, buf);
	fprintf(out, ",vm_pid=\"%d\",device=", v->vm_pid);
	pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
	prom_label_value(out, bdf);
	fprintf(out, ",irq=\"%u\",index=\"%u\",vcpu=", v->host_irq, v->index);
	if (v->vcpu >= 0 && !(v->unknown & PISTEER_UNK_TARGET))
		fprintf(out, "\"%d\"", v->vcpu);
	else
		fputs("\"\"", out);
}

enum fam_type { FAM_INFO, FAM_GAUGE, FAM_COUNTER, FAM_HISTOGRAM };

/*
 * The metadata of family @base.  Text format 0.0.4 has no info type and
 * no # UNIT: an info family is the gauge @base_info, and a counter's TYPE
 * names its sample, @base_total.  In OpenMetrics both name @base.
 */
static void family(FILE *out, int format, const char *base, enum fam_type type,
		   const char *unit, const char *help)
{
	static const char * const types[] = {
		[FAM_INFO] = "info", [FAM_GAUGE] = "gauge",
		[FAM_COUNTER] = "counter", [FAM_HISTOGRAM] = "histogram",
	};
	const char *suffix = "";

	if (format == STATUS_FMT_OPENMETRICS) {
		fprintf(out, "# TYPE %s %s\n", base, types[type]);
		if (unit)
			fprintf(out, "# UNIT %s %s\n", base, unit);
		fprintf(out, "# HELP %s ", base);
		put_escaped(out, help, true);
		fputc('\n', out);
		return;
	}
	if (type == FAM_INFO)
		suffix = "_info";
	else if (type == FAM_COUNTER)
		suffix = "_total";
	fprintf(out, "# HELP %s%s ", base, suffix);
	put_escaped(out, help, false);
	fprintf(out, "\n# TYPE %s%s %s\n", base, suffix,
		types[type == FAM_INFO ? FAM_GAUGE : type]);
}

static const struct pisteer_lat_vector *
lat_of(const struct pisteer_vector *v, const struct pisteer_lat_vector *lat,
       unsigned int nlat)
{
	unsigned int i;

	for (i = 0; i < nlat; i++, lat++)
		if (!(lat->flags & PISTEER_LAT_F_GONE) &&
		    lat->vm_pid == v->vm_pid && lat->vm_fd == v->vm_fd &&
		    lat->host_irq == v->host_irq && lat->index == v->index &&
		    lat->irq_type == v->irq_type && lat->pci_seg == v->pci_seg &&
		    lat->pci_bus == v->pci_bus && lat->pci_devfn == v->pci_devfn)
			return lat;
	return NULL;
}

/*
 * One histogram of @l: the module's bucket k holds [2^k, 2^(k+1)) ns of
 * whole nanoseconds, so its samples are those <= 2^(k+1) - 1 ns: that is
 * the le of bucket k, cumulative, and +Inf (with _count) their total.
 */
static void put_hist(FILE *out, const struct pisteer_vector *v,
		     const struct pisteer_lat_vector *l)
{
	const char *name = "pisteer_delivery_latency_seconds";
	uint64_t cum = 0;
	unsigned int k;

	for (k = 0; k < LAT_BUCKETS; k++) {
		cum += l->hist[k];
		if (k == LAT_BUCKETS - 1)
			break;
		fprintf(out, "%s_bucket{", name);
		put_labels(out, v);
		fputs(",le=\"", out);
		put_seconds(out, lat_bucket_hi(k) - 1);
		fprintf(out, "\"} %" PRIu64 "\n", cum);
	}
	fprintf(out, "%s_bucket{", name);
	put_labels(out, v);
	fprintf(out, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
	fprintf(out, "%s_count{", name);
	put_labels(out, v);
	fprintf(out, "} %" PRIu64 "\n", cum);
	fprintf(out, "%s_sum{", name);
	put_labels(out, v);
	fputs("} ", out);
	put_seconds(out, l->sum_ns);
	fputc('\n', out);
}

int status_to_metrics(FILE *out, int format, const struct pisteer_vector *vecs,
		      unsigned int n, const uint64_t *irq_counts,
		      const struct pisteer_lat_vector *lat, unsigned int nlat)
{
	const struct pisteer_vector *v;
	const struct pisteer_lat_vector *l;
	unsigned int i;

	if (format != STATUS_FMT_PROM && format != STATUS_FMT_OPENMETRICS)
		return -1;
	family(out, format, "pisteer_vector", FAM_INFO, NULL,
	       "A passthrough vector: 1, with its delivery mode, the reason and the steering policy.");
	for (i = 0, v = vecs; i < n; i++, v++) {
		fputs("pisteer_vector_info{", out);
		put_labels(out, v);
		fputs(",mode=", out);
		prom_label_value(out, pst_mode_name(v->mode));
		fputs(",reason=", out);
		prom_label_value(out, v->reason ? pst_reason_name(v->reason) : "");
		fputs(",policy=", out);
		prom_label_value(out, v->policy ? pst_policy_name(v->policy) : "");
		fputs("} 1\n", out);
	}
	family(out, format, "pisteer_vector_posted", FAM_GAUGE, NULL,
	       "1 when the vector is delivered as a posted interrupt, else 0.");
	for (i = 0, v = vecs; i < n; i++, v++) {
		fputs("pisteer_vector_posted{", out);
		put_labels(out, v);
		fprintf(out, "} %d\n", v->mode == PISTEER_MODE_POSTED);
	}
	family(out, format, "pisteer_steer_moves", FAM_COUNTER, NULL,
	       "Host IRQ affinity changes pisteer's steering policy made.");
	for (i = 0, v = vecs; i < n; i++, v++) {
		fputs("pisteer_steer_moves_total{", out);
		put_labels(out, v);
		fprintf(out, "} %u\n", (unsigned int)v->steer_moves);
	}
	family(out, format, "pisteer_steer_overrides", FAM_COUNTER, NULL,
	       "Times someone else moved a steered IRQ and pisteer moved it back.");
	for (i = 0, v = vecs; i < n; i++, v++) {
		fputs("pisteer_steer_overrides_total{", out);
		put_labels(out, v);
		fprintf(out, "} %u\n", (unsigned int)v->steer_overridden);
	}
	family(out, format, "pisteer_irq_interrupts", FAM_COUNTER, NULL,
	       "Interrupts of the host IRQ, summed over CPUs (/proc/interrupts).");
	for (i = 0, v = vecs; irq_counts && i < n; i++, v++) {
		if (irq_counts[i] == UINT64_MAX)
			continue;
		fputs("pisteer_irq_interrupts_total{", out);
		put_labels(out, v);
		fprintf(out, "} %" PRIu64 "\n", irq_counts[i]);
	}
	family(out, format, "pisteer_delivery_latency_seconds", FAM_HISTOGRAM, "seconds",
	       "Host delivery latency, host IRQ handler to the next VM entry of the target vCPU (pisteer lat).");
	for (i = 0, v = vecs; i < n; i++, v++) {
		l = lat_of(v, lat, nlat);
		if (l)
			put_hist(out, v, l);
	}
	if (format == STATUS_FMT_OPENMETRICS)
		fputs("# EOF\n", out);
	return ferror(out) ? -1 : 0;
}
