// SPDX-License-Identifier: GPL-2.0
/*
 * entry_bench: what pisteer's latency sampling costs on the VM-entry path
 * (and on the interrupt path), in VM entries per second.
 *
 * While sampling is on, pisteer.ko has a kprobe on the vendor's vcpu_run
 * (svm_vcpu_run/vmx_vcpu_run): every VM entry of every VM on the host
 * passes it and looks its vCPU up in a hashed table.  This VM's two vCPUs
 * (threads pinned to host CPUs 0 and 1) execute CPUID in a loop, which KVM
 * handles in the kernel: each CPUID is one exit and one VM entry.  KVM's
 * binary stats ("exits" per vCPU) over fixed windows give VM entries per
 * second, in four configurations in one VM's life:
 *   no-module   pisteer.ko not loaded
 *   module      pisteer.ko loaded, no sampling (no probe registered)
 *   lat-other   sampling on for another VM only (a second process with a
 *               second 82574L): the cost on VMs that are not sampled
 *   lat-this    sampling on for this VM (its 82574L, the vectors routed to
 *               both vCPUs): the cost on a sampled VM
 * The configurations take turns, one window each, for a few rounds (the
 * module is loaded and unloaded each round), and the medians are taken.
 * After each window, the interrupt round trips per second through this
 * VM's 82574L (ICS write to the guest handler's count, one at a time, the
 * vCPUs halted) for a shorter window: the IRQ-entry probe (vfio_msihandler)
 * and the VM-entry probe both run once per interrupt there.  With lat-this,
 * the samples must have been counted, or the probes did not run.
 *
 * It loads and unloads pisteer.ko itself (-m), so run it with the module
 * not in use.  -o writes JSON.
 *
 * usage: entry_bench -m PISTEER_KO [-w WINDOW_MS] [-r ROUNDS] [-i IRQ_MS]
 *                    [-o FILE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <linux/pisteer.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../tools/lib/pisteer_dev.h"
#include "../lib/hostctl.h"
#include "../lib/kvmstats.h"
#include "../lib/ptvm.h"

#define NR_VCPUS	2
#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	32
#define GUEST_VECTOR	0x40	/* + device vector */
#define EITR_US		0	/* no throttling: round trips back to back */
#define MAX_REPEATS	64

enum config { C_NO_MODULE, C_MODULE, C_LAT_OTHER, C_LAT_THIS, NR_CONFIGS };
static const char *const config_name[NR_CONFIGS] = {
	"no-module", "module", "lat-other", "lat-this",
};

struct result {
	bool measured;
	int repeats;
	double window_eps[MAX_REPEATS];	/* per vCPU, mean of the vCPUs */
	double vcpu_win[NR_VCPUS][MAX_REPEATS];
	double irq_win[MAX_REPEATS];
	double vcpu_eps[NR_VCPUS];	/* median per vCPU */
	double eps;			/* median of window_eps */
	double irqs_per_s;
	long long lat_samples;		/* lat-this: samples of this VM */
};

static struct result res[NR_CONFIGS];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_REPEATS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}


static int lat_ctl(int fd, uint32_t op, uint32_t scope, pid_t pid)
{
	struct pisteer_lat_ctl c = {
		.size = sizeof(c), .op = op, .scope = scope, .pid = pid,
	};
	int ret = pst_dev_lat_ctl(fd, &c);

	if (ret)
		fprintf(stderr, "lat op %u pid %d: %s\n", op, (int)pid, strerror(-ret));
	return ret;
}

/* Scan at once, so that the sampling table holds the VMs now. */
static int rescan(int fd)
{
	struct pst_filter f = { 0 };
	struct pisteer_vector *v = NULL;
	unsigned int nr = 0;
	int ret = pst_list_vectors(fd, &f, &v, &nr);

	free(v);
	return ret;
}

/* Samples counted for the vectors of the VMs of @pid, or -1. */
static long long lat_samples(int fd, pid_t pid, uint32_t *state)
{
	struct pst_filter f = { .pid = pid };
	struct pisteer_lat_read hdr;
	struct pisteer_lat_vector *v = NULL;
	unsigned int nr = 0, i;
	long long n = 0;

	if (pst_lat_read(fd, &f, &hdr, &v, &nr))
		return -1;
	for (i = 0; i < nr; i++)
		n += (long long)v[i].count;
	*state = hdr.state;
	free(v);
	return n;
}

/* --- the other VM: a second process, a second 82574L ----------------- */

/*
 * Fork a process holding its own VM (one halted vCPU) with @bdf assigned
 * and routed.  Forked before this process opens anything of its own VM, so
 * that it holds no file of it.  *@wfd: closing it ends the child.
 */
static pid_t spawn_other_vm(const char *bdf, int *wfd)
{
	int up[2], down[2];
	pid_t pid;
	char c = 'f';

	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct ptvm *vm = ptvm_create(1);
		struct ptvm_dev *dev = vm ? e1000e_assign(vm, bdf, GSI_BASE, 2000, NULL) : NULL;
		int v, ok = dev != NULL;

		close(up[0]);
		close(down[1]);
		for (v = 0; ok && v < NR_VEC; v++)
			ok = !ptvm_route_msi(vm, GSI_BASE + v, 0, GUEST_VECTOR + v);
		if (!ok)
			fprintf(stderr, "other VM: %s\n", ptvm_strerror());
		c = ok ? 'r' : 'f';
		if (write(up[1], &c, 1) == 1 && ok)
			while (read(down[0], &c, 1) > 0)
				;
		if (dev) {
			e1000e_irq_teardown(dev);
			ptdev_close(dev);
		}
		ptvm_destroy(vm);
		_exit(ok ? 0 : 1);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &c, 1) != 1 || c != 'r') {
		close(up[0]);
		close(down[1]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(up[0]);
	*wfd = down[1];
	return pid;
}

/* --- measuring ------------------------------------------------------ */

static int read_exits(struct kvmstats *st[NR_VCPUS], uint64_t out[NR_VCPUS])
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (kvmstats_read(st[i], "exits", &out[i]))
			return -1;
	return 0;
}

static int check_vcpus(const struct ptvm *vm)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++)
		if (ptvm_vcpu_failure(vm, i)) {
			fprintf(stderr, "vCPU %d: %s\n", i, ptvm_vcpu_failure(vm, i));
			return -1;
		}
	return 0;
}

/* One window of VM entries in the current configuration, added to @r. */
static int measure_window(const struct ptvm *vm, struct kvmstats *st[NR_VCPUS],
			  unsigned int window_ms, struct result *r)
{
	uint64_t e0[NR_VCPUS], e1[NR_VCPUS], t0, t1;
	double sum = 0;
	int i, k = r->repeats;

	ptvm_sleep_us(100000);	/* settle after the change */
	t0 = ptvm_now_ns();
	if (read_exits(st, e0))
		return -1;
	ptvm_sleep_us(window_ms * 1000);
	if (read_exits(st, e1))
		return -1;
	t1 = ptvm_now_ns();
	for (i = 0; i < NR_VCPUS; i++) {
		r->vcpu_win[i][k] = (double)(e1[i] - e0[i]) * 1e9 / (double)(t1 - t0);
		sum += r->vcpu_win[i][k];
	}
	r->window_eps[k] = sum / NR_VCPUS;
	r->repeats++;
	r->measured = true;
	return check_vcpus(vm);
}

/* The medians over the windows. */
static void summarise(struct result *r)
{
	int i;

	if (!r->measured)
		return;
	for (i = 0; i < NR_VCPUS; i++)
		r->vcpu_eps[i] = median(r->vcpu_win[i], r->repeats);
	r->eps = median(r->window_eps, r->repeats);
	r->irqs_per_s = median(r->irq_win, r->repeats);
}

/*
 * Put the guest in @mode.  A halted vCPU reads the mode only after an
 * interrupt: send each vCPU its vector (device vector i goes to vCPU i).
 */
static int set_mode(struct ptvm_dev *dev, struct ptvm *vm, enum ptvm_wait_mode mode)
{
	uint64_t ns;
	int i;

	ptvm_set_wait_mode(vm, mode);
	for (i = 0; i < NR_VCPUS; i++)
		if (e1000e_raise_wait(dev, vm, i, GUEST_VECTOR + i, 2000, &ns)) {
			fprintf(stderr, "waking vCPU %d: %s\n", i, ptvm_strerror());
			return -1;
		}
	return 0;
}

/*
 * Back-to-back round trips of device vector 1 (vCPU 1, host CPU 1) for @ms,
 * per second.  The vCPUs halt meanwhile: in the CPUID loop vCPU 0 would
 * share CPU 0 with this thread's busy wait and the figure would measure
 * the scheduler.
 */
static int measure_irqs(struct ptvm_dev *dev, struct ptvm *vm, unsigned int ms,
			struct result *r)
{
	uint64_t t0, end, ns;
	long long n = 0;

	if (!ms)
		return 0;
	if (set_mode(dev, vm, PTVM_WAIT_HALT))
		return -1;
	ptvm_sleep_us(50000);
	t0 = ptvm_now_ns();
	end = t0 + (uint64_t)ms * 1000000;
	while (ptvm_now_ns() < end) {
		if (e1000e_raise_wait(dev, vm, 1, GUEST_VECTOR + 1, 2000, &ns)) {
			fprintf(stderr, "interrupt %lld: %s\n", n, ptvm_strerror());
			return -1;
		}
		n++;
	}
	r->irq_win[r->repeats - 1] = (double)n * 1e9 / (double)(ptvm_now_ns() - t0);
	return set_mode(dev, vm, PTVM_WAIT_CPUID);
}

/*
 * Sampling on or off for the VMs of @pid (0: off for all).  (Un)registering
 * the kprobes patches the text of svm_vcpu_run/vmx_vcpu_run, and
 * multi-threaded TCG races with cross-CPU text patching of code another
 * CPU runs: the vCPUs halt meanwhile, out of that function.
 */
static int lat_switch(struct ptvm_dev *dev, struct ptvm *vm, int fd, uint32_t op,
		      pid_t pid)
{
	if (set_mode(dev, vm, PTVM_WAIT_HALT))
		return -1;
	ptvm_sleep_us(20000);
	if (lat_ctl(fd, op, pid ? PISTEER_LAT_SCOPE_VM : PISTEER_LAT_SCOPE_ALL, pid) ||
	    (op == PISTEER_LAT_ENABLE && rescan(fd)))
		return -1;
	return set_mode(dev, vm, PTVM_WAIT_CPUID);
}

/* --- report --------------------------------------------------------- */

static double ratio(enum config a, enum config b, bool irq)
{
	double x = irq ? res[a].irqs_per_s : res[a].eps;
	double y = irq ? res[b].irqs_per_s : res[b].eps;

	return res[a].measured && res[b].measured && y > 0 ? x / y : 0;
}

/* Extra time per VM entry in @a over @b, from the rates. */
static double extra_ns(enum config a, enum config b)
{
	if (!res[a].measured || !res[b].measured || res[a].eps <= 0 || res[b].eps <= 0)
		return 0;
	return 1e9 / res[a].eps - 1e9 / res[b].eps;
}

static const enum config ratio_pairs[][2] = {
	{ C_MODULE, C_NO_MODULE },
	{ C_LAT_THIS, C_MODULE },
	{ C_LAT_OTHER, C_MODULE },
};

static void print_report(void)
{
	char name[64];
	size_t i;
	int c;

	printf("\n%-10s %14s %17s %9s %9s %9s\n", "config", "entries/s/vCPU",
	       "(windows min-max)", "vCPU 0", "vCPU 1", "irqs/s");
	for (c = 0; c < NR_CONFIGS; c++) {
		double lo, hi;
		int k;

		if (!res[c].measured) {
			printf("%-10s %14s\n", config_name[c], "(not run)");
			continue;
		}
		lo = hi = res[c].window_eps[0];
		for (k = 1; k < res[c].repeats; k++) {
			lo = res[c].window_eps[k] < lo ? res[c].window_eps[k] : lo;
			hi = res[c].window_eps[k] > hi ? res[c].window_eps[k] : hi;
		}
		printf("%-10s %14.0f %8.0f-%-8.0f %9.0f %9.0f %9.0f\n", config_name[c],
		       res[c].eps, lo, hi, res[c].vcpu_eps[0], res[c].vcpu_eps[1],
		       res[c].irqs_per_s);
	}
	printf("\nratios (entries/s; irqs/s; extra ns per VM entry):\n");
	for (i = 0; i < sizeof(ratio_pairs) / sizeof(ratio_pairs[0]); i++) {
		enum config a = ratio_pairs[i][0], b = ratio_pairs[i][1];

		snprintf(name, sizeof(name), "%s/%s", config_name[a], config_name[b]);
		printf("  %-20s %6.3f  %6.3f  %+8.0f ns\n", name, ratio(a, b, false),
		       ratio(a, b, true), extra_ns(a, b));
	}
	if (res[C_LAT_THIS].measured)
		printf("lat-this: %lld latency samples of this VM's vectors counted\n",
		       res[C_LAT_THIS].lat_samples);
}

static int write_json(const char *path, unsigned int window_ms, int repeats,
		      unsigned int irq_ms)
{
	json_object *root = json_object_new_object(), *cfgs = json_object_new_array(),
		    *rat = json_object_new_object(), *o, *a;
	struct utsname u;
	char name[64];
	size_t i;
	int c, k, ret;

	uname(&u);
	json_object_object_add(root, "kernel", json_object_new_string(u.release));
	json_object_object_add(root, "vcpus", json_object_new_int(NR_VCPUS));
	json_object_object_add(root, "window_ms", json_object_new_int((int)window_ms));
	json_object_object_add(root, "repeats", json_object_new_int(repeats));
	json_object_object_add(root, "irq_window_ms", json_object_new_int((int)irq_ms));
	for (c = 0; c < NR_CONFIGS; c++) {
		if (!res[c].measured)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(config_name[c]));
		json_object_object_add(o, "entries_per_s", json_object_new_double(res[c].eps));
		a = json_object_new_array();
		for (k = 0; k < NR_VCPUS; k++)
			json_object_array_add(a, json_object_new_double(res[c].vcpu_eps[k]));
		json_object_object_add(o, "entries_per_s_by_vcpu", a);
		a = json_object_new_array();
		for (k = 0; k < res[c].repeats; k++)
			json_object_array_add(a, json_object_new_double(res[c].window_eps[k]));
		json_object_object_add(o, "entries_per_s_windows", a);
		a = json_object_new_array();
		for (k = 0; k < res[c].repeats; k++)
			json_object_array_add(a, json_object_new_double(res[c].irq_win[k]));
		json_object_object_add(o, "irqs_per_s_windows", a);
		json_object_object_add(o, "irqs_per_s", json_object_new_double(res[c].irqs_per_s));
		if (c == C_LAT_THIS)
			json_object_object_add(o, "lat_samples",
					       json_object_new_int64(res[c].lat_samples));
		json_object_array_add(cfgs, o);
	}
	json_object_object_add(root, "configurations", cfgs);
	for (i = 0; i < sizeof(ratio_pairs) / sizeof(ratio_pairs[0]); i++) {
		enum config x = ratio_pairs[i][0], y = ratio_pairs[i][1];

		if (!res[x].measured || !res[y].measured)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "entries_per_s", json_object_new_double(ratio(x, y, false)));
		json_object_object_add(o, "irqs_per_s", json_object_new_double(ratio(x, y, true)));
		json_object_object_add(o, "extra_ns_per_entry",
				       json_object_new_double(extra_ns(x, y)));
		snprintf(name, sizeof(name), "%s/%s", config_name[x], config_name[y]);
		json_object_object_add(rat, name, o);
	}
	json_object_object_add(root, "ratios", rat);
	ret = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return ret;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -m PISTEER_KO [-w WINDOW_MS] [-r ROUNDS] [-i IRQ_MS] [-o FILE]\n",
		prog);
}

int main(int argc, char **argv)
{
	unsigned int window_ms = 1000, irq_ms = 500;
	int repeats = 5, opt, fd = -1, wfd = -1, nr_bdfs, v, c, k, rc = 1;
	long long n;
	const char *json = NULL, *ko = NULL;
	struct kvmstats *st[NR_VCPUS] = { NULL };
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm = NULL;
	char bdfs[4][16];
	pid_t other = -1;
	uint32_t state = 0;

	while ((opt = getopt(argc, argv, "m:w:r:i:o:")) != -1) {
		switch (opt) {
		case 'm':
			ko = optarg;
			break;
		case 'w':
			window_ms = (unsigned int)atoi(optarg);
			break;
		case 'r':
			repeats = atoi(optarg);
			break;
		case 'i':
			irq_ms = (unsigned int)atoi(optarg);
			break;
		case 'o':
			json = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!ko || optind != argc || window_ms < 10 || window_ms > 60000 ||
	    repeats < 1 || repeats > MAX_REPEATS || irq_ms > 60000) {
		usage(argv[0]);
		return 2;
	}
	nr_bdfs = ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 4);
	if (nr_bdfs < 1) {
		fprintf(stderr, "no 82574L bound to vfio-pci\n");
		return 1;
	}
	if (host_module_unload())
		return 1;
	if (nr_bdfs >= 2) {
		other = spawn_other_vm(bdfs[1], &wfd);
		if (other < 0) {
			fprintf(stderr, "cannot start the other VM on %s\n", bdfs[1]);
			return 1;
		}
	} else {
		printf("only one 82574L: lat-other (another VM sampled) left out\n");
	}

	vm = ptvm_create(NR_VCPUS);
	dev = vm ? e1000e_assign(vm, bdfs[0], GSI_BASE, EITR_US, NULL) : NULL;
	if (!dev) {
		fprintf(stderr, "set-up: %s\n", ptvm_strerror());
		goto out;
	}
	for (v = 0; v < NR_VEC; v++)
		if (ptvm_route_msi(vm, GSI_BASE + v, v % NR_VCPUS, GUEST_VECTOR + v)) {
			fprintf(stderr, "route: %s\n", ptvm_strerror());
			goto out;
		}
	host_pin_thread(getpid(), 0);
	for (v = 0; v < NR_VCPUS; v++) {
		st[v] = kvmstats_open(ptvm_vcpu_stats_fd(vm, v));
		if (!st[v] || host_pin_thread(ptvm_vcpu_tid(vm, v), v % 2)) {
			fprintf(stderr, "vCPU %d: stats or pinning: %s\n", v, strerror(errno));
			goto out;
		}
	}
	if (set_mode(dev, vm, PTVM_WAIT_CPUID))
		goto out;
	printf("One VM (%s, %d vectors routed to %d vCPUs in a CPUID loop)%s%s; %d rounds of %u ms per configuration\n",
	       bdfs[0], NR_VEC, NR_VCPUS, other > 0 ? ", another VM on " : "",
	       other > 0 ? bdfs[1] : "", repeats, window_ms);

	/*
	 * Round after round, one window of each configuration: a drift of the
	 * emulator's speed (other load on the machine) spreads over all four.
	 */
	for (k = 0; k < repeats; k++) {
		for (c = 0; c < NR_CONFIGS; c++) {
			if (c == C_MODULE) {
				fd = host_module_load(ko);
				if (fd < 0)
					goto out;
			} else if (c == C_LAT_OTHER) {
				if (other < 0)
					continue;
				if (lat_switch(dev, vm, fd, PISTEER_LAT_ENABLE, other))
					goto out;
			} else if (c == C_LAT_THIS) {
				/* Enable first: the probes stay registered. */
				if (lat_switch(dev, vm, fd, PISTEER_LAT_ENABLE, getpid()) ||
				    (other > 0 &&
				     lat_switch(dev, vm, fd, PISTEER_LAT_DISABLE, other)))
					goto out;
			}
			if (measure_window(vm, st, window_ms, &res[c]) ||
			    measure_irqs(dev, vm, irq_ms, &res[c]))
				goto out;
		}
		/* The samples go with the disable: count them first. */
		n = lat_samples(fd, getpid(), &state);
		if (n < 0 || !(state & PISTEER_LAT_S_PROBES)) {
			fprintf(stderr, "lat-this: the probes are not registered\n");
			goto out;
		}
		res[C_LAT_THIS].lat_samples += n;
		if (lat_switch(dev, vm, fd, PISTEER_LAT_DISABLE, 0))
			goto out;
		close(fd);
		fd = -1;
		if (host_module_unload())
			goto out;
		fprintf(stderr, "entry_bench: round %d of %d done\n", k + 1, repeats);
	}
	for (c = 0; c < NR_CONFIGS; c++)
		summarise(&res[c]);
	print_report();
	if (irq_ms && res[C_LAT_THIS].lat_samples <= 0) {
		fprintf(stderr, "lat-this: no latency sample counted: sampling did not run\n");
		goto out;
	}
	if (json && write_json(json, window_ms, repeats, irq_ms)) {
		fprintf(stderr, "%s: cannot write\n", json);
		goto out;
	}
	rc = 0;
out:
	for (v = 0; v < NR_VCPUS; v++)
		kvmstats_close(st[v]);
	if (dev) {
		e1000e_irq_teardown(dev);
		ptdev_close(dev);
	}
	ptvm_destroy(vm);
	if (wfd >= 0)
		close(wfd);
	if (other > 0)
		waitpid(other, NULL, 0);
	if (fd >= 0) {
		lat_ctl(fd, PISTEER_LAT_DISABLE, PISTEER_LAT_SCOPE_ALL, 0);
		close(fd);
		host_module_unload();
	}
	return rc;
}
