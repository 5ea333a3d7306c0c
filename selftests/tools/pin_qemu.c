// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer pin against real QEMU processes this test starts
 * (qemu-system-x86_64 -accel tcg,thread=multi -S: paused, so the vCPU
 * threads exist and burn no CPU).  Every thread's affinity is read back
 * with sched_getaffinity.
 *
 * What 2 host CPUs allow: one CPU for housekeeping leaves one for vCPUs,
 * so the VMs that get pinned have one vCPU each; a 2-vCPU VM shows that
 * both its vCPU threads are found and that an impossible placement is
 * refused with nothing changed.  Placement over several cores, SMT
 * siblings and NUMA nodes is covered by pin_unit's fixture topologies, not
 * here.  A vCPU thread that exits while the others are pinned is not
 * provoked (the code reports it); a whole QEMU that exits mid-pin is.
 *
 * usage: pin_qemu PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/lib/cpus.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"

static char tmp[] = "/tmp/pin_qemu.XXXXXX";
static const char *tool;
static char out[32768], err[8192];
static char env[1024];

struct vm {
	pid_t pid;
	char qmp[600];
	int nr;				/* threads seen */
	int tid[64];
	struct pst_cpus aff[64];
	int vcpu_tid[4];
};

/* Read what the last run printed into @out and @err. */
static void slurp(void)
{
	char path[600];
	FILE *f;
	int i;

	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t cap = i ? sizeof(err) : sizeof(out), n = 0;

		snprintf(path, sizeof(path), "%s/%s", tmp, i ? "err" : "out");
		f = fopen(path, "re");
		if (f) {
			n = fread(buf, 1, cap - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
	}
}

static int run_argv(const char *args)
{
	char cmd[4096];
	int status;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s >%s/out 2>%s/err", env, tool, args, tmp, tmp);
	status = system(cmd);
	slurp();
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char args[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return run_argv(args);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Read the threads of @vm and their affinities now. */
static int snapshot(struct vm *vm)
{
	char path[64], comm[32];
	struct dirent *de;
	unsigned int idx;
	int end;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", vm->pid);
	d = opendir(path);
	if (!d)
		return -1;
	vm->nr = 0;
	memset(vm->vcpu_tid, 0, sizeof(vm->vcpu_tid));
	while ((de = readdir(d)) && vm->nr < 64) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		vm->tid[vm->nr] = tid;
		if (pst_cpus_get_affinity(tid, &vm->aff[vm->nr]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", vm->pid, tid);
		f = fopen(path, "re");
		comm[0] = '\0';
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		end = -1;
		if (sscanf(comm, "CPU %u/TCG%n", &idx, &end) == 1 && end > 0 && idx < 4)
			vm->vcpu_tid[idx] = tid;
		vm->nr++;
	}
	closedir(d);
	return 0;
}

/* Start a paused QEMU with @smp vCPUs; @named: -name ...,debug-threads=on. */
static int start_qemu(struct vm *vm, const char *name, int smp, bool named)
{
	char qmparg[700], smparg[16], namearg[64];
	int i, want = smp;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->qmp, sizeof(vm->qmp), "%s/%s.qmp", tmp, name);
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", vm->qmp);
	snprintf(smparg, sizeof(smparg), "%d", smp);
	snprintf(namearg, sizeof(namearg), "%s%s", name, named ? ",debug-threads=on" : "");
	vm->pid = fork();
	if (vm->pid == 0) {
		execlp("qemu-system-x86_64", "qemu-system-x86_64", "-name", namearg,
		       "-accel", "tcg,thread=multi", "-smp", smparg, "-m", "64", "-S",
		       "-display", "none", "-nodefaults", "-qmp", qmparg, (char *)NULL);
		_exit(127);
	}
	if (vm->pid < 0)
		return -1;
	for (i = 0; i < 200; i++) {
		struct stat sb;
		int n = 0, k;

		sleep_ms(50);
		if (waitpid(vm->pid, NULL, WNOHANG) == vm->pid)
			return -1;
		if (stat(vm->qmp, &sb) || snapshot(vm))
			continue;
		for (k = 0; k < 4; k++)
			n += vm->vcpu_tid[k] != 0;
		if (!named || n == want)
			return 0;
	}
	return -1;
}

static void stop_qemu(struct vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
}

/* Are the affinities of @vm's threads those in @before? */
static bool same_affinity(struct vm *vm, const struct vm *before)
{
	struct vm now = *vm;
	char a[64], b[64];
	int i, j;
	bool ok = true;

	if (snapshot(&now))
		return false;
	for (i = 0; i < before->nr; i++) {
		for (j = 0; j < now.nr && now.tid[j] != before->tid[i]; j++)
			;
		if (j == now.nr)
			continue;	/* QEMU ended a worker thread */
		if (!pst_cpus_equal(&now.aff[j], &before->aff[i])) {
			pst_cpus_format(&now.aff[j], a, sizeof(a));
			pst_cpus_format(&before->aff[i], b, sizeof(b));
			ktap_diag("thread %d: CPUs %s, before %s", before->tid[i], a, b);
			ok = false;
		}
	}
	return ok;
}

/* vCPU threads of @vm on @vcpu_cpu, every other thread on @emu. */
static bool pinned_as(struct vm *vm, int vcpu_cpu, const char *emu)
{
	char a[64];
	int i;
	bool ok = true;

	if (snapshot(vm))
		return false;
	for (i = 0; i < vm->nr; i++) {
		bool vcpu = vm->tid[i] == vm->vcpu_tid[0];
		char want[16];

		snprintf(want, sizeof(want), "%d", vcpu_cpu);
		pst_cpus_format(&vm->aff[i], a, sizeof(a));
		if (strcmp(a, vcpu ? want : emu) != 0) {
			ktap_diag("%s thread %d on CPUs %s, want %s", vcpu ? "vCPU" : "emulator",
				  vm->tid[i], a, vcpu ? want : emu);
			ok = false;
		}
	}
	return ok && vm->vcpu_tid[0];
}

static bool state_exists(int pid)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/state/pin-%d.json", tmp, pid);
	return !access(path, F_OK);
}

/* Give each thread of @vm its own starting affinity, so --undo is seen
 * restoring them and not just "all CPUs". */
static void scatter(struct vm *vm)
{
	struct pst_cpus s;
	int i;

	for (i = 0; i < vm->nr; i++) {
		pst_cpus_zero(&s);
		pst_cpus_set(&s, (unsigned int)(i % 3 == 2 ? 0 : i % 2));
		if (i % 3 == 2)
			pst_cpus_set(&s, 1);
		pst_cpus_set_affinity(vm->tid[i], &s);
	}
	snapshot(vm);
}

static void test_two_vcpus(void)
{
	struct vm a, before;
	char want[128];
	int rc;

	if (start_qemu(&a, "two", 2, true)) {
		ktap_result(false, "QEMU -smp 2 started with named vCPU threads");
		stop_qemu(&a);
		return;
	}
	before = a;
	rc = run("pin --vm %d", a.pid);
	snprintf(want, sizeof(want), "%d, %d", a.vcpu_tid[0], a.vcpu_tid[1]);
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "2 vCPUs need 2 CPUs, 1 are free (1)") &&
		    strstr(err, "nothing changed") && same_affinity(&a, &before) &&
		    !state_exists(a.pid),
		    "-smp 2 by thread names, housekeeping 0: not enough CPUs, exit 1, nothing changed");
	if (rc != PST_EXIT_FAIL)
		ktap_diag("rc %d: %s%s", rc, out, err);
	rc = run("pin --qmp %s --cpus 0-1 --dry-run", a.qmp);
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "overlap: 0") && same_affinity(&a, &before),
		    "--cpus overlapping the housekeeping CPU: exit 2, nothing changed");
	rc = run("pin --qmp %s --housekeeping 1 --json --dry-run", a.qmp);
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "1 are free (0)") && same_affinity(&a, &before),
		    "-smp 2 via QMP, housekeeping 1: not enough CPUs, nothing changed");
	stop_qemu(&a);
}

/* The plan's vCPU entry in a --json document. */
static bool json_vcpu(const char *doc, int tid, int cpu, int nr_emu)
{
	json_object *root = json_tokener_parse(doc), *v, *e, *x;
	bool ok;

	ok = root && json_object_object_get_ex(root, "vcpus", &v) &&
	     json_object_array_length(v) == 1 &&
	     json_object_object_get_ex(json_object_array_get_idx(v, 0), "tid", &x) &&
	     json_object_get_int(x) == tid &&
	     json_object_object_get_ex(json_object_array_get_idx(v, 0), "cpu", &x) &&
	     json_object_get_int(x) == cpu &&
	     json_object_object_get_ex(root, "emulator", &e) &&
	     (int)json_object_array_length(e) == nr_emu;
	json_object_put(root);
	return ok;
}

static void test_pin_undo(void)
{
	struct vm b = { 0 }, c = { 0 }, bb, cb;
	int rc;

	if (start_qemu(&b, "bee", 1, true) || start_qemu(&c, "sea", 1, true)) {
		ktap_result(false, "two QEMU -smp 1 started");
		stop_qemu(&b);
		stop_qemu(&c);
		return;
	}
	scatter(&b);
	scatter(&c);
	bb = b;
	cb = c;

	/* B is pinned through QMP: its thread names are the check. */
	rc = run("pin --qmp %s --dry-run --json", b.qmp);
	ktap_result(rc == 0 && json_vcpu(out, b.vcpu_tid[0], 1, b.nr - 1) &&
		    same_affinity(&b, &bb) && !state_exists(b.pid),
		    "--dry-run --json via QMP: QMP's vCPU thread is the one named 'CPU 0/TCG', on CPU 1; nothing changed or saved");
	if (rc)
		ktap_diag("rc %d: %s%s", rc, out, err);
	rc = run("pin --qmp %s", b.qmp);
	ktap_result(rc == 0 && pinned_as(&b, 1, "0") && state_exists(b.pid) &&
		    strstr(err, "not steered"),
		    "pin via QMP (process from the socket's peer): vCPU on CPU 1, emulator threads on 0, module absent is a warning");
	if (rc)
		ktap_diag("rc %d: %s", rc, err);

	rc = run("pin --vm %d", c.pid);
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "held by other pinned VMs 1") &&
		    same_affinity(&c, &cb),
		    "a second VM: CPU 1 is held by the first, not enough CPUs, nothing changed");
	rc = run("pin --vm %d --housekeeping 1 --json", c.pid);
	ktap_result(rc == 0 && pinned_as(&c, 0, "1") && json_vcpu(out, c.vcpu_tid[0], 0, c.nr - 1),
		    "pin via thread names, housekeeping 1: vCPU on CPU 0, emulator threads on 1, JSON plan");
	if (rc)
		ktap_diag("rc %d: %s", rc, err);
	rc = run("pin --qmp %s", b.qmp);
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "already pinned") && pinned_as(&b, 1, "0"),
		    "pinning a pinned VM again: refused, exit 1");

	rc = run("pin --undo --vm %d", b.pid);
	ktap_result(rc == 0 && same_affinity(&b, &bb) && !state_exists(b.pid) &&
		    pinned_as(&c, 0, "1"),
		    "--undo --vm: that VM's threads are back on their own earlier CPUs, the other stays pinned");
	rc = run("pin --undo");
	ktap_result(rc == 0 && same_affinity(&c, &cb) && !state_exists(c.pid),
		    "--undo: every pinned VM restored exactly, state removed");
	if (rc)
		ktap_diag("rc %d: %s%s", rc, out, err);

	rc = run("pin --qmp %s", b.qmp);
	stop_qemu(&b);
	rc = rc || run("pin --undo");
	ktap_result(rc == 0 && strstr(out, "has exited: its pin state is removed") &&
		    !state_exists(bb.pid),
		    "--undo after the VM exited: reported, state cleaned");
	stop_qemu(&c);
}

/*
 * QEMU exits mid-pin: pisteer talks to QEMU through this relay, which
 * kills QEMU after QEMU has answered query-cpus-fast and before pisteer
 * reads the answer.
 */
static void test_exit_mid_pin(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p[2];
	char relay[700], buf[4096];
	int lfd = -1, cfd = -1, qfd = -1, rc = -1, status;
	struct vm d;
	pid_t child;
	ssize_t n;
	bool killed = false;

	if (start_qemu(&d, "dee", 1, false)) {
		ktap_result(false, "QEMU started for the mid-pin exit");
		stop_qemu(&d);
		return;
	}
	rc = run("pin --vm %d", d.pid);
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "debug-threads=on") && !state_exists(d.pid),
		    "QEMU without debug-threads: --vm finds no vCPU threads and says why");
	snprintf(relay, sizeof(relay), "%s/relay.sock", tmp);
	if (strlen(relay) >= sizeof(sa.sun_path) || strlen(d.qmp) >= sizeof(sa.sun_path))
		goto out;
	memcpy(sa.sun_path, relay, strlen(relay) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		goto out;
	child = fork();
	if (child == 0)
		_exit(run("pin --vm %d --qmp %s", d.pid, relay));
	cfd = accept(lfd, NULL, NULL);
	memcpy(sa.sun_path, d.qmp, strlen(d.qmp) + 1);
	qfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || qfd < 0 || connect(qfd, (struct sockaddr *)&sa, sizeof(sa)))
		goto wait;
	for (;;) {
		p[0] = (struct pollfd){ .fd = cfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = qfd, .events = POLLIN };
		if (poll(p, 2, 10000) <= 0)
			break;
		if (p[0].revents) {
			n = read(cfd, buf, sizeof(buf));
			if (n <= 0 || write(qfd, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents) {
			n = read(qfd, buf, sizeof(buf) - 1);
			if (n <= 0)
				break;
			buf[n] = '\0';
			if (strstr(buf, "thread-id")) {
				stop_qemu(&d);
				killed = true;
			}
			if (write(cfd, buf, (size_t)n) != n || killed)
				break;
		}
	}
wait:
	waitpid(child, &status, 0);
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	slurp();
out:
	ktap_diag("pisteer said: %.200s", err);
	ktap_result(killed && rc == PST_EXIT_FAIL && strstr(err, "exited") &&
		    !state_exists(d.pid),
		    "QEMU killed after answering query-cpus-fast: a clean error, exit 1, no state left");
	if (!(killed && rc == PST_EXIT_FAIL))
		ktap_diag("killed %d rc %d: %s", killed, rc, err);
	if (cfd >= 0)
		close(cfd);
	if (qfd >= 0)
		close(qfd);
	if (lfd >= 0)
		close(lfd);
	stop_qemu(&d);
}

int main(int argc, char **argv)
{
	char cmd[700];

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	ktap_plan(13);
	if (system("command -v qemu-system-x86_64 >/dev/null"))
		ktap_skip_rest("qemu-system-x86_64 is not installed");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ktap_skip_rest("needs 2 online CPUs");
	if (!mkdtemp(tmp))
		return 1;
	/* Never the host's module (none is loaded here, but be sure). */
	snprintf(env, sizeof(env), "PISTEER_DEV=%s/no-module PISTEER_STATE_DIR=%s/state", tmp, tmp);
	test_two_vcpus();
	test_pin_undo();
	test_exit_mid_pin();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		ktap_diag("could not remove %s", tmp);
	ktap_finish();
}
