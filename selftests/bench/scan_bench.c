// SPDX-License-Identifier: GPL-2.0
/*
 * scan_bench: what one discovery scan of pisteer.ko costs, and what it
 * grows with.
 *
 * A scan walks every host IRQ (for VFIO's actions) and every open file of
 * every process (for KVM VM files), then the irqfds of each VM found.  It
 * runs for each list ioctl, debugfs read and event, and every 50 ms while
 * a follow policy exists.  With one passthrough VM (an 82574L, 5 vectors
 * routed) this times N calls each of:
 *   version     PISTEER_IOC_VERSION: the ioctl path without a scan
 *   list        PISTEER_IOC_LIST_VECTORS: a scan
 *   list+fds    the same with one more process holding F open files
 *   list+procs  the same with P more (sleeping) processes
 * and prints p50/p99 per call, the ratios, and the share of one CPU that
 * follow's periodic rescan would take at the measured p50.  Then, with a
 * follow policy on the VM for a few seconds and nothing changing, the
 * module's own account (debugfs pisteer/scans) of its periodic rescans:
 * how many walked every open file and how many reused the VMs found, and
 * the mean duration of each kind.  -o writes JSON.
 *
 * usage: scan_bench [-n N] [-f F] [-p P] [-o FILE]
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
#include <sys/resource.h>
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

static double mean_us(long long ns, long long n)
{
	return n ? (double)ns / 1000.0 / (double)n : 0;
}

static double ratio(enum config a, enum config b)
{
	return result[b].p50_us > 0 ? result[a].p50_us / result[b].p50_us : 0;
}

static int write_json(const char *path, int n, int fds, int procs)
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
	ret = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return ret;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-n CALLS] [-f FDS] [-p PROCESSES] [-o FILE]\n", prog);
}

int main(int argc, char **argv)
{
	int n = 2000, fds = 20000, procs = 500, opt, fd, v, c, rc = 1;
	const char *json = NULL;
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm = NULL;
	char bdfs[4][16];

	while ((opt = getopt(argc, argv, "n:f:p:o:")) != -1) {
		switch (opt) {
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
	    procs < 1 || procs > MAX_KIDS) {
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
	printf("  follow's rescan every %d ms at these p50s: %.2f%% / %.2f%% / %.2f%% of one CPU\n",
	       STEER_PERIOD_MS, result[C_LIST].p50_us / (STEER_PERIOD_MS * 10.0),
	       result[C_FDS].p50_us / (STEER_PERIOD_MS * 10.0),
	       result[C_PROCS].p50_us / (STEER_PERIOD_MS * 10.0));
	printf("  follow for 4 s with the extra files and processes, nothing changing:\n"
	       "  %lld rescans walked every file (mean %.1f us), %lld reused the VMs found (mean %.1f us): walk/reuse %.1f\n",
	       periodic.walks, mean_us(periodic.walk_ns, periodic.walks),
	       periodic.reuses, mean_us(periodic.reuse_ns, periodic.reuses),
	       mean_us(periodic.reuse_ns, periodic.reuses) > 0 ?
	       mean_us(periodic.walk_ns, periodic.walks) /
	       mean_us(periodic.reuse_ns, periodic.reuses) : 0);
	if (json && write_json(json, n, fds, procs)) {
		fprintf(stderr, "%s: cannot write\n", json);
		goto out;
	}
	rc = 0;
out:
	reap_kids();
	if (dev) {
		e1000e_irq_teardown(dev);
		ptdev_close(dev);
	}
	ptvm_destroy(vm);
	close(fd);
	return rc;
}
