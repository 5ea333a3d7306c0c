// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the pisteer CLI code that need no module: error to exit
 * status mapping, the version reports (text and JSON), the command-line
 * conventions (options before or after operands, one --help), and the
 * command line of the built binary (usage errors, module-absent and
 * wrong-device diagnostics).
 *
 * usage: cli_unit PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../tools/commands.h"
#include "../../tools/lat_hist.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"

static const char *tool;
static char out_path[] = "/tmp/cli_unit.XXXXXX";
static char out[8192], err[8192];

/* Run "@env tool @args", capture stdout and stderr; return the exit status. */
static int run(const char *env, const char *args)
{
	char cmd[1024], path[64];
	int status, i;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s >%s.out 2>%s.err", env, tool,
		 args, out_path, out_path);
	status = system(cmd);
	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s.%s", out_path, i ? "err" : "out");
		f = fopen(path, "re");
		if (f) {
			n = fread(buf, 1, sizeof(out) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		unlink(path);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The pid of a child that has exited and been reaped. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static struct pisteer_version sample_version(void)
{
	struct pisteer_version v;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.abi_major = PISTEER_ABI_MAJOR;
	v.abi_minor = 7;
	v.features = 0x5;
	strcpy(v.release, "9.8.7");
	return v;
}

static void test_exit_mapping(void)
{
	ktap_result(pst_exit_for(ENOENT) == PST_EXIT_NO_MODULE &&
		    pst_exit_for(ENODEV) == PST_EXIT_NO_MODULE &&
		    pst_exit_for(EACCES) == PST_EXIT_PERM &&
		    pst_exit_for(EPERM) == PST_EXIT_PERM &&
		    pst_exit_for(EPROTO) == PST_EXIT_ABI &&
		    pst_exit_for(EIO) == PST_EXIT_FAIL &&
		    pst_exit_for(ENOTTY) == PST_EXIT_FAIL,
		    "errno -> exit status mapping");
}

static void test_dev_path(void)
{
	bool ok;

	unsetenv("PISTEER_DEV");
	ok = !strcmp(pst_dev_path(), "/dev/pisteer");
	setenv("PISTEER_DEV", "/tmp/x", 1);
	ok = ok && !strcmp(pst_dev_path(), "/tmp/x");
	setenv("PISTEER_DEV", "", 1);
	ok = ok && !strcmp(pst_dev_path(), "/dev/pisteer");
	unsetenv("PISTEER_DEV");
	ktap_result(ok, "device path: /dev/pisteer unless PISTEER_DEV is set");
}

static void test_abi_check(void)
{
	struct pisteer_version v = sample_version();
	bool ok = pst_check_abi(&v) == 0;

	v.abi_major = PISTEER_ABI_MAJOR + 1;
	ok = ok && pst_check_abi(&v) == -EPROTO;
	ktap_result(ok, "ABI check: same major accepted, other major refused");
}

static void test_text_report(void)
{
	struct pisteer_version v = sample_version();
	char buf[512];
	size_t n;
	FILE *f;
	bool ok;

	f = fmemopen(buf, sizeof(buf), "w");
	version_print_text(f, &v);
	v.release[0] = '\0';		/* an older module that sent no release */
	version_print_text(f, &v);
	n = ftell(f);
	fclose(f);
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	ok = strstr(buf, "pisteer module 9.8.7 (ABI 0.7), features 0x5") &&
	     strstr(buf, "pisteer module (unknown)") &&
	     strstr(buf, "pisteer tool " PISTEER_RELEASE);
	if (!ok)
		ktap_diag("got: %s", buf);
	ktap_result(ok, "text report names tool, module release, ABI and features");
}

static void test_json_report(void)
{
	struct pisteer_version v = sample_version();
	json_object *root, *mod, *x;
	char *doc;
	bool ok;

	doc = version_to_json(&v, 0);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = root && json_object_object_get_ex(root, "module", &mod) &&
	     json_object_object_get_ex(mod, "release", &x) &&
	     !strcmp(json_object_get_string(x), "9.8.7") &&
	     json_object_object_get_ex(mod, "features", &x) &&
	     json_object_get_uint64(x) == 5 &&
	     json_object_object_get_ex(root, "tool", &x) &&
	     !strcmp(json_object_get_string(x), PISTEER_RELEASE);
	json_object_put(root);
	free(doc);

	doc = version_to_json(NULL, ENOENT);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = ok && root && !json_object_object_get_ex(root, "module", NULL) &&
	     json_object_object_get_ex(root, "module_error", &x) &&
	     !strcmp(json_object_get_string(x), strerror(ENOENT));
	json_object_put(root);
	free(doc);
	ktap_result(ok, "JSON report parses back with module or module_error");
}

static void test_bdf(void)
{
	static const char *const bad[] = {
		"", "0000:00:02", "00:02", "0000:00:20.0", "0000:00:02.8",
		"10000:00:02.0", "0000:100:02.0", "0000:00:02.0x", "zz:00.0",
		"0000:00:02.0 ",
	};
	struct pst_bdf b;
	char buf[16];
	bool ok;
	size_t i;

	ok = !pst_parse_bdf("0000:3b:00.1", &b) && b.seg == 0 && b.bus == 0x3b &&
	     b.devfn == 1;
	ok = ok && !pst_parse_bdf("3b:1f.7", &b) && b.seg == 0 && b.bus == 0x3b &&
	     b.devfn == (0x1f << 3 | 7);
	ok = ok && !pst_parse_bdf("ffff:ff:1f.7", &b) && b.seg == 0xffff;
	pst_format_bdf(0x10, 0x3b, 0x09, buf, sizeof(buf));
	ok = ok && !strcmp(buf, "0010:3b:01.1");
	ktap_result(ok, "PCI address: long and short forms parse, formats back");

	ok = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!pst_parse_bdf(bad[i], &b)) {
			ktap_diag("accepted '%s'", bad[i]);
			ok = false;
		}
	}
	ktap_result(ok, "PCI address: %zu malformed forms refused", i);
}

static void test_cpulist(void)
{
	__u64 w[PISTEER_AFFINITY_WORDS] = { 0 };
	char buf[256];
	bool ok;

	pst_format_cpulist(w, PISTEER_AFFINITY_WORDS, buf, sizeof(buf));
	ok = !strcmp(buf, "-");
	w[0] = 0xf | 1ULL << 8 | 1ULL << 63;
	w[1] = 0x3;
	w[15] = 1ULL << 63;
	pst_format_cpulist(w, PISTEER_AFFINITY_WORDS, buf, sizeof(buf));
	ok = ok && !strcmp(buf, "0-3,8,63-65,1023");
	if (!ok)
		ktap_diag("got '%s'", buf);
	ktap_result(ok, "CPU masks print as lists, ranges across words, CPU 1023");
}

static void test_names(void)
{
	ktap_result(!strcmp(pst_mode_name(PISTEER_MODE_POSTED), "posted") &&
		    !strcmp(pst_mode_name(PISTEER_MODE_REMAPPED), "remapped") &&
		    !strcmp(pst_mode_name(99), "unknown") &&
		    !strcmp(pst_reason_name(PISTEER_REASON_NO_APICV), "no APICv/AVIC") &&
		    !strcmp(pst_reason_name(PISTEER_REASON_NOT_SINGLE_DEST),
			    "guest MSI not single-destination") &&
		    !strcmp(pst_reason_name(PISTEER_REASON_NONE), "") &&
		    !strcmp(pst_reason_name(999), "unknown reason"),
		    "mode and reason names");
}

static void test_status_json(void)
{
	struct pisteer_vector v[3];
	json_object *root, *o, *x, *y;
	char *doc;
	bool ok;

	memset(v, 0, sizeof(v));
	v[0].vm_pid = 42;
	v[0].vm_fd = 11;
	v[0].pci_bus = 0x3b;
	v[0].pci_devfn = 1;
	v[0].irq_type = PISTEER_IRQ_MSIX;
	v[0].index = 3;
	v[0].host_irq = 77;
	v[0].gsi = 35;
	v[0].guest_vector = 0x43;
	v[0].vcpu = 1;
	v[0].vcpu_pcpu = 5;
	v[0].irq_effective_cpu = 2;
	v[0].irq_affinity[0] = 0x6;
	v[0].mode = PISTEER_MODE_REMAPPED;
	v[0].reason = PISTEER_REASON_NOT_PAIRED;
	v[1] = v[0];
	v[1].vcpu = -1;
	v[1].vcpu_pcpu = -1;
	v[1].irq_effective_cpu = -1;
	v[1].mode = PISTEER_MODE_POSTED;
	v[1].reason = 0;
	v[1].pi_flags = PISTEER_PI_F_OBSERVED | PISTEER_PI_F_INTEL |
			PISTEER_PI_F_READ | PISTEER_PI_F_SN | PISTEER_PI_F_ADDR_KNOWN;
	v[1].pi_ndst = 0x300;
	v[1].pi_ndst_expected = 0x500;
	v[2] = v[1];
	v[2].pi_flags = PISTEER_PI_F_OBSERVED | PISTEER_PI_F_AMD |
			PISTEER_PI_F_GUEST_MODE | PISTEER_PI_F_GA_SEEN |
			PISTEER_PI_F_IS_RUNNING | PISTEER_PI_F_READ |
			PISTEER_PI_F_NDST_MATCH;
	v[2].pi_ndst = 4;
	v[2].pi_ndst_expected = 4;
	v[2].pi_ga_tag = 0x10001;

	doc = status_to_json(v, 3);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = root && json_object_array_length(root) == 3;
	o = ok ? json_object_array_get_idx(root, 0) : NULL;
	ok = ok && json_object_object_get_ex(o, "vm", &x) &&
	     !strcmp(json_object_get_string(x), "42-11") &&
	     json_object_object_get_ex(o, "device", &x) &&
	     !strcmp(json_object_get_string(x), "0000:3b:00.1") &&
	     json_object_object_get_ex(o, "irq_affinity", &x) &&
	     !strcmp(json_object_get_string(x), "1-2") &&
	     json_object_object_get_ex(o, "vcpu", &x) && json_object_get_int(x) == 1 &&
	     json_object_object_get_ex(o, "reason", &x) &&
	     !strcmp(json_object_get_string(x), "not paired");
	o = ok ? json_object_array_get_idx(root, 1) : NULL;
	ok = ok && json_object_object_get_ex(o, "vcpu", &x) && !x &&
	     json_object_object_get_ex(o, "vcpu_pcpu", &x) && !x &&
	     json_object_object_get_ex(o, "reason", &x) && !x &&
	     json_object_object_get_ex(o, "mode", &x) &&
	     !strcmp(json_object_get_string(x), "posted") &&
	     json_object_object_get_ex(o, "posted_state", &x) && x &&
	     json_object_object_get_ex(x, "ndst_match", &y) && !json_object_get_boolean(y) &&
	     json_object_object_get_ex(x, "sn", &y) && json_object_get_boolean(y) &&
	     json_object_object_get_ex(x, "ndst", &y) && json_object_get_int(y) == 0x300 &&
	     json_object_object_get_ex(x, "verified_on_this_host", &y) &&
	     !json_object_get_boolean(y) &&
	     json_object_object_get_ex(x, "pi_addr_known", &y) && json_object_get_boolean(y) &&
	     !json_object_object_get_ex(x, "pi_addr", &y);
	o = ok ? json_object_array_get_idx(root, 0) : NULL;
	ok = ok && json_object_object_get_ex(o, "posted_state", &x) && !x;
	o = ok ? json_object_array_get_idx(root, 2) : NULL;
	ok = ok && json_object_object_get_ex(o, "posted_state", &x) && x &&
	     json_object_object_get_ex(x, "iommu", &y) &&
	     !strcmp(json_object_get_string(y), "amd") &&
	     json_object_object_get_ex(x, "is_running", &y) && json_object_get_boolean(y) &&
	     json_object_object_get_ex(x, "dest_apic_id", &y) && json_object_get_int(y) == 4 &&
	     json_object_object_get_ex(x, "dest_match", &y) && json_object_get_boolean(y) &&
	     json_object_object_get_ex(x, "ga_tag", &y) && json_object_get_int(y) == 0x10001 &&
	     !json_object_object_get_ex(x, "ndst", &y);
	if (!ok && doc)
		ktap_diag("%s", doc);
	json_object_put(root);
	free(doc);
	ktap_result(ok, "status JSON: fields, VM id pid-fd, unknowns as null, posted state (VT-d, AVIC)");
}

/* The text of status_to_metrics(@format) into a malloc'ed string, or NULL. */
static char *metrics_text(int format, const struct pisteer_vector *v, unsigned int n,
			  const uint64_t *counts, const struct pisteer_lat_vector *lat,
			  unsigned int nlat)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	rc = status_to_metrics(f, format, v, n, counts, lat, nlat);
	fclose(f);
	if (rc) {
		free(text);
		return NULL;
	}
	return text;
}

/* The escaped, quoted form of @s as prom_label_value() writes it. */
static bool label_escapes(const char *s, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	bool ok;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return false;
	prom_label_value(f, s);
	fclose(f);
	ok = text && !strcmp(text, want);
	if (!ok)
		ktap_diag("label value '%s': %s, want %s", s, text ? text : "(null)", want);
	free(text);
	return ok;
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The lines of @text: every TYPE names a gauge, counter or histogram
 * (prom) or also an info (openmetrics); a counter's TYPE ends in _total
 * (prom) or not (openmetrics, its samples _total); every sample belongs
 * to the family declared last (histogram: _bucket, _count, _sum); the
 * histogram's le bounds rise, its counts never fall, it ends at +Inf =
 * _count.  Returns the number of histograms, or -1 with a diagnostic.
 */
static int metrics_lines_ok(char *text, bool om)
{
	char fam[128] = "", type[16] = "", name[128], *line, *save, *p, *end;
	double le, prev_le = -1;
	uint64_t val, prev = 0, inf = UINT64_MAX;
	int hists = 0, buckets = 0;
	size_t flen;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (starts(line, "# TYPE ")) {
			if (sscanf(line, "# TYPE %127s %15s", fam, type) != 2)
				goto bad;
			flen = strlen(fam);
			if (!streq(type, "gauge") && !streq(type, "counter") &&
			    !streq(type, "histogram") && !(om && streq(type, "info")))
				goto bad;
			if (streq(type, "counter") &&
			    (flen > 6 && streq(fam + flen - 6, "_total")) == om)
				goto bad;
			continue;
		}
		if (starts(line, "# HELP ") || (om && starts(line, "# UNIT ")) ||
		    (om && streq(line, "# EOF")))
			continue;
		if (line[0] == '#' || !fam[0])
			goto bad;
		p = strchr(line, '{');
		if (!p || (size_t)(p - line) >= sizeof(name))
			goto bad;
		snprintf(name, sizeof(name), "%.*s", (int)(p - line), line);
		flen = strlen(fam);
		if (strncmp(name, fam, flen) != 0)
			goto bad;
		p = name + flen;
		if (streq(type, "gauge") && *p)
			goto bad;
		if ((streq(type, "counter") && !streq(p, om ? "_total" : "")) ||
		    (streq(type, "info") && !streq(p, "_info")))
			goto bad;
		val = strtoull(strrchr(line, ' ') + 1, NULL, 10);
		if (!streq(type, "histogram"))
			continue;
		if (streq(p, "_bucket")) {
			p = strstr(line, ",le=\"");
			if (!p)
				goto bad;
			le = strtod(p + 5, &end);
			if (*end != '"' || le <= prev_le || val < prev || inf != UINT64_MAX)
				goto bad;
			if (starts(p + 5, "+Inf\""))
				inf = val;
			prev_le = le;
			prev = val;
			buckets++;
		} else if (streq(p, "_count")) {
			if (inf == UINT64_MAX || val != inf || buckets != 64)
				goto bad;
			hists++;
		} else if (streq(p, "_sum")) {
			/* the next histogram's buckets start again */
			prev_le = -1;
			prev = 0;
			inf = UINT64_MAX;
			buckets = 0;
		} else {
			goto bad;
		}
	}
	return hists;
bad:
	ktap_diag("%s: after TYPE %s %s: '%s'", om ? "openmetrics" : "prom", fam, type,
		  line ? line : "(end)");
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* The sample lines of @text (not comments), sorted, one string. */
static char *sample_lines(const char *text)
{
	char *copy = strdup(text), *line, *save, **v = NULL, *out = NULL;
	size_t n = 0, len = 0, i;
	FILE *f;

	if (!copy)
		return NULL;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **nv;

		if (line[0] == '#')
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			goto out;
		v = nv;
		v[n++] = line;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	f = open_memstream(&out, &len);
	if (f) {
		for (i = 0; i < n; i++)
			fprintf(f, "%s\n", v[i]);
		fclose(f);
	}
out:
	free(v);
	free(copy);
	return out;
}

/* Two fabricated vectors, the first sampled by pisteer lat. */
static void prom_vectors(struct pisteer_vector *v, struct pisteer_lat_vector *lat)
{
	memset(v, 0, 2 * sizeof(*v));
	v[0].vm_pid = 42;
	v[0].vm_fd = 11;
	v[0].pci_bus = 0x3b;
	v[0].pci_devfn = 1;
	v[0].irq_type = PISTEER_IRQ_MSIX;
	v[0].index = 3;
	v[0].host_irq = 77;
	v[0].vcpu = 1;
	v[0].mode = PISTEER_MODE_POSTED;
	v[0].policy = PISTEER_POLICY_FOLLOW;
	v[0].steer_moves = 5;
	v[0].steer_overridden = 2;
	v[1] = v[0];
	v[1].index = 4;
	v[1].host_irq = 78;
	v[1].vcpu = -1;
	v[1].mode = PISTEER_MODE_REMAPPED;
	v[1].reason = PISTEER_REASON_NOT_PAIRED;
	v[1].policy = 0;
	v[1].steer_moves = 7;
	v[1].steer_overridden = 0;
	memset(lat, 0, 2 * sizeof(*lat));
	lat[0].vm_pid = 42;
	lat[0].vm_fd = 11;
	lat[0].pci_bus = 0x3b;
	lat[0].pci_devfn = 1;
	lat[0].irq_type = PISTEER_IRQ_MSIX;
	lat[0].index = 3;
	lat[0].host_irq = 77;
	lat[0].hist[0] = 1;
	lat[0].hist[3] = 2;
	lat[0].hist[10] = 4;
	lat[0].hist[63] = 1;
	lat[0].count = 8;
	lat[0].sum_ns = 1500000001;
	/* Vector 1's samples are of a vector gone: no histogram for it. */
	lat[1] = lat[0];
	lat[1].index = 4;
	lat[1].host_irq = 78;
	lat[1].flags = PISTEER_LAT_F_GONE;
}

#define L0 "vm=\"42-11\",vm_pid=\"42\",device=\"0000:3b:00.1\",irq=\"77\",index=\"3\",vcpu=\"1\""
#define L1 "vm=\"42-11\",vm_pid=\"42\",device=\"0000:3b:00.1\",irq=\"78\",index=\"4\",vcpu=\"\""

/* The samples both formats have for prom_vectors(), counts 1234 and unknown. */
static bool common_samples(const char *text)
{
	return strstr(text, "pisteer_vector_info{" L0 ",mode=\"posted\",reason=\"\",policy=\"follow\"} 1\n") &&
	       strstr(text, "pisteer_vector_info{" L1 ",mode=\"remapped\",reason=\"not paired\",policy=\"\"} 1\n") &&
	       strstr(text, "pisteer_vector_posted{" L0 "} 1\n") &&
	       strstr(text, "pisteer_vector_posted{" L1 "} 0\n") &&
	       strstr(text, "pisteer_steer_moves_total{" L0 "} 5\n") &&
	       strstr(text, "pisteer_steer_moves_total{" L1 "} 7\n") &&
	       strstr(text, "pisteer_steer_overrides_total{" L0 "} 2\n") &&
	       strstr(text, "pisteer_steer_overrides_total{" L1 "} 0\n") &&
	       strstr(text, "pisteer_irq_interrupts_total{" L0 "} 1234\n") &&
	       !strstr(text, "pisteer_irq_interrupts_total{" L1) &&
	       strstr(text, "_bucket{" L0 ",le=\"0.000000001\"} 1\n") &&
	       strstr(text, "_bucket{" L0 ",le=\"0.000000007\"} 1\n") &&
	       strstr(text, "_bucket{" L0 ",le=\"0.000000015\"} 3\n") &&
	       strstr(text, "_bucket{" L0 ",le=\"0.000002047\"} 7\n") &&
	       strstr(text, "_bucket{" L0 ",le=\"+Inf\"} 8\n") &&
	       strstr(text, "pisteer_delivery_latency_seconds_count{" L0 "} 8\n") &&
	       strstr(text, "pisteer_delivery_latency_seconds_sum{" L0 "} 1.500000001\n") &&
	       !strstr(text, "_bucket{" L1);
}

/* --format prom and openmetrics on fabricated vectors. */
static void test_status_prom(void)
{
	struct pisteer_lat_vector lat[2];
	struct pisteer_vector v[2];
	uint64_t counts[2] = { 1234, UINT64_MAX };
	char *prom, *om, *copy, *a, *b;
	size_t len;
	bool ok;

	ok = label_escapes("a\"b\\c\nd", "\"a\\\"b\\\\c\\nd\"") &&
	     label_escapes("", "\"\"") && label_escapes("\\", "\"\\\\\"") &&
	     label_escapes("not paired", "\"not paired\"") &&
	     label_escapes("\"\n\"", "\"\\\"\\n\\\"\"");
	ktap_result(ok, "status metrics: label values escape \\, \" and newline, nothing else");

	prom_vectors(v, lat);
	prom = metrics_text(STATUS_FMT_PROM, v, 2, counts, lat, 2);
	om = metrics_text(STATUS_FMT_OPENMETRICS, v, 2, counts, lat, 2);

	/* Text format 0.0.4: node_exporter's textfile collector reads it. */
	ok = prom && common_samples(prom) &&
	     strstr(prom, "# HELP pisteer_vector_info A passthrough vector") &&
	     strstr(prom, "\n# TYPE pisteer_vector_info gauge\n") &&
	     strstr(prom, "\n# TYPE pisteer_vector_posted gauge\n") &&
	     strstr(prom, "\n# TYPE pisteer_steer_moves_total counter\n") &&
	     strstr(prom, "\n# TYPE pisteer_steer_overrides_total counter\n") &&
	     strstr(prom, "\n# TYPE pisteer_irq_interrupts_total counter\n") &&
	     strstr(prom, "\n# TYPE pisteer_delivery_latency_seconds histogram\n") &&
	     !strstr(prom, " info\n") && !strstr(prom, "# UNIT") && !strstr(prom, "# EOF");
	copy = prom ? strdup(prom) : NULL;
	ok = ok && copy && metrics_lines_ok(copy, false) == 1;
	free(copy);
	if (!ok)
		ktap_diag("prom:\n%s", prom ? prom : "(null)");
	ktap_result(ok, "status --format prom: text format 0.0.4, gauge info, counters' TYPE *_total, no UNIT/EOF, cumulative le to +Inf = _count");

	ok = om && common_samples(om) &&
	     strstr(om, "# TYPE pisteer_vector info\n") &&
	     strstr(om, "\n# TYPE pisteer_vector_posted gauge\n") &&
	     strstr(om, "\n# TYPE pisteer_steer_moves counter\n") &&
	     strstr(om, "\n# TYPE pisteer_steer_overrides counter\n") &&
	     strstr(om, "\n# TYPE pisteer_irq_interrupts counter\n") &&
	     strstr(om, "\n# TYPE pisteer_delivery_latency_seconds histogram\n"
		    "# UNIT pisteer_delivery_latency_seconds seconds\n") &&
	     !strstr(om, "_total counter");
	len = om ? strlen(om) : 0;
	ok = ok && len > 6 && !strcmp(om + len - 6, "# EOF\n") && strstr(om, "# EOF") == om + len - 6;
	copy = om ? strdup(om) : NULL;
	ok = ok && copy && metrics_lines_ok(copy, true) == 1;
	free(copy);
	if (!ok)
		ktap_diag("openmetrics:\n%s", om ? om : "(null)");
	ktap_result(ok, "status --format openmetrics: info family, counters' samples *_total, UNIT seconds, cumulative le to +Inf, one # EOF last");

	a = prom ? sample_lines(prom) : NULL;
	b = om ? sample_lines(om) : NULL;
	ok = a && b && !strcmp(a, b) && strstr(a, "{") &&
	     strstr(prom, "# HELP pisteer_steer_moves_total Host IRQ affinity changes") &&
	     strstr(om, "# HELP pisteer_steer_moves Host IRQ affinity changes");
	if (!ok)
		ktap_diag("prom samples:\n%s\nopenmetrics samples:\n%s", a ? a : "(null)", b ? b : "(null)");
	free(a);
	free(b);
	ktap_result(ok, "status metrics: prom and openmetrics have the same samples, only metadata differ");
	free(prom);
	free(om);

	prom = metrics_text(STATUS_FMT_PROM, NULL, 0, NULL, NULL, 0);
	om = metrics_text(STATUS_FMT_OPENMETRICS, NULL, 0, NULL, NULL, 0);
	len = om ? strlen(om) : 0;
	ok = prom && om && !strstr(prom, "{") && !strstr(om, "{") &&
	     strstr(prom, "# TYPE pisteer_irq_interrupts_total counter\n") && !strstr(prom, "# EOF") &&
	     len > 6 && !strcmp(om + len - 6, "# EOF\n") &&
	     !metrics_text(STATUS_FMT_JSON, NULL, 0, NULL, NULL, 0);
	free(prom);
	free(om);
	ktap_result(ok, "status metrics: no vectors: the families and no series (openmetrics: # EOF); json is not a metrics format");
	ktap_result(status_parse_format("table") == STATUS_FMT_TABLE &&
		    status_parse_format("json") == STATUS_FMT_JSON &&
		    status_parse_format("prom") == STATUS_FMT_PROM &&
		    status_parse_format("openmetrics") == STATUS_FMT_OPENMETRICS &&
		    !strcmp(status_format_name(STATUS_FMT_OPENMETRICS), "openmetrics") &&
		    status_parse_format("PROM") < 0 && status_parse_format("") < 0 &&
		    status_parse_format("prometheus") < 0 && status_parse_format("om") < 0,
		    "status --format: table, json, prom and openmetrics, nothing else");
}

#undef L0
#undef L1

/* The names in @dir but . and .., one string "a b ", or NULL. */
static char *dir_names(const char *dir)
{
	char *names = NULL;
	size_t len = 0;
	struct dirent *e;
	FILE *f;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return NULL;
	f = open_memstream(&names, &len);
	if (!f) {
		closedir(d);
		return NULL;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			fprintf(f, "%s ", e->d_name);
	fclose(f);
	closedir(d);
	return names;
}

/*
 * status --output FILE without the module: a file that cannot be written
 * is said first (exit 1, before the module), and nothing is left behind:
 * no temporary file, an existing FILE as it was.
 */
static void test_status_output(void)
{
	char dir[] = "/tmp/cli_unit_out.XXXXXX", args[512], buf[16] = "", *names;
	bool ok, dir_ok;
	int rc;
	FILE *f;

	dir_ok = mkdtemp(dir) != NULL;
	snprintf(args, sizeof(args), "status --output %s/x.prom", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ok = dir_ok && rc == PST_EXIT_USAGE && strstr(err, "--output goes with --format prom or openmetrics");
	snprintf(args, sizeof(args), "status --format json --output %s/x.prom", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ok = ok && rc == PST_EXIT_USAGE;
	snprintf(args, sizeof(args), "status --format prom --output %s/", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "--output takes a file name, not '");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format prom --output ''");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "--output takes a file name, not ''");
	if (!ok)
		ktap_diag("rc %d: %s", rc, err);
	ktap_result(ok, "status --output: only with prom or openmetrics, a file name (not '' or DIR/), exit 2");

	/* A directory that is not there, one that is a file, FILE a directory. */
	snprintf(args, sizeof(args), "status --format prom --output %s/no/x.prom", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	snprintf(args, sizeof(args), "--output %s/no/x.prom: cannot create a file in %s/no/: No such file or directory",
		 dir, dir);
	ok = dir_ok && rc == PST_EXIT_FAIL && strstr(err, args);
	if (!ok)
		ktap_diag("rc %d: %s", rc, err);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format openmetrics --output /etc/passwd/x.prom");
	ok = ok && rc == PST_EXIT_FAIL &&
	     strstr(err, "cannot create a file in /etc/passwd/: Not a directory");
	snprintf(args, sizeof(args), "status --format prom --output %s", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ok = ok && rc == PST_EXIT_FAIL && strstr(err, ": is a directory, not a file");
	names = dir_names(dir);
	ok = ok && names && !*names;
	if (!ok)
		ktap_diag("rc %d: %s; left in %s: %s", rc, err, dir, names ? names : "(none)");
	free(names);
	ktap_result(ok, "status --output to a path that cannot be written: exit 1 before the module, says why, nothing created");

	/* Writable, but no module: the old FILE stays, no temporary left. */
	snprintf(args, sizeof(args), "%s/x.prom", dir);
	f = fopen(args, "we");
	ok = f && fputs("old\n", f) >= 0;
	if (f)
		ok = !fclose(f) && ok;
	snprintf(args, sizeof(args), "status --format prom --output %s/x.prom", dir);
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ok = ok && rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded");
	snprintf(args, sizeof(args), "%s/x.prom", dir);
	f = fopen(args, "re");
	ok = ok && f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "old\n");
	if (f)
		fclose(f);
	unlink(args);
	names = dir_names(dir);
	ok = ok && names && !*names;
	if (!ok)
		ktap_diag("rc %d: %s; read '%s'; left in %s: %s", rc, err, buf, dir,
			  names ? names : "(none)");
	free(names);
	ktap_result(ok, "status --output without the module: exit 3, FILE as it was, no temporary file left");
	if (dir_ok)
		rmdir(dir);
}

static void test_cli(void)
{
	bool ok;
	int rc;

	rc = run("", "--help");
	ktap_result(rc == 0 && strstr(out, "Exit status") && strstr(out, "version"),
		    "--help: exit 0, lists commands and exit statuses");
	rc = run("", "");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "usage"),
		    "no command: usage on stderr, exit 2");
	rc = run("", "frobnicate");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unknown command 'frobnicate'"),
		    "unknown command: named in the error, exit 2");
	rc = run("", "version --bogus");
	ktap_result(rc == PST_EXIT_USAGE, "unknown option: exit 2");
	rc = run("", "version extra");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unexpected argument 'extra'"),
		    "stray argument: named in the error, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "version");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded") &&
		    strstr(out, "pisteer tool"),
		    "no module: says 'not loaded', still prints the tool's version, exit 3");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "version --json");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(out, "\"module_error\""),
		    "no module, --json: module_error in the document, exit 3");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded"),
		    "status without the module: 'not loaded', exit 3");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format xml");
	ok = rc == PST_EXIT_USAGE &&
	     strstr(err, "--format takes table, json, prom or openmetrics, not 'xml'");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format");
	ok = ok && rc == PST_EXIT_USAGE;
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format ''");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "not ''");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --json --format prom");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "conflicts with --format prom");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --json --format openmetrics");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "conflicts with --format openmetrics");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format json");
	ok = ok && rc == PST_EXIT_NO_MODULE;
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --format openmetrics");
	ok = ok && rc == PST_EXIT_NO_MODULE && !out[0];
	ktap_result(ok, "status --format: bad values and conflicts exit 2 before the module");
	test_status_output();
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --vm 12x");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--vm takes a process id"),
		    "status --vm 12x: refused before anything else, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "status --device 00:02");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--device takes a PCI address"),
		    "status --device 00:02: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer follow");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "exactly one of --vm, --device, --irq"),
		    "steer without a scope: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 --irq 2 off");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "exactly one of"),
		    "steer with two scopes: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 static");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "static needs a CPU"),
		    "steer static without a CPU: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 static -3");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "static takes a CPU number"),
		    "steer static -3: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 sideways");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unknown policy 'sideways'"),
		    "steer with an unknown policy: named, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 follow extra");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unexpected argument 'extra'"),
		    "steer with a stray argument: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 0 follow");
	ktap_result(rc == PST_EXIT_USAGE, "steer --vm 0: refused, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 follow");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded"),
		    "steer without the module: 'not loaded', exit 3");
	rc = run("PISTEER_DEV=/dev/null", "version");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "version query"),
		    "a device that is not pisteer's: the failed query is reported, exit 1");
}

/* cmd_getopt() over @argv (NULL-terminated): "j" = --json, "v:" = --vm. */
static bool scan(const char *const *argv, const char *want_ops, bool want_json,
		 const char *want_vm)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "vm", required_argument, NULL, 'v' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	char *v[16], got[256] = "";
	const char *vm = "";
	bool json = false;
	int argc = 0, opt, i;

	while (argv[argc] && argc < 15) {
		v[argc] = (char *)argv[argc];
		argc++;
	}
	v[argc] = NULL;
	opterr = 0;
	while ((opt = cmd_getopt(argc, v, "jv:", opts, &ops)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'v')
			vm = optarg;
		else
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "?");
	}
	opterr = 1;
	for (i = 0; i < ops.n && i < CMD_MAX_OPERANDS; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			 i ? " " : "", ops.v[i]);
	if (!strcmp(got, want_ops) && json == want_json && !strcmp(vm, want_vm))
		return true;
	ktap_diag("operands '%s' json %d vm '%s', expected '%s' %d '%s'", got, json, vm,
		  want_ops, want_json, want_vm);
	return false;
}

static void test_getopt(void)
{
	static const char *const a[] = { "x", "a", "--json", "b", "--vm", "3", NULL },
		*b[] = { "x", "--vm=4", "a", "-j", NULL },
		*c[] = { "x", "--json", "--", "--vm", "-j", NULL },
		*d[] = { "x", "static", "-3", "--vm", "-5", NULL },
		*e[] = { "x", "-3", "-jv", "7", "-", NULL },
		*f[] = { "x", "a", "--json", NULL };
	bool ok;

	ok = scan(a, "a b", true, "3") && scan(b, "a", true, "4") &&
	     scan(c, "--vm -j", true, "");
	ktap_result(ok, "cmd_getopt: options before, between and after operands; '--' ends them");
	ok = scan(d, "static -3", false, "-5") && scan(e, "-3 -", true, "7");
	ktap_result(ok, "cmd_getopt: a negative number is an operand, and an option's argument");
	setenv("POSIXLY_CORRECT", "1", 1);
	ok = scan(f, "a", true, "");
	unsetenv("POSIXLY_CORRECT");
	ok = ok && scan(f, "a", true, "") && scan(a, "a b", true, "3");
	ktap_result(ok, "cmd_getopt: the same under POSIXLY_CORRECT, and scan after scan");
}

/* A command line of the built tool, its exit status and what stderr says. */
struct cli_case {
	const char *args;
	int rc;
	const char *says;
};

/*
 * Run each of @cases with the module absent (and @env): true when each
 * exits as expected and says so on stderr, with nothing on stdout when
 * @quiet.
 */
static bool run_cases(const struct cli_case *cases, size_t n, const char *env, bool quiet)
{
	char cmd[256];
	bool ok = true;
	size_t i;
	int rc;

	snprintf(cmd, sizeof(cmd), "PISTEER_DEV=/nonexistent/pisteer%s", env);
	for (i = 0; i < n; i++) {
		rc = run(cmd, cases[i].args);
		if (rc != cases[i].rc || !strstr(err, cases[i].says) || (quiet && out[0])) {
			ktap_diag("'%s'%s: exit %d, stdout '%.40s', stderr: %s", cases[i].args,
				  env, rc, out, err);
			ok = false;
		}
	}
	return ok;
}

/* Options after the operands, and "--", on the commands that take operands. */
static void test_option_order(void)
{
	static const struct cli_case cases[] = {
		{ "steer follow --vm 1", PST_EXIT_NO_MODULE, "not loaded" },
		{ "steer static --vm 1 2", PST_EXIT_NO_MODULE, "not loaded" },
		{ "steer static 2 --irq 5 --interval-us 100", PST_EXIT_NO_MODULE, "not loaded" },
		{ "steer housekeeping --device 3b:00.1 --cpus 0", PST_EXIT_NO_MODULE, "not loaded" },
		{ "steer --vm 1 -- static 2", PST_EXIT_NO_MODULE, "not loaded" },
		{ "steer --vm 1 -- static -3", PST_EXIT_USAGE, "static takes a CPU number, not '-3'" },
		{ "steer static 2 --vm 1 extra", PST_EXIT_USAGE, "unexpected argument 'extra'" },
		{ "steer follow --vm x", PST_EXIT_USAGE, "--vm takes a process id" },
		{ "status extra --json", PST_EXIT_USAGE, "unexpected argument 'extra'" },
		{ "lat --json extra --vm 1", PST_EXIT_USAGE, "unexpected argument 'extra'" },
		{ "version -- --json", PST_EXIT_USAGE, "unexpected argument '--json'" },
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	bool ok;

	/* Each twice: as it is, and with POSIXLY_CORRECT set (no difference). */
	ok = run_cases(cases, n, "", false);
	ok = run_cases(cases, n, " POSIXLY_CORRECT=1", false) && ok;
	ktap_result(ok, "options before, between or after operands, '--', also under POSIXLY_CORRECT (%zu command lines)",
		    n);
}

/* Every command's help: one text, on stdout, exit 0, however it is asked for. */
static void test_help(void)
{
	static const char *const ways[] = { "%s --help", "%s -h", "help %s", "--help %s" };
	static const char *const guest[] = {
		"guest help", "guest status --help", "guest status eth0 -h", "guest set --help",
		"guest set eth0 1 0 --help", "guest spread --help", "guest attach eth0 --help",
		"guest detach --help",
	};
	char names[16][32], args[128], first[8192], *p, *nl;
	unsigned int n = 0, i, j;
	bool ok = true;
	int rc;

	rc = run("", "--help");
	p = strstr(out, "Commands:\n");
	for (p = p ? strchr(p, '\n') + 1 : NULL; p && n < 16 && sscanf(p, " %31s", names[n]) == 1 &&
	     *p == ' '; p = nl + 1) {
		n++;
		nl = strchr(p, '\n');
		if (!nl)
			break;
	}
	ktap_result(rc == 0 && n >= 8, "pisteer --help lists %u commands", n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(ways) / sizeof(ways[0]); j++) {
			char want[64];

			snprintf(args, sizeof(args), ways[j], names[i]);
			rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
			snprintf(want, sizeof(want), "usage: pisteer %.32s", names[i]);
			if (rc || err[0] || strncmp(out, want, strlen(want)) != 0 ||
			    (j && strcmp(out, first) != 0)) {
				ktap_diag("'%s': exit %d, stderr '%s', stdout %.60s%s", args, rc,
					  err, out, j && strcmp(out, first) != 0 ?
					  " (not the same text)" : "");
				ok = false;
			}
			if (!j)
				snprintf(first, sizeof(first), "%s", out);
		}
	}
	ktap_result(ok, "CMD --help, CMD -h, help CMD, --help CMD: the same text on stdout, exit 0, for each command");

	run("", "guest --help");
	snprintf(first, sizeof(first), "%s", out);
	for (i = 0; i < sizeof(guest) / sizeof(guest[0]); i++) {
		rc = run("PISTEER_SYSFS=/nonexistent", guest[i]);
		if (rc || err[0] || strcmp(out, first) != 0) {
			ktap_diag("'%s': exit %d, stderr '%s'", guest[i], rc, err);
			ok = false;
		}
	}
	rc = run("", "steer --vm 1 static 2 --help");
	ok = ok && rc == 0 && !strncmp(out, "usage: pisteer steer", 20);
	ktap_result(ok, "guest SUBCOMMAND --help (options and operands anywhere): guest's help, exit 0");

	rc = run("", "help nosuch");
	ok = rc == PST_EXIT_USAGE && strstr(err, "unknown command 'nosuch'") && !out[0];
	rc = run("", "help steer extra");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "unexpected argument 'extra'");
	ktap_result(ok, "help of an unknown command, or with a stray argument: exit 2");
}

/* pisteer check's command line: refused before the module is asked. */
static void test_check_cli(void)
{
	static const struct cli_case cases[] = {
		{ "check --bogus", PST_EXIT_USAGE, "unrecognized option '--bogus'" },
		{ "check --vm 12x", PST_EXIT_USAGE, "--vm takes a process id, not '12x'" },
		{ "check --vm 0", PST_EXIT_USAGE, "--vm takes a process id" },
		{ "check --vm -4", PST_EXIT_USAGE, "--vm takes a process id, not '-4'" },
		{ "check --device 00:zz.0", PST_EXIT_USAGE, "--device takes a PCI address" },
		{ "check --device ff:1f.7", PST_EXIT_USAGE, "--device 0000:ff:1f.7: no such PCI device" },
		{ "check extra", PST_EXIT_USAGE, "unexpected argument 'extra'" },
		{ "check --json extra", PST_EXIT_USAGE, "unexpected argument 'extra'" },
		{ "check --vm 1073741823", PST_EXIT_USAGE, "--vm 1073741823: no such process" },
		{ "check", PST_EXIT_NO_MODULE, "not loaded" },
		{ "check --json", PST_EXIT_NO_MODULE, "not loaded" },
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	char args[64];
	int rc;

	ktap_result(run_cases(cases, n, "", true),
		    "check: unknown option, bad --vm/--device, stray operand: exit 2; no module: exit 3 (%zu command lines)",
		    n);
	/* A process that exited: its pid names nothing, and check says so. */
	snprintf(args, sizeof(args), "check --vm %d", (int)gone_pid());
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "no such process (has it exited?)") &&
		    !out[0], "check --vm of a vanished process: 'no such process', exit 2");
	/* This process holds no VM: refused with what --vm wants. */
	snprintf(args, sizeof(args), "check --vm %d", (int)getpid());
	rc = run("PISTEER_DEV=/nonexistent/pisteer", args);
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "holds no KVM VM") && !out[0],
		    "check --vm of a process that is not a VM: refused, exit 2");
}

static bool pct_is(const __u64 *hist, uint64_t min, uint64_t max, double q,
		   uint64_t ge, uint64_t lt)
{
	struct lat_pct p;

	if (lat_percentile(hist, min, max, q, &p)) {
		ktap_diag("q %g: no percentile", q);
		return false;
	}
	if (p.ge == ge && p.lt == lt)
		return true;
	ktap_diag("q %g: [%llu, %llu), expected [%llu, %llu)", q,
		  (unsigned long long)p.ge, (unsigned long long)p.lt,
		  (unsigned long long)ge, (unsigned long long)lt);
	return false;
}

static void test_lat_percentiles(void)
{
	__u64 hist[LAT_BUCKETS] = { 0 };
	struct lat_pct p;
	bool ok;

	/* 50 in [1K, 2K), 49 in [4K, 8K), 1 in [1M, 2M): 100 samples */
	hist[10] = 50;
	hist[12] = 49;
	hist[20] = 1;
	ok = pct_is(hist, 0, UINT64_MAX, 0.5, 1024, 2048) &&
	     pct_is(hist, 0, UINT64_MAX, 0.51, 4096, 8192) &&
	     pct_is(hist, 0, UINT64_MAX, 0.99, 4096, 8192) &&
	     pct_is(hist, 0, UINT64_MAX, 0.999, 1 << 20, 1 << 21) &&
	     pct_is(hist, 0, UINT64_MAX, 1.0, 1 << 20, 1 << 21);
	/* narrowed to the samples' min and max */
	ok = ok && pct_is(hist, 1100, 1500000, 0.5, 1100, 2048) &&
	     pct_is(hist, 1100, 1500000, 0.999, 1 << 20, 1500001);
	memset(hist, 0, sizeof(hist));
	ok = ok && lat_percentile(hist, 0, 0, 0.5, &p) == -1;
	hist[0] = 3;
	hist[LAT_BUCKETS - 1] = 1;
	ok = ok && pct_is(hist, 0, UINT64_MAX, 0.75, 0, 2) &&
	     pct_is(hist, 0, UINT64_MAX, 0.76, 1ULL << 63, UINT64_MAX) &&
	     lat_percentile(hist, 0, UINT64_MAX, 0, &p) == -1 &&
	     lat_percentile(hist, 0, UINT64_MAX, 1.5, &p) == -1 &&
	     lat_hist_total(hist) == 4;
	ktap_result(ok, "latency percentiles: the bucket of rank ceil(q*n), narrowed to [min, max], empty and edge buckets");
}

static void test_lat_drawing(void)
{
	__u64 hist[LAT_BUCKETS] = { 0 };
	char label[32], ns[16], *buf = NULL, want[512], at[LAT_BAR_WIDTH + 1];
	size_t len = 0;
	bool ok;
	FILE *f;

	lat_bucket_label(0, label, sizeof(label));
	ok = !strcmp(label, "[0, 2)");
	lat_bucket_label(1, label, sizeof(label));
	ok = ok && !strcmp(label, "[2, 4)");
	lat_bucket_label(9, label, sizeof(label));
	ok = ok && !strcmp(label, "[512, 1K)");
	lat_bucket_label(23, label, sizeof(label));
	ok = ok && !strcmp(label, "[8M, 16M)");
	lat_fmt_ns(850, ns, sizeof(ns));
	ok = ok && !strcmp(ns, "850ns");
	lat_fmt_ns(12345, ns, sizeof(ns));
	ok = ok && !strcmp(ns, "12.3us");
	lat_fmt_ns(1050000, ns, sizeof(ns));
	ok = ok && !strcmp(ns, "1.05ms");
	lat_fmt_ns(2000000000, ns, sizeof(ns));
	ok = ok && !strcmp(ns, "2.00s");

	hist[10] = 4;
	hist[12] = 2;
	f = open_memstream(&buf, &len);
	if (!f)
		return (void)ktap_result(false, "open_memstream");
	lat_hist_print(f, hist, "  ");
	fclose(f);
	memset(at, '@', LAT_BAR_WIDTH);
	at[LAT_BAR_WIDTH] = '\0';
	snprintf(want, sizeof(want),
		 "  [1K, 2K)                    4 |%s|\n"
		 "  [2K, 4K)                    0 |%*s|\n"
		 "  [4K, 8K)                    2 |%.*s%*s|\n",
		 at, LAT_BAR_WIDTH, "", LAT_BAR_WIDTH / 2, at, LAT_BAR_WIDTH / 2, "");
	ok = ok && !strcmp(buf, want);
	if (!ok)
		ktap_diag("got:\n%s", buf);
	free(buf);
	buf = NULL;
	memset(hist, 0, sizeof(hist));
	f = open_memstream(&buf, &len);
	if (!f)
		return (void)ktap_result(false, "open_memstream");
	lat_hist_print(f, hist, "");
	fclose(f);
	ok = ok && len == 0;
	free(buf);
	ktap_result(ok, "latency histogram drawn like bpftrace hist(): labels, bars scaled to the top bucket, empty middle buckets");
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (s = strstr(s, what); s; s = strstr(s + 1, what))
		n++;
	return n;
}

static void test_lat_svg(void)
{
	__u64 a[LAT_BUCKETS] = { 0 }, b[LAT_BUCKETS] = { 0 };
	struct lat_series s[2] = { { "VM 1-2 <dev> & irq 3", a }, { "empty", b } };
	char path[] = "/tmp/cli_unit_svg.XXXXXX", cmd[128], *buf = NULL;
	size_t len = 0;
	bool ok;
	FILE *f;
	int fd;

	a[17] = 5;
	a[19] = 1;	/* bars for buckets 17, 18 (empty, height 0), 19 */
	f = open_memstream(&buf, &len);
	if (!f)
		return (void)ktap_result(false, "open_memstream");
	ok = !lat_svg_write(f, s, 2);
	fclose(f);
	ok = ok && !strncmp(buf, "<?xml", 5) && count_of(buf, "<svg ") == 1 &&
	     count_of(buf, "<g ") == 2 && count_of(buf, "</g>") == 2 &&
	     count_of(buf, "fill=\"steelblue\"") == 3 &&
	     count_of(buf, "no samples") == 1 &&
	     strstr(buf, "VM 1-2 &lt;dev&gt; &amp; irq 3") && !strstr(buf, "<dev>") &&
	     len > 7 && !strcmp(buf + len - 7, "</svg>\n");
	/* And an XML parser agrees, where there is one. */
	if (ok && !system("command -v xmllint >/dev/null")) {
		fd = mkstemp(path);
		ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;
		if (fd >= 0)
			close(fd);
		snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
		ok = ok && !system(cmd);
		unlink(path);
	}
	if (!ok && buf)
		ktap_diag("%s", buf);
	free(buf);
	ktap_result(ok, "latency SVG: one chart per vector, a bar per bucket, text escaped, well-formed");
}

static void test_lat_json_delta(void)
{
	struct pisteer_lat_read h = { .state = PISTEER_LAT_S_ALL | PISTEER_LAT_S_PROBES };
	struct pisteer_lat_vector v[2], before;
	json_object *root, *o, *x, *y;
	char *doc;
	bool ok;

	memset(v, 0, sizeof(v));
	v[0].vm_pid = 42;
	v[0].vm_fd = 7;
	v[0].host_irq = 33;
	v[0].irq_type = PISTEER_IRQ_MSIX;
	v[0].count = 10;
	v[0].sum_ns = 30000;
	v[0].min_ns = 1500;
	v[0].max_ns = 5000;
	v[0].hist[10] = 6;
	v[0].hist[12] = 4;
	v[1] = v[0];
	v[1].host_irq = 34;
	v[1].flags = PISTEER_LAT_F_GONE;
	v[1].count = 0;
	v[1].sum_ns = 0;
	v[1].min_ns = 0;
	v[1].max_ns = 0;
	memset(v[1].hist, 0, sizeof(v[1].hist));

	doc = lat_to_json(&h, v, 2, 0);
	ok = doc && !strchr(doc, '\n');
	free(doc);
	doc = lat_to_json(&h, v, 2, 1);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = ok && root && json_object_object_get_ex(root, "sampling", &x) &&
	     json_object_object_get_ex(x, "all_vms", &y) && json_object_get_boolean(y) &&
	     json_object_object_get_ex(root, "vectors", &x) &&
	     json_object_array_length(x) == 2;
	o = ok ? json_object_array_get_idx(x, 0) : NULL;
	ok = ok && json_object_object_get_ex(o, "p50_ns", &x) &&
	     json_object_object_get_ex(x, "ge", &y) && json_object_get_uint64(y) == 1500 &&
	     json_object_object_get_ex(x, "lt", &y) && json_object_get_uint64(y) == 2048 &&
	     json_object_object_get_ex(o, "p99.9_ns", &x) &&
	     json_object_object_get_ex(x, "lt", &y) && json_object_get_uint64(y) == 5001 &&
	     json_object_object_get_ex(o, "mean_ns", &x) && json_object_get_uint64(x) == 3000 &&
	     json_object_object_get_ex(o, "hist", &x) && json_object_array_length(x) == 2;
	o = ok ? json_object_array_get_idx(root ? json_object_object_get(root, "vectors") : NULL, 1) : NULL;
	ok = ok && json_object_object_get_ex(o, "gone", &x) && json_object_get_boolean(x) &&
	     json_object_object_get_ex(o, "min_ns", &x) && !x &&
	     json_object_object_get_ex(o, "p50_ns", &x) && !x;
	if (!ok && doc)
		ktap_diag("%s", doc);
	json_object_put(root);
	free(doc);

	/* --interval: 4 of the 10 came after the first reading, all in [4K, 8K) */
	before = v[0];
	before.count = 6;
	before.sum_ns = 9600;
	before.max_ns = 2000;
	before.hist[12] = 0;
	lat_delta(v, 1, &before, 1);
	ok = ok && v[0].count == 4 && v[0].sum_ns == 30000 - 9600 &&
	     v[0].hist[10] == 0 && v[0].hist[12] == 4 && lat_hist_total(v[0].hist) == 4 &&
	     v[0].min_ns == 4096 && v[0].max_ns == 5000;
	ktap_result(ok, "latency JSON (percentiles as bucket bounds, nulls without samples, one line for --interval) and --interval differences");
}

static void test_steer_cpus(void)
{
	__u64 w[PISTEER_AFFINITY_WORDS];
	bool ok;

	ok = !steer_parse_cpus("0-3,8", w) && w[0] == 0x10f && !w[1];
	ok = ok && !steer_parse_cpus("1023", w) && w[15] == 1ULL << 63 && !w[0];
	ok = ok && !steer_parse_cpus("63-64", w) && w[0] == 1ULL << 63 && w[1] == 1;
	ok = ok && steer_parse_cpus("1024", w) && steer_parse_cpus("3-1", w) &&
	     steer_parse_cpus("", w) && steer_parse_cpus("1,", w) &&
	     steer_parse_cpus("0-", w) && steer_parse_cpus("x", w) &&
	     steer_parse_cpus("-1", w) && steer_parse_cpus("1 2", w);
	ktap_result(ok, "steer --cpus lists: ranges, across words, CPU 1023; bad lists refused");
}

/* config_parse() on @text: its return, the error in @e. */
static int parse_text(const char *text, struct config_settings *c, char *e, size_t len)
{
	char buf[1024];
	FILE *f;
	int ret;

	snprintf(buf, sizeof(buf), "%s", text);
	f = fmemopen(buf, strlen(buf), "r");
	if (!f)
		return -ENOMEM;
	ret = config_parse(f, "t.conf", c, e, len);
	fclose(f);
	return ret;
}

static void test_config(void)
{
	static const struct { const char *text, *err; } bad[] = {
		{ "DEFAULT_POLICY=folow\n", "t.conf:1: DEFAULT_POLICY: 'folow'" },
		{ "# x\n\nFOO=1\n", "t.conf:3: unknown key 'FOO'" },
		{ "DEFAULT_POLICY = auto\n", "t.conf:1: no blanks around '='" },
		{ "HOUSEKEEPING_CPUS=0-x\n", "t.conf:1: HOUSEKEEPING_CPUS: not a CPU list" },
		{ "LATENCY_SAMPLING=1\n", "t.conf:1: LATENCY_SAMPLING: '1' is not yes or no" },
		{ "DEFAULT_POLICY=\"auto\n", "t.conf:1: unterminated quote" },
		{ "DEFAULT_POLICY=$P\n", "t.conf:1: $, ` and \\ are not supported" },
		{ "DEFAULT_POLICY=auto x\n", "t.conf:1: more than one value" },
		{ "auto\n", "t.conf:1: not KEY=value" },
		{ "DEFAULT_POLICY=auto\nDEFAULT_POLICY=none\n", "t.conf:2: DEFAULT_POLICY is set twice" },
		{ "HOOK_POLICY=static\n", "t.conf:1: HOOK_POLICY: 'static'" },
	};
	struct config_settings c;
	char e[512], dir[] = "/tmp/cli_unit_conf.XXXXXX", args[2048], path[200];
	unsigned int i;
	bool ok;
	FILE *f;
	int rc;

	rc = parse_text("# comment\n  \nDEFAULT_POLICY=follow # the default\n"
			"HOUSEKEEPING_CPUS='0-1,8'\n\tLATENCY_SAMPLING=\"yes\"\r\n", &c, e, sizeof(e));
	ok = !rc && !strcmp(c.default_policy, "follow") && c.line[0] == 3 &&
	     c.cpus.w[0] == 0x103 && c.line[1] == 4 && c.sampling == 1 && c.line[2] == 5 &&
	     !c.line[3];
	rc = parse_text("HOUSEKEEPING_CPUS=\nHOOK_POLICY=off\n", &c, e, sizeof(e));
	ok = ok && !rc && c.line[1] == 1 && !c.cpus.w[0] && c.sampling == -1 &&
	     !strcmp(c.hook_policy, "off") && !c.line[0];
	ktap_result(ok, "config: keys, comments, quotes, blanks; an empty CPU list");
	ok = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e[0] = '\0';
		rc = parse_text(bad[i].text, &c, e, sizeof(e));
		if (rc != -EINVAL || strncmp(e, bad[i].err, strlen(bad[i].err)) != 0) {
			ktap_diag("'%s': %d '%s'", bad[i].text, rc, e);
			ok = false;
		}
	}
	ktap_result(ok, "config: each bad line refused with its number and why");

	/* The command against a parameter directory that is not the module's. */
	ok = mkdtemp(dir) != NULL;
	snprintf(path, sizeof(path), "%s/module/pisteer/parameters", dir);
	snprintf(args, sizeof(args), "mkdir -p %s && echo none > %s/default_policy && "
		 "echo > %s/housekeeping_cpus", path, path, path);
	ok = ok && !system(args);
	snprintf(path, sizeof(path), "%s/c.conf", dir);
	f = fopen(path, "we");
	ok = ok && f;
	if (f) {
		fputs("DEFAULT_POLICY=auto\nHOUSEKEEPING_CPUS=0-x\n", f);
		fclose(f);
	}
	snprintf(e, sizeof(e), "PISTEER_SYSFS=%s", dir);
	snprintf(args, sizeof(args), "config apply --file %s", path);
	rc = run(e, args);
	ok = ok && rc == PST_EXIT_FAIL && strstr(err, "c.conf:2: HOUSEKEEPING_CPUS") &&
	     strstr(err, "nothing applied");
	snprintf(args, sizeof(args), "grep -qx none %s/module/pisteer/parameters/default_policy",
		 dir);
	ok = ok && !system(args);
	f = fopen(path, "we");
	if (f) {
		fputs("DEFAULT_POLICY=housekeeping\nHOUSEKEEPING_CPUS=2-3\n", f);
		fclose(f);
	}
	snprintf(args, sizeof(args), "config --file %s apply", path);
	rc = run(e, args);
	ok = ok && rc == PST_EXIT_OK && strstr(out, "default policy housekeeping");
	snprintf(args, sizeof(args), "grep -qx housekeeping %s/module/pisteer/parameters/default_policy"
		 " && grep -qx 2-3 %s/module/pisteer/parameters/housekeeping_cpus", dir, dir);
	ok = ok && !system(args);
	rc = run("PISTEER_SYSFS=/nonexistent", "config apply --file /nonexistent/x");
	ok = ok && rc == PST_EXIT_FAIL && strstr(err, "/nonexistent/x");
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	if (system(args))
		ok = false;
	ktap_result(ok, "config apply: a bad file changes nothing, a good one sets the parameters");
}

static void test_lat_cli(void)
{
	bool ok;
	int rc;

	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 housekeeping --cpus 0,x");
	ok = rc == PST_EXIT_USAGE && strstr(err, "--cpus takes a CPU list");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 follow --cpus 0");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "housekeeping or auto only");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 housekeeping --cpus 0 extra");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "unexpected argument 'extra'");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "steer --vm 1 --cpus 0-1");
	ok = ok && rc == PST_EXIT_NO_MODULE;
	ktap_result(ok, "steer housekeeping/auto: --cpus checked, auto the default policy");

	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --enable --reset");
	ok = rc == PST_EXIT_USAGE && strstr(err, "one at a time");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --disable --json");
	ok = ok && rc == PST_EXIT_USAGE;
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --count 2");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "goes with --interval");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --interval 0");
	ok = ok && rc == PST_EXIT_USAGE && strstr(err, "--interval takes a number");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --interval 1 --svg x.svg");
	ok = ok && rc == PST_EXIT_USAGE;
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat --vm x");
	ok = ok && rc == PST_EXIT_USAGE;
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "lat");
	ok = ok && rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded");
	rc = run("", "lat --help");
	ok = ok && rc == 0 && strstr(out, "p99.9") && strstr(out, "--svg FILE");
	ktap_result(ok, "lat: conflicting options refused (exit 2), no module exit 3, --help");
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	fd = mkstemp(out_path);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(out_path);

	ktap_plan(60);
	test_exit_mapping();
	test_dev_path();
	test_abi_check();
	test_text_report();
	test_json_report();
	test_bdf();
	test_cpulist();
	test_names();
	test_status_json();
	test_status_prom();
	test_cli();
	test_getopt();
	test_option_order();
	test_help();
	test_lat_percentiles();
	test_lat_drawing();
	test_lat_svg();
	test_lat_json_delta();
	test_steer_cpus();
	test_config();
	test_lat_cli();
	test_check_cli();
	ktap_finish();
}
