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
 * usage: scan_bench [-n N] [-f F] [-p P] [-e E] [-H H] [-D D] [-o FILE]
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
	struct pisteer_vector buf[64];
	uint64_t *ns = calloc(n, sizeof(*ns));
	int i, got;

	if (!ns)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint64_t t0 = ptvm_now_ns();

		got = call(fd, c, buf, 64);
		ns[i] = ptvm_now_ns() - t0;
		if (got < 0 || (c != C_VERSION && got != want)) {
			fprintf(stderr, "%s: call %d returned %d, expected %d\n",
				config_name[c], i, got, c == C_VERSION ? 0 : want);
			free(ns);
			return -EIO;
		}
	}
	result[c] = stats_summary(ns, n);
	free(ns);
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

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n CALLS] [-f FDS] [-p PROCESSES] [-e EVENTS] [-H LOAD_PROCESSES] [-D FILES_EACH] [-o FILE]\n",
		prog);
}

int main(int argc, char **argv)
{
	int n = 2000, fds = 20000, procs = 500, opt, fd, v, c, rc = 1;
	int events = 50, load_procs = 10000, load_fds = 20;
	const char *json = NULL;
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm = NULL;
	char bdfs[4][16];

	while ((opt = getopt(argc, argv, "n:f:p:e:H:D:o:")) != -1) {
		switch (opt) {
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
