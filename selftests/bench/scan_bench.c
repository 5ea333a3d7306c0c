// SPDX-License-Identifier: GPL-2.0
/*
 * scan_bench: what one discovery scan of pisteer.ko costs, and what it
 * grows with.
 *
 * A scan walks every host IRQ (for VFIO's actions), takes the VMs of the
 * module's VM set (learnt from KVM and VFIO events; every open file of
 * every process is walked only at load and as a fallback), then the
 * irqfds of each VM.  It runs for each list ioctl, debugfs read and event;
 * a follow policy adds a rescan every 50 ms only on a kernel where a
 * vCPU-watch hook is missing.  With one passthrough VM (an 82574L, 5 vectors
 * routed) this times N calls each of:
 *   version     PISTEER_IOC_VERSION: the ioctl path without a scan
 *   list        PISTEER_IOC_LIST_VECTORS: a scan
 *   list+fds    the same with one more process holding F open files
 *   list+procs  the same with P more (sleeping) processes
 * and prints p50/p99 per call, the ratios, and the share of one CPU that
 * follow's fallback rescan would take at the measured p50.  Then, with a
 * follow policy on the VM for a few seconds and nothing changing, the
 * module's own account (debugfs pisteer/scans) of the scans it ran meanwhile:
 * how many walked every open file and how many took only the VM set, and
 * the mean duration of each kind (with every hook there: none of either).  Last, the cost of one event: E guest
 * route changes (KVM_SET_GSI_ROUTING, 40 ms apart), each followed by the
 * module's own rescan, timed by its account, on the idle host and then
 * with H more processes holding D open files each (10 000 x 20 = 200 000
 * files by default; the processes share the bench's memory, not its fd
 * table).  The goal: loaded within 2x of idle, no walk of every file.
 * -o writes JSON.
 *
 * With -V BDF it measures instead what the same costs grow with in
 * vectors: for each count of -C (default 16,64,128,256) a VM gets the
 * first that many MSI-X vectors of the vfio-pci device BDF (an NVMe
 * controller has hundreds), then N list ioctls and E events are timed,
 * first on the idle host, then again with the H x D load of processes and
 * files there.  The goal: cost per vector flat (cost(last)/cost(first)
 * per vector near 1), and the load changing nothing.
 *
 * usage: scan_bench [-n N] [-f F] [-p P] [-e E] [-H H] [-D D] [-o FILE]
 *        scan_bench -V BDF [-C COUNT,...] [-n N] [-e E] [-H H] [-D D] [-o FILE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <linux/pisteer.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/modstate.h"
#include "../lib/ptvm.h"
#include "../lib/stats.h"

#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	32
#define STEER_PERIOD_MS	50	/* kmod/pisteer_events.c */
#define MAX_KIDS	4096

enum config { C_VERSION, C_LIST, C_FDS, C_PROCS, NR_CONFIGS };
static const char *const config_name[NR_CONFIGS] = {
	"version", "list", "list+fds", "list+procs",
};

static struct stats result[NR_CONFIGS];

/* The module's scan account: scans that walked, that reused, their ns. */
struct scan_account {
	long long walks, walk_ns, reuses, reuse_ns;
};

static struct scan_account periodic;	/* the follow period's difference */
static pid_t kids[MAX_KIDS];
static int nr_kids;

/* The event cost: idle and loaded. */
enum { EV_IDLE, EV_LOADED, NR_EV };
static const char *const ev_name[NR_EV] = { "event", "event+load" };
static struct stats ev_result[NR_EV];
static long long ev_walks[NR_EV];
static pid_t *many;
static int nr_many;

static int call(int fd, enum config c, struct pisteer_vector *buf,
		unsigned int cap)
{
	struct pisteer_list_vectors req = {
		.size = sizeof(req),
		.entry_size = sizeof(*buf),
		.count = cap,
		.entries = (uintptr_t)buf,
	};
	struct pisteer_version ver = { .size = sizeof(ver) };

	if (c == C_VERSION)
		return ioctl(fd, PISTEER_IOC_VERSION, &ver) ? -errno : 0;
	if (ioctl(fd, PISTEER_IOC_LIST_VECTORS, &req))
		return -errno;
	return (int)req.count;
}

/* Time @n calls; the list calls must see the VM's @want vectors. */
static int measure(int fd, enum config c, int n, int want)
{
	unsigned int cap = (unsigned int)want + 64;
	struct pisteer_vector *buf = calloc(cap, sizeof(*buf));
	uint64_t *ns = calloc(n, sizeof(*ns));
	int i, got;

	if (!ns || !buf) {
		free(ns);
		free(buf);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t t0 = ptvm_now_ns();

		got = call(fd, c, buf, cap);
		ns[i] = ptvm_now_ns() - t0;
		if (got < 0 || (c != C_VERSION && got != want)) {
			fprintf(stderr, "%s: call %d returned %d, expected %d\n",
				config_name[c], i, got, c == C_VERSION ? 0 : want);
			free(ns);
			free(buf);
			return -EIO;
		}
	}
	result[c] = stats_summary(ns, n);
	free(ns);
	free(buf);
	return 0;
}

/* A child that holds @fds open files, then sleeps until killed. */
static int spawn_fd_holder(int fds)
{
	int ready[2];
	char c;
	pid_t pid;

	if (pipe(ready))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct rlimit rl = { fds + 64, fds + 64 };
		int i, base = open("/dev/null", O_RDONLY);

		close(ready[0]);
		if (base < 0 || setrlimit(RLIMIT_NOFILE, &rl))
			_exit(1);
		for (i = 1; i < fds; i++)
			if (dup(base) < 0)
				_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	kids[nr_kids++] = pid;
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		return -EIO;
	}
	close(ready[0]);
	return 0;
}

static int spawn_sleepers(int procs)
{
	int i;

	for (i = 0; i < procs && nr_kids < MAX_KIDS; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0) {
			pause();
			_exit(0);
		}
		kids[nr_kids++] = pid;
	}
	return 0;
}

static void reap_kids(void)
{
	while (nr_kids > 0) {
		nr_kids--;
		kill(kids[nr_kids], SIGKILL);
		waitpid(kids[nr_kids], NULL, 0);
	}
}

/* A process of the load: its own fd table with @fds more files, then sleep. */
static int load_child(void *arg)
{
	long fds = ((long *)arg)[0], base = ((long *)arg)[1], ready = ((long *)arg)[2];
	long i;

	/* Raw system calls only: the memory (and libc's state) is the bench's. */
	for (i = 0; i < fds; i++)
		syscall(SYS_dup, base);
	syscall(SYS_write, ready, "r", 1);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

#define LOAD_STACK	16384

/* @procs processes, each with @fds open files: -errno. */
static int spawn_load(int procs, int fds)
{
	static long args[3];
	int ready[2], i, base;
	char *stacks;
	char c;

	many = calloc(procs, sizeof(*many));
	stacks = mmap(NULL, (size_t)procs * LOAD_STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	base = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!many || stacks == MAP_FAILED || base < 0 || pipe(ready))
		return -ENOMEM;
	args[0] = fds;
	args[1] = base;
	args[2] = ready[1];
	for (i = 0; i < procs; i++) {
		pid_t pid = clone(load_child, stacks + (size_t)(i + 1) * LOAD_STACK,
				  CLONE_VM | SIGCHLD, args);

		if (pid < 0)
			return -errno;
		many[nr_many++] = pid;
	}
	for (i = 0; i < procs; i++)
		if (read(ready[0], &c, 1) != 1)
			return -EIO;
	close(ready[0]);
	close(ready[1]);
	close(base);
	return 0;
}

static void reap_load(void)
{
	int i;

	for (i = 0; i < nr_many; i++)
		kill(many[i], SIGKILL);
	while (nr_many > 0)
		waitpid(many[--nr_many], NULL, 0);
	free(many);
	many = NULL;
}

static int read_account(struct scan_account *a)
{
	struct modcounts c;
	int ret = modcounts_read_file(MODSTATE_SCANS, &c);

	if (ret)
		return ret;
	a->walks = modcounts_get(&c, "walks");
	a->walk_ns = modcounts_get(&c, "walk_ns");
	a->reuses = modcounts_get(&c, "reuses");
	a->reuse_ns = modcounts_get(&c, "reuse_ns");
	return 0;
}

static int set_follow(int fd, uint32_t policy)
{
	struct pisteer_policy p = {
		.size = sizeof(p),
		.scope = PISTEER_SCOPE_VM,
		.policy = policy,
		.pid = getpid(),
	};

	return ioctl(fd, PISTEER_IOC_SET_POLICY, &p) ? -errno : 0;
}

/* @secs seconds of follow with nothing changing: what the rescans did. */
static int measure_periodic(int fd, unsigned int secs)
{
	struct scan_account a = { 0 }, b = { 0 };

	if (set_follow(fd, PISTEER_POLICY_FOLLOW) || read_account(&a))
		return -EIO;
	sleep(secs);
	if (read_account(&b) || set_follow(fd, PISTEER_POLICY_NONE))
		return -EIO;
	periodic.walks = b.walks - a.walks;
	periodic.walk_ns = b.walk_ns - a.walk_ns;
	periodic.reuses = b.reuses - a.reuses;
	periodic.reuse_ns = b.reuse_ns - a.reuse_ns;
	return 0;
}

/*
 * @n guest route changes, 40 ms apart: each one's rescan, by the module's
 * account (walked or not), into ev_result[@which].
 */
static int measure_events(struct ptvm *vm, int n, int which)
{
	uint64_t *ns = calloc(n, sizeof(*ns));
	struct scan_account a = { 0 }, b = { 0 };
	int i, w;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		b = (struct scan_account){ 0 };
		if (read_account(&a) ||
		    ptvm_route_msi(vm, GSI_BASE, (i + 1) % 2, 0x40)) {
			free(ns);
			return -EIO;
		}
		for (w = 0; w < 200; w++) {
			ptvm_sleep_us(1000);
			if (read_account(&b))
				b = a;	/* unreadable: counts as no rescan yet */
			else if (b.walks + b.reuses > a.walks + a.reuses)
				break;
		}
		if (b.walks + b.reuses <= a.walks + a.reuses) {
			fprintf(stderr, "event %d: no rescan within 200 ms\n", i);
			free(ns);
			return -EIO;
		}
		ns[i] = (uint64_t)(b.walk_ns + b.reuse_ns - a.walk_ns - a.reuse_ns);
		ev_walks[which] += b.walks - a.walks;
		ptvm_sleep_us(40000);
	}
	ev_result[which] = stats_summary(ns, n);
	free(ns);
	return 0;
}

static double mean_us(long long ns, long long n)
{
	return n ? (double)ns / 1000.0 / (double)n : 0;
}

static double ratio(enum config a, enum config b)
{
	return result[b].p50_us > 0 ? result[a].p50_us / result[b].p50_us : 0;
}

static int write_json(const char *path, int n, int fds, int procs,
		      int events, int load_procs, int load_fds)
{
	json_object *root = json_object_new_object(), *cfgs, *o;
	struct utsname u;
	int c, ret;

	uname(&u);
	json_object_object_add(root, "kernel", json_object_new_string(u.release));
	json_object_object_add(root, "calls", json_object_new_int(n));
	json_object_object_add(root, "extra_fds", json_object_new_int(fds));
	json_object_object_add(root, "extra_processes", json_object_new_int(procs));
	cfgs = json_object_new_object();
	for (c = 0; c < NR_CONFIGS; c++) {
		o = json_object_new_object();
		json_object_object_add(o, "p50_us", json_object_new_double(result[c].p50_us));
		json_object_object_add(o, "p99_us", json_object_new_double(result[c].p99_us));
		json_object_object_add(o, "max_us", json_object_new_double(result[c].max_us));
		json_object_object_add(cfgs, config_name[c], o);
	}
	json_object_object_add(root, "configurations", cfgs);
	o = json_object_new_object();
	json_object_object_add(o, "list/version", json_object_new_double(ratio(C_LIST, C_VERSION)));
	json_object_object_add(o, "list+fds/list", json_object_new_double(ratio(C_FDS, C_LIST)));
	json_object_object_add(o, "list+procs/list", json_object_new_double(ratio(C_PROCS, C_LIST)));
	json_object_object_add(root, "ratios_p50", o);
	o = json_object_new_object();
	json_object_object_add(o, "walks", json_object_new_int64(periodic.walks));
	json_object_object_add(o, "walk_mean_us",
			       json_object_new_double(mean_us(periodic.walk_ns, periodic.walks)));
	json_object_object_add(o, "reuses", json_object_new_int64(periodic.reuses));
	json_object_object_add(o, "reuse_mean_us",
			       json_object_new_double(mean_us(periodic.reuse_ns, periodic.reuses)));
	json_object_object_add(root, "follow_rescans", o);
	o = json_object_new_object();
	json_object_object_add(o, "events", json_object_new_int(events));
	json_object_object_add(o, "load_processes", json_object_new_int(load_procs));
	json_object_object_add(o, "load_files", json_object_new_int64((int64_t)load_procs * load_fds));
	for (c = 0; c < NR_EV; c++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "p50_us", json_object_new_double(ev_result[c].p50_us));
		json_object_object_add(e, "p99_us", json_object_new_double(ev_result[c].p99_us));
		json_object_object_add(e, "walks", json_object_new_int64(ev_walks[c]));
		json_object_object_add(o, ev_name[c], e);
	}
	json_object_object_add(o, "loaded/idle_p50",
			       json_object_new_double(ev_result[EV_IDLE].p50_us > 0 ?
						      ev_result[EV_LOADED].p50_us /
						      ev_result[EV_IDLE].p50_us : 0));
	json_object_object_add(root, "event_cost", o);
	ret = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return ret;
}

/* -V: the costs by vector count, idle and loaded. */
#define MAX_COUNTS	16

struct sweep_point {
	int vectors;
	struct stats list[NR_EV], event[NR_EV];
	long long walks[NR_EV];
};

static struct sweep_point sweep[MAX_COUNTS];
static int nr_sweep;

/* "16,64,128": the counts, ascending, each 1..PTVM_MAX_DEV_VECS. */
static int parse_counts(const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL, *end;
	long v;

	if (!copy)
		return -ENOMEM;
	nr_sweep = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		if (*end || v < 1 || v > PTVM_MAX_DEV_VECS || nr_sweep == MAX_COUNTS ||
		    (nr_sweep && v <= sweep[nr_sweep - 1].vectors)) {
			free(copy);
			return -EINVAL;
		}
		sweep[nr_sweep++].vectors = (int)v;
	}
	free(copy);
	return nr_sweep ? 0 : -EINVAL;
}

/* The list ioctl's count now (every VM's vectors): with no room, ENOSPC. */
static int list_count(int fd)
{
	struct pisteer_list_vectors req = {
		.size = sizeof(req),
		.entry_size = sizeof(struct pisteer_vector),
	};

	if (ioctl(fd, PISTEER_IOC_LIST_VECTORS, &req) && errno != ENOSPC)
		return -errno;
	return (int)req.count;
}

/* One point of the sweep: a VM with the first @p->vectors of @bdf. */
static int sweep_one(int fd, const char *bdf, struct sweep_point *p, int n,
		     int events, int which)
{
	struct ptvm_dev *d = NULL;
	struct ptvm *vm;
	int base, v, got, ret = -EIO;

	base = list_count(fd);
	vm = base >= 0 ? ptvm_create(2) : NULL;
	d = vm ? ptdev_open_count(bdf, p->vectors) : NULL;
	if (!d || ptdev_map_guest(d, vm) || ptdev_drain(d) < 0 ||
	    ptdev_attach(d, vm, GSI_BASE) || ptvm_route_hold(vm, true)) {
		fprintf(stderr, "%s, %d vectors: %s\n", bdf, p->vectors, ptvm_strerror());
		goto out;
	}
	if (ptdev_nr_vectors(d) != p->vectors) {
		fprintf(stderr, "%s has %d MSI-X vectors, not %d\n", bdf,
			ptdev_nr_vectors(d), p->vectors);
		goto out;
	}
	for (v = 0; v < p->vectors; v++)
		if (ptvm_route_msi(vm, GSI_BASE + v, v % 2, 0x40 + v % 160))
			break;
	if (v < p->vectors || ptvm_route_hold(vm, false)) {
		fprintf(stderr, "route: %s\n", ptvm_strerror());
		goto out;
	}
	got = list_count(fd);
	if (got != base + p->vectors) {
		fprintf(stderr, "%d vectors listed with %d routed (%d before)\n",
			got, p->vectors, base);
		goto out;
	}
	ev_walks[which] = 0;
	if (measure(fd, C_LIST, n, got) || measure_events(vm, events, which))
		goto out;
	p->list[which] = result[C_LIST];
	p->event[which] = ev_result[which];
	p->walks[which] = ev_walks[which];
	ret = 0;
out:
	if (d)
		ptdev_detach(d, vm, GSI_BASE);
	ptdev_close(d);
	ptvm_destroy(vm);
	return ret;
}

/* Cost per vector at the last count over that at the first. */
static double per_vector_ratio(const struct stats *last, const struct stats *first)
{
	const struct sweep_point *a = &sweep[0], *b = &sweep[nr_sweep - 1];

	if (first->p50_us <= 0)
		return 0;
	return (last->p50_us / b->vectors) / (first->p50_us / a->vectors);
}

static json_object *stats_json(const struct stats *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "p50_us", json_object_new_double(st->p50_us));
	json_object_object_add(o, "p99_us", json_object_new_double(st->p99_us));
	return o;
}

static int write_sweep_json(const char *path, const char *bdf, int n, int events,
			    int load_procs, int load_fds)
{
	const struct sweep_point *a = &sweep[0], *b = &sweep[nr_sweep - 1];
	json_object *root = json_object_new_object(), *arr, *o;
	struct utsname u;
	int i, w, ret;

	uname(&u);
	json_object_object_add(root, "kernel", json_object_new_string(u.release));
	json_object_object_add(root, "device", json_object_new_string(bdf));
	json_object_object_add(root, "calls", json_object_new_int(n));
	json_object_object_add(root, "events", json_object_new_int(events));
	json_object_object_add(root, "load_processes", json_object_new_int(load_procs));
	json_object_object_add(root, "load_files",
			       json_object_new_int64((int64_t)load_procs * load_fds));
	arr = json_object_new_array();
	for (i = 0; i < nr_sweep; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "vectors", json_object_new_int(sweep[i].vectors));
		for (w = 0; w < NR_EV; w++) {
			json_object_object_add(o, w ? "list+load" : "list",
					       stats_json(&sweep[i].list[w]));
			json_object_object_add(o, ev_name[w], stats_json(&sweep[i].event[w]));
		}
		json_object_object_add(o, "event_walks",
				       json_object_new_int64(sweep[i].walks[EV_IDLE] +
							     sweep[i].walks[EV_LOADED]));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "counts", arr);
	o = json_object_new_object();
	json_object_object_add(o, "first", json_object_new_int(a->vectors));
	json_object_object_add(o, "last", json_object_new_int(b->vectors));
	json_object_object_add(o, "list", json_object_new_double(
		per_vector_ratio(&b->list[EV_IDLE], &a->list[EV_IDLE])));
	json_object_object_add(o, "event", json_object_new_double(
		per_vector_ratio(&b->event[EV_IDLE], &a->event[EV_IDLE])));
	json_object_object_add(o, "list+load", json_object_new_double(
		per_vector_ratio(&b->list[EV_LOADED], &a->list[EV_LOADED])));
	json_object_object_add(o, "event+load", json_object_new_double(
		per_vector_ratio(&b->event[EV_LOADED], &a->event[EV_LOADED])));
	json_object_object_add(root, "per_vector_ratio_p50", o);
	ret = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return ret;
}

/* -V: every count idle, then every count again with the load there. */
static int run_sweep(int fd, const char *bdf, int n, int events, int load_procs,
		     int load_fds, const char *json)
{
	const struct sweep_point *a, *b;
	int i, w;

	printf("Vector sweep on %s: %d list calls and %d events per count; loaded: %d processes x %d files\n",
	       bdf, n, events, load_procs, load_fds);
	for (w = 0; w < NR_EV; w++) {
		if (w == EV_LOADED && spawn_load(load_procs, load_fds)) {
			fprintf(stderr, "%d processes with %d files each: %s\n",
				load_procs, load_fds, strerror(errno));
			return -EIO;
		}
		for (i = 0; i < nr_sweep; i++)
			if (sweep_one(fd, bdf, &sweep[i], n, events, w))
				return -EIO;
	}
	reap_load();
	printf("  %8s %12s %12s %12s %12s %10s %10s\n", "vectors", "list p50", "event p50",
	       "list+load", "event+load", "list/vec", "event/vec");
	for (i = 0; i < nr_sweep; i++) {
		const struct sweep_point *p = &sweep[i];

		printf("  %8d %9.1f us %9.1f us %9.1f us %9.1f us %7.2f us %7.2f us\n",
		       p->vectors, p->list[EV_IDLE].p50_us, p->event[EV_IDLE].p50_us,
		       p->list[EV_LOADED].p50_us, p->event[EV_LOADED].p50_us,
		       p->list[EV_IDLE].p50_us / p->vectors,
		       p->event[EV_IDLE].p50_us / p->vectors);
	}
	a = &sweep[0];
	b = &sweep[nr_sweep - 1];
	printf("  cost(%d)/cost(%d) per vector (p50; goal: near 1, linear): list %.2f, event %.2f; loaded: list %.2f, event %.2f\n",
	       b->vectors, a->vectors,
	       per_vector_ratio(&b->list[EV_IDLE], &a->list[EV_IDLE]),
	       per_vector_ratio(&b->event[EV_IDLE], &a->event[EV_IDLE]),
	       per_vector_ratio(&b->list[EV_LOADED], &a->list[EV_LOADED]),
	       per_vector_ratio(&b->event[EV_LOADED], &a->event[EV_LOADED]));
	if (json && write_sweep_json(json, bdf, n, events, load_procs, load_fds)) {
		fprintf(stderr, "%s: cannot write\n", json);
		return -EIO;
	}
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n CALLS] [-f FDS] [-p PROCESSES] [-e EVENTS] [-H LOAD_PROCESSES] [-D FILES_EACH] [-o FILE]\n"
		"       %s -V BDF [-C COUNT,...] [-n CALLS] [-e EVENTS] [-H LOAD_PROCESSES] [-D FILES_EACH] [-o FILE]\n",
		prog, prog);
}

int main(int argc, char **argv)
{
	int n = 2000, fds = 20000, procs = 500, opt, fd, v, c, rc = 1;
	int events = 50, load_procs = 10000, load_fds = 20;
	const char *json = NULL, *sweep_bdf = NULL;
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm = NULL;
	char bdfs[4][16];

	if (parse_counts("16,64,128,256"))
		return 1;
	while ((opt = getopt(argc, argv, "n:f:p:e:H:D:o:V:C:")) != -1) {
		switch (opt) {
		case 'V':
			sweep_bdf = optarg;
			break;
		case 'C':
			if (parse_counts(optarg)) {
				fprintf(stderr, "-C: ascending counts 1..%d, at most %d\n",
					PTVM_MAX_DEV_VECS, MAX_COUNTS);
				return 2;
			}
			break;
		case 'e':
			events = atoi(optarg);
			break;
		case 'H':
			load_procs = atoi(optarg);
			break;
		case 'D':
			load_fds = atoi(optarg);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'f':
			fds = atoi(optarg);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 'o':
			json = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (n < 10 || n > 1000000 || fds < 1 || fds > 1000000 ||
	    procs < 1 || procs > MAX_KIDS || events < 5 || events > 100000 ||
	    load_procs < 1 || load_procs > 100000 || load_fds < 1 || load_fds > 1000) {
		usage(argv[0]);
		return 2;
	}
	fd = open("/dev/pisteer", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("/dev/pisteer");
		return 1;
	}
	if (sweep_bdf) {
		rc = run_sweep(fd, sweep_bdf, n, events, load_procs, load_fds, json) ? 1 : 0;
		goto out;
	}
	if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 4) < 1) {
		fprintf(stderr, "no 82574L bound to vfio-pci\n");
		goto out;
	}
	vm = ptvm_create(2);
	dev = vm ? e1000e_assign(vm, bdfs[0], GSI_BASE, 2000, NULL) : NULL;
	if (!dev) {
		fprintf(stderr, "set-up: %s\n", ptvm_strerror());
		goto out;
	}
	for (v = 0; v < NR_VEC; v++)
		if (ptvm_route_msi(vm, GSI_BASE + v, v % 2, 0x40 + v)) {
			fprintf(stderr, "route: %s\n", ptvm_strerror());
			goto out;
		}

	printf("One VM (%s, %d vectors routed), %d calls per configuration\n",
	       bdfs[0], NR_VEC, n);
	if (measure(fd, C_VERSION, n, 0) || measure(fd, C_LIST, n, NR_VEC))
		goto out;
	if (spawn_fd_holder(fds) || measure(fd, C_FDS, n, NR_VEC))
		goto out;
	reap_kids();
	if (spawn_sleepers(procs) || measure(fd, C_PROCS, n, NR_VEC))
		goto out;
	reap_kids();

	/* The rescans with the extra files and processes there at once. */
	if (spawn_fd_holder(fds) || spawn_sleepers(procs))
		goto out;
	if (measure_periodic(fd, 4)) {
		fprintf(stderr, "follow policy or debugfs pisteer/scans: %s\n", strerror(errno));
		goto out;
	}
	reap_kids();

	for (c = 0; c < NR_CONFIGS; c++)
		printf("  %-11s p50 %9.1f us  p99 %9.1f us  max %9.1f us\n",
		       config_name[c], result[c].p50_us, result[c].p99_us,
		       result[c].max_us);
	printf("  ratios (p50): list/version %.1f, list+fds/list %.2f (+%d files), list+procs/list %.2f (+%d processes)\n",
	       ratio(C_LIST, C_VERSION), ratio(C_FDS, C_LIST), fds,
	       ratio(C_PROCS, C_LIST), procs);
	printf("  follow's fallback rescan (every %d ms, only with a vCPU-watch hook missing) at these p50s: %.2f%% / %.2f%% / %.2f%% of one CPU\n",
	       STEER_PERIOD_MS, result[C_LIST].p50_us / (STEER_PERIOD_MS * 10.0),
	       result[C_FDS].p50_us / (STEER_PERIOD_MS * 10.0),
	       result[C_PROCS].p50_us / (STEER_PERIOD_MS * 10.0));
	printf("  follow for 4 s with the extra files and processes, nothing changing:\n"
	       "  %lld rescans walked every file (mean %.1f us), %lld took only the VM set (mean %.1f us): walk/set %.1f\n",
	       periodic.walks, mean_us(periodic.walk_ns, periodic.walks),
	       periodic.reuses, mean_us(periodic.reuse_ns, periodic.reuses),
	       mean_us(periodic.reuse_ns, periodic.reuses) > 0 ?
	       mean_us(periodic.walk_ns, periodic.walks) /
	       mean_us(periodic.reuse_ns, periodic.reuses) : 0);
	/* One event's cost, idle and with the load there. */
	if (measure_events(vm, events, EV_IDLE))
		goto out;
	if (spawn_load(load_procs, load_fds)) {
		fprintf(stderr, "%d processes with %d files each: %s\n", load_procs,
			load_fds, strerror(errno));
		goto out;
	}
	if (measure_events(vm, events, EV_LOADED))
		goto out;
	reap_load();
	printf("  one event (a guest route change) and its rescan, %d each:\n", events);
	for (c = 0; c < NR_EV; c++)
		printf("  %-11s p50 %9.1f us  p99 %9.1f us  (%lld walked every file)\n",
		       ev_name[c], ev_result[c].p50_us, ev_result[c].p99_us, ev_walks[c]);
	printf("  ratio (p50): event+load/event %.2f with %d more processes and %lld more files (goal: within 2)\n",
	       ev_result[EV_IDLE].p50_us > 0 ?
	       ev_result[EV_LOADED].p50_us / ev_result[EV_IDLE].p50_us : 0,
	       load_procs, (long long)load_procs * load_fds);
	if (json && write_json(json, n, fds, procs, events, load_procs, load_fds)) {
		fprintf(stderr, "%s: cannot write\n", json);
		goto out;
	}
	rc = 0;
out:
	reap_load();
	reap_kids();
	if (dev) {
		e1000e_irq_teardown(dev);
		ptdev_close(dev);
	}
	ptvm_destroy(vm);
	close(fd);
	return rc;
}
