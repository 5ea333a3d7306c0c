// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer lat: switch latency sampling and show its histograms.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "lat_hist.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer lat [--vm PID] [--device BDF] [--json] [--svg FILE]\n"
		"                   [--interval S [--count N]]\n"
		"       pisteer lat (--enable | --disable | --reset) [--vm PID]\n"
		"\n"
		"Host delivery latency of passthrough vectors: from the entry of the host\n"
		"IRQ handler (vfio_msihandler) to the next VM entry of the vector's target\n"
		"vCPU.  It includes the irqfd wakeup, the kick of the vCPU and, when the\n"
		"vCPU was halted or preempted, its wakeup and scheduling.\n"
		"\n"
		"  --enable       start sampling every VM, or with --vm the VMs of PID\n"
		"  --disable      stop sampling (with --vm: that VM only) and drop the\n"
		"                 samples; with nothing enabled the module has no probe\n"
		"  --reset        zero the samples (with --vm: of that VM)\n"
		"  --vm PID       show only VMs held by process PID\n"
		"  --device BDF   show only this PCI device\n"
		"  --json         a JSON document instead of text\n"
		"  --svg FILE     also write an SVG bar chart of each histogram to FILE\n"
		"  --interval S   print what came in the last S seconds, every S seconds,\n"
		"                 until interrupted (or --count N times); min and max are\n"
		"                 then the bounds of the interval's histogram; with --json\n"
		"                 one document a line\n"
		"  --count N      with --interval: print N times, then exit\n"
		"\n"
		"Per vector: count, min, p50, p99, p99.9, max, mean and a log2 histogram\n"
		"in ns.  Percentiles are known to the bucket: shown as [from, to), narrowed\n"
		"to [min, max].  'coalesced' counts interrupts not measured because their\n"
		"vCPU had a measurement pending.  A vector marked (gone) no longer exists.\n");
}

struct lat_set {
	struct pisteer_lat_read hdr;
	struct pisteer_lat_vector *v;
	unsigned int n;
};

static int lat_read(int fd, const struct pst_filter *f, struct lat_set *set)
{
	memset(set, 0, sizeof(*set));
	return pst_lat_read(fd, f, &set->hdr, &set->v, &set->n);
}

static void vec_title(const struct pisteer_lat_vector *v, char *buf, size_t len)
{
	char bdf[16];

	pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
	snprintf(buf, len, "VM %d-%u %s %s[%u] irq %u vCPU %d%s", v->vm_pid,
		 v->vm_fd, bdf, v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi",
		 v->index, v->host_irq, v->vcpu,
		 v->flags & PISTEER_LAT_F_GONE ? " (gone)" : "");
}

static const struct {
	const char *name;
	double q;
} pcts[] = { { "p50", 0.5 }, { "p99", 0.99 }, { "p99.9", 0.999 } };

static void print_state(const struct pisteer_lat_read *h)
{
	if (h->state & PISTEER_LAT_S_ALL)
		printf("sampling: on for every VM\n");
	else if (h->nr_vms)
		printf("sampling: on for %u VM process%s\n", h->nr_vms,
		       h->nr_vms == 1 ? "" : "es");
	else
		printf("sampling: off (pisteer lat --enable)\n");
	if (h->dropped)
		printf("warning: %u vectors not sampled: the module's table is full\n",
		       h->dropped);
}

void lat_print_text(const struct pisteer_lat_read *h,
		    const struct pisteer_lat_vector *v, unsigned int n)
{
	char title[128], a[16], b[16];
	struct lat_pct p;
	unsigned int i, j;

	print_state(h);
	if (!n)
		printf("no samples%s\n", h->state & PISTEER_LAT_S_PROBES ?
		       " yet" : "");
	for (i = 0; i < n; i++, v++) {
		vec_title(v, title, sizeof(title));
		printf("\n%s\n  count %llu", title, (unsigned long long)v->count);
		if (v->count) {
			lat_fmt_ns(v->min_ns, a, sizeof(a));
			printf("  min %s", a);
			for (j = 0; j < sizeof(pcts) / sizeof(pcts[0]); j++) {
				if (lat_percentile(v->hist, v->min_ns, v->max_ns,
						   pcts[j].q, &p))
					continue;
				lat_fmt_ns(p.ge, a, sizeof(a));
				lat_fmt_ns(p.lt, b, sizeof(b));
				printf("  %s [%s, %s)", pcts[j].name, a, b);
			}
			lat_fmt_ns(v->max_ns, a, sizeof(a));
			lat_fmt_ns(v->sum_ns / v->count, b, sizeof(b));
			printf("  max %s  mean %s", a, b);
		}
		printf("  coalesced %llu\n", (unsigned long long)v->coalesced);
		if (v->count) {
			printf("  %-20s %8s  distribution\n", "ns", "count");
			lat_hist_print(stdout, v->hist, "  ");
		}
	}
}

static json_object *pct_json(const struct pisteer_lat_vector *v, double q)
{
	struct lat_pct p;
	json_object *o;

	if (lat_percentile(v->hist, v->min_ns, v->max_ns, q, &p))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "ge", json_object_new_uint64(p.ge));
	json_object_object_add(o, "lt", json_object_new_uint64(p.lt));
	return o;
}

char *lat_to_json(const struct pisteer_lat_read *h,
		  const struct pisteer_lat_vector *v, unsigned int n, int pretty)
{
	json_object *doc = json_object_new_object(), *arr, *o, *hist, *b, *st;
	char bdf[16], vm[32];
	unsigned int i, j, k;
	char *s;

	if (!doc)
		return NULL;
	st = json_object_new_object();
	json_object_object_add(st, "all_vms", json_object_new_boolean(
		!!(h->state & PISTEER_LAT_S_ALL)));
	json_object_object_add(st, "vm_processes", json_object_new_int64(h->nr_vms));
	json_object_object_add(st, "probes", json_object_new_boolean(
		!!(h->state & PISTEER_LAT_S_PROBES)));
	json_object_object_add(st, "dropped", json_object_new_int64(h->dropped));
	json_object_object_add(doc, "sampling", st);
	arr = json_object_new_array();
	for (i = 0; i < n; i++, v++) {
		o = json_object_new_object();
		pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
		snprintf(vm, sizeof(vm), "%d-%u", v->vm_pid, v->vm_fd);
		json_object_object_add(o, "vm", json_object_new_string(vm));
		json_object_object_add(o, "vm_pid", json_object_new_int(v->vm_pid));
		json_object_object_add(o, "device", json_object_new_string(bdf));
		json_object_object_add(o, "irq_type", json_object_new_string(
			v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi"));
		json_object_object_add(o, "index", json_object_new_int64(v->index));
		json_object_object_add(o, "host_irq", json_object_new_int64(v->host_irq));
		json_object_object_add(o, "vcpu", json_object_new_int(v->vcpu));
		json_object_object_add(o, "gone", json_object_new_boolean(
			!!(v->flags & PISTEER_LAT_F_GONE)));
		json_object_object_add(o, "count", json_object_new_uint64(v->count));
		json_object_object_add(o, "coalesced", json_object_new_uint64(v->coalesced));
		json_object_object_add(o, "sum_ns", json_object_new_uint64(v->sum_ns));
		json_object_object_add(o, "min_ns", v->count ?
				       json_object_new_uint64(v->min_ns) : NULL);
		json_object_object_add(o, "max_ns", v->count ?
				       json_object_new_uint64(v->max_ns) : NULL);
		json_object_object_add(o, "mean_ns", v->count ?
				       json_object_new_uint64(v->sum_ns / v->count) : NULL);
		for (j = 0; j < sizeof(pcts) / sizeof(pcts[0]); j++) {
			char key[16];

			snprintf(key, sizeof(key), "%s_ns", pcts[j].name);
			json_object_object_add(o, key, pct_json(v, pcts[j].q));
		}
		hist = json_object_new_array();
		for (k = 0; k < LAT_BUCKETS; k++) {
			if (!v->hist[k])
				continue;
			b = json_object_new_object();
			json_object_object_add(b, "ge", json_object_new_uint64(lat_bucket_lo(k)));
			json_object_object_add(b, "lt", json_object_new_uint64(lat_bucket_hi(k)));
			json_object_object_add(b, "count", json_object_new_uint64(v->hist[k]));
			json_object_array_add(hist, b);
		}
		json_object_object_add(o, "hist", hist);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "vectors", arr);
	s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_NOSLASHESCAPE |
						  (pretty ? JSON_C_TO_STRING_PRETTY :
						   JSON_C_TO_STRING_PLAIN)));
	json_object_put(doc);
	return s;
}

static int write_svg(const char *path, const struct pisteer_lat_vector *v,
		     unsigned int n)
{
	struct lat_series *s = calloc(n ? n : 1, sizeof(*s));
	char (*titles)[128] = calloc(n ? n : 1, sizeof(*titles));
	unsigned int i;
	int ret = -1;
	FILE *f;

	if (!s || !titles)
		goto out;
	for (i = 0; i < n; i++) {
		vec_title(&v[i], titles[i], sizeof(titles[i]));
		s[i].title = titles[i];
		s[i].hist = v[i].hist;
	}
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "pisteer lat: %s: %s\n", path, strerror(errno));
		goto out;
	}
	ret = lat_svg_write(f, s, n);
	if (fclose(f) || ret) {
		fprintf(stderr, "pisteer lat: writing %s failed\n", path);
		ret = -1;
	}
out:
	free(titles);
	free(s);
	return ret;
}

/*
 * @now minus @before for each vector of @now (matched by VM and IRQ); a
 * vector new or reset since keeps its own figures.  min/max become the
 * bounds of the difference's histogram, narrowed by the lifetime ones.
 */
void lat_delta(struct pisteer_lat_vector *now, unsigned int n,
	       const struct pisteer_lat_vector *before, unsigned int nb)
{
	unsigned int i, j, k, first = LAT_BUCKETS, last = 0;

	for (i = 0; i < n; i++, now++) {
		const struct pisteer_lat_vector *b = NULL;

		for (j = 0; j < nb && !b; j++)
			if (before[j].vm_pid == now->vm_pid &&
			    before[j].vm_fd == now->vm_fd &&
			    before[j].host_irq == now->host_irq)
				b = &before[j];
		if (!b || b->count > now->count)
			continue;
		now->count -= b->count;
		now->coalesced -= b->coalesced <= now->coalesced ? b->coalesced : 0;
		now->sum_ns -= b->sum_ns;
		first = LAT_BUCKETS;
		last = 0;
		for (k = 0; k < LAT_BUCKETS; k++) {
			now->hist[k] -= b->hist[k] <= now->hist[k] ? b->hist[k] : now->hist[k];
			if (now->hist[k]) {
				first = first < k ? first : k;
				last = k;
			}
		}
		if (first == LAT_BUCKETS) {
			now->min_ns = 0;
			now->max_ns = 0;
			continue;
		}
		if (lat_bucket_lo(first) > now->min_ns)
			now->min_ns = lat_bucket_lo(first);
		if (lat_bucket_hi(last) - 1 < now->max_ns)
			now->max_ns = lat_bucket_hi(last) - 1;
	}
}

/* json: 1 one pretty document, 2 one line (--interval: JSON Lines). */
static int show(const struct lat_set *set, int json)
{
	char *doc;

	if (!json) {
		lat_print_text(&set->hdr, set->v, set->n);
		return 0;
	}
	doc = lat_to_json(&set->hdr, set->v, set->n, json == 1);
	if (!doc)
		return -1;
	printf("%s\n", doc);
	free(doc);
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int watch(int fd, const struct pst_filter *f, long interval, long count,
		 int json)
{
	struct lat_set prev, cur, d;
	struct sigaction sa;
	long i;
	int err;

	memset(&prev, 0, sizeof(prev));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = -lat_read(fd, f, &prev);
	for (i = 0; !err && (!count || i < count) && !interrupted; i++) {
		struct timespec ts = { .tv_sec = interval };
		char when[32];
		time_t t;

		while (nanosleep(&ts, &ts) && !interrupted)
			;
		if (interrupted)
			break;
		err = -lat_read(fd, f, &cur);
		if (err)
			break;
		/* Show the difference; keep the raw figures for the next one. */
		d = cur;
		d.v = malloc((cur.n ? cur.n : 1) * sizeof(*d.v));
		if (!d.v) {
			err = ENOMEM;
			free(cur.v);
			break;
		}
		memcpy(d.v, cur.v, cur.n * sizeof(*d.v));
		lat_delta(d.v, d.n, prev.v, prev.n);
		t = time(NULL);
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		if (!json)
			printf("%s--- %s, the last %ld s\n", i ? "\n" : "", when, interval);
		show(&d, json ? 2 : 0);
		fflush(stdout);
		free(d.v);
		free(prev.v);
		prev = cur;
	}
	free(prev.v);
	if (err) {
		fprintf(stderr, "pisteer lat: reading samples: %s\n", strerror(err));
		return pst_exit_for(err);
	}
	return PST_EXIT_OK;
}

static int control(int fd, unsigned int op, int pid)
{
	struct pisteer_lat_ctl c = { .size = sizeof(c), .op = op };
	int err;

	if (pid) {
		c.scope = PISTEER_LAT_SCOPE_VM;
		c.pid = pid;
	}
	err = -pst_dev_lat_ctl(fd, &c);
	if (!err)
		return PST_EXIT_OK;
	if (err == ENODEV)
		fprintf(stderr, "pisteer lat: nothing to probe: load vfio-pci and kvm_amd or kvm_intel first\n");
	else if (err == ENOENT)
		fprintf(stderr, "pisteer lat: sampling is not enabled for VM process %d\n", pid);
	else if (err == ENOSPC)
		fprintf(stderr, "pisteer lat: too many VM processes enabled one by one (enable all instead)\n");
	else
		fprintf(stderr, "pisteer lat: %s%s\n", strerror(err),
			err == ENOTTY ? " (the loaded module cannot sample latency)" : "");
	return pst_exit_for(err == ENOENT || err == ENODEV ? EIO : err);
}

static long parse_long(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "pisteer lat: %s takes a number from %ld to %ld, not '%s'\n",
			what, min, max, s);
		return -1;
	}
	return v;
}

int cmd_lat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "enable", no_argument, NULL, 'E' },
		{ "disable", no_argument, NULL, 'D' },
		{ "reset", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands args = { 0 };
	struct pst_filter filter = { 0 };
	const char *svg = NULL;
	long interval = 0, count = 0;
	unsigned int op = 0, ops = 0;
	int opt, fd, err, json = 0, ret;
	struct lat_set set;

	while ((opt = cmd_getopt(argc, argv, "v:d:js:i:c:h", opts, &args)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid("lat", optarg, &filter.pid))
				return PST_EXIT_USAGE;
			break;
		case 'd':
			if (cmd_opt_bdf("lat", optarg, &filter.bdf))
				return PST_EXIT_USAGE;
			filter.has_bdf = true;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			svg = optarg;
			break;
		case 'i':
			interval = parse_long("--interval", optarg, 1, 86400);
			if (interval < 0)
				return PST_EXIT_USAGE;
			break;
		case 'c':
			count = parse_long("--count", optarg, 1, 1000000);
			if (count < 0)
				return PST_EXIT_USAGE;
			break;
		case 'E':
			op = PISTEER_LAT_ENABLE;
			ops++;
			break;
		case 'D':
			op = PISTEER_LAT_DISABLE;
			ops++;
			break;
		case 'R':
			op = PISTEER_LAT_RESET;
			ops++;
			break;
		case 'h':
			usage(stdout);
			return PST_EXIT_OK;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	if (cmd_operands_max("lat", &args, 0))
		return PST_EXIT_USAGE;
	if (ops > 1 || (ops && (filter.has_bdf || json || svg || interval || count))) {
		fprintf(stderr, "pisteer lat: --enable, --disable and --reset take only --vm, and one at a time\n");
		return PST_EXIT_USAGE;
	}
	if (count && !interval) {
		fprintf(stderr, "pisteer lat: --count goes with --interval\n");
		return PST_EXIT_USAGE;
	}
	if (svg && interval) {
		fprintf(stderr, "pisteer lat: --svg draws one reading: not with --interval\n");
		return PST_EXIT_USAGE;
	}

	fd = pst_dev_open_checked(NULL);
	if (fd < 0)
		return pst_exit_for(-fd);
	if (ops) {
		ret = control(fd, op, filter.pid);
		close(fd);
		return ret;
	}
	if (interval) {
		ret = watch(fd, &filter, interval, count, json);
		close(fd);
		return ret;
	}
	err = -lat_read(fd, &filter, &set);
	close(fd);
	if (err) {
		fprintf(stderr, "pisteer lat: reading samples: %s%s\n", strerror(err),
			err == ENOTTY ? " (the loaded module cannot sample latency)" : "");
		return pst_exit_for(err);
	}
	ret = show(&set, json) ? PST_EXIT_FAIL : PST_EXIT_OK;
	if (!ret && svg && write_svg(svg, set.v, set.n))
		ret = PST_EXIT_FAIL;
	free(set.v);
	return ret;
}
