// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the code behind pisteer pin and isolate that needs no VM:
 * CPU lists, placement on fixture topologies, cgroup cpuset checks on
 * fixture trees, state files, QMP conversations with a scripted peer,
 * libvirt pinning against libvirt's own test driver (test:///default), and
 * the command lines' refusals.
 *
 * usage: pin_unit PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../tools/lib/cgcpuset.h"
#include "../../tools/lib/cpus.h"
#include "../../tools/lib/lvpin.h"
#include "../../tools/lib/place.h"
#include "../../tools/lib/qmp.h"
#include "../../tools/lib/state.h"
#include "../../tools/lib/vmproc.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"

static char tmp[] = "/tmp/pin_unit.XXXXXX";
static const char *tool;
static char out[16384], err[16384];

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Run "@env tool @args", capture stdout and stderr; the exit status. */
static int run(const char *env, const char *args)
{
	char cmd[2048], path[600];
	int status, i;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s >%s/out 2>%s/err", env, tool, args, tmp, tmp);
	status = system(cmd);
	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s/%s", tmp, i ? "err" : "out");
		f = fopen(path, "re");
		if (f) {
			n = fread(buf, 1, sizeof(out) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *rel, const char *text)
{
	char path[600], dir[600], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = strchr(dir + strlen(tmp) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "we");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static bool list_is(const struct pst_cpus *s, const char *want)
{
	char buf[256];

	pst_cpus_format(s, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		ktap_diag("got '%s', want '%s'", buf, want);
	return !strcmp(buf, want);
}

static void test_cpulist(void)
{
	static const char *const good[][2] = {
		{ "0", "0" }, { "0-3,8", "0-3,8" }, { "3,1,2", "1-3" },
		{ "5-5", "5" }, { "1,3-4\n", "1,3-4" }, { "1023", "1023" },
		{ "0-63,64-65", "0-65" },
	};
	static const char *const bad[] = {
		"", "\n", "1-", "-1", "3-1", "1,,2", "a", "1 2", "1024", "0-1024",
		"1,", ",1", " 1", "1-2-3", "0x1", "+1", "1\n\n",
	};
	struct pst_cpus s;
	char why[128];
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (pst_cpus_parse(good[i][0], false, &s, why, sizeof(why))) {
			ktap_diag("refused '%s': %s", good[i][0], why);
			ok = false;
		} else {
			ok = list_is(&s, good[i][1]) && ok;
		}
	}
	ok = ok && !pst_cpus_parse("", true, &s, why, sizeof(why)) && pst_cpus_first(&s) < 0;
	ok = ok && !pst_cpus_parse("\n", true, &s, why, sizeof(why)) && pst_cpus_count(&s) == 0;
	ktap_result(ok, "CPU lists: %zu good forms parse and format back; empty only when allowed",
		    i);
	ok = true;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		if (!pst_cpus_parse(bad[i], false, &s, why, sizeof(why)) || !why[0]) {
			ktap_diag("accepted '%s' (or no reason)", bad[i]);
			ok = false;
		}
	}
	pst_cpus_parse("3-1", false, &s, why, sizeof(why));
	ok = ok && strstr(why, "backwards");
	ktap_result(ok, "CPU lists: %zu malformed forms refused with a reason", i);
}

/* A topology: @nodes nodes of @cores cores with @smt threads each, Linux's
 * numbering (first threads of every core, then the second threads). */
static void make_topo(struct pst_topo *t, int nodes, int cores, int smt)
{
	int n, c, s, cpu, ncores = nodes * cores;

	memset(t, 0, sizeof(*t));
	for (s = 0; s < smt; s++) {
		for (n = 0; n < nodes; n++) {
			for (c = 0; c < cores; c++) {
				cpu = s * ncores + n * cores + c;
				t->cpu[cpu] = (struct pst_topo_cpu){
					.present = true, .online = true,
					.core = n * cores + c, .package = n, .node = n,
				};
			}
		}
	}
	t->nr_cpus = (unsigned int)(ncores * smt);
}

static bool placed(const struct pst_place_req *r, const char *want, int want_rc,
		   const char *why_has)
{
	int cpu[64], rc, i;
	char why[1024] = "", got[256] = "";
	size_t off = 0;

	rc = pst_place(r, cpu, why, sizeof(why));
	for (i = 0; !rc && i < (int)r->nr_vcpus; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%d", i ? "," : "", cpu[i]);
	if (rc != want_rc || (want && strcmp(got, want) != 0) ||
	    (why_has && !strstr(why, why_has))) {
		ktap_diag("rc %d (want %d), cpus '%s' (want '%s'), why '%s'", rc, want_rc, got,
			  want ? want : "", why);
		return false;
	}
	return true;
}

static void test_place(void)
{
	static struct pst_topo t;
	struct pst_place_req r = { .topo = &t, .node = -1 };
	struct pst_cpus only;
	bool ok;

	/* One node, 4 cores, no SMT, housekeeping 0. */
	make_topo(&t, 1, 4, 1);
	pst_cpus_zero(&r.housekeeping);
	pst_cpus_set(&r.housekeeping, 0);
	pst_cpus_zero(&r.held);
	r.nr_vcpus = 3;
	ok = placed(&r, "1,2,3", 0, NULL);
	r.nr_vcpus = 4;
	ok = placed(&r, NULL, -ENOSPC, "not enough CPUs: 4 vCPUs need 4 CPUs, 3 are free (1-3)") && ok;
	ktap_result(ok, "placement, 1 node without SMT: 1:1 off housekeeping; 4 vCPUs on 3 free CPUs refused");

	/* Two nodes of 2 cores x 2 threads: node0 CPUs 0,1,4,5, node1 2,3,6,7. */
	make_topo(&t, 2, 2, 2);
	r.node = 1;
	r.nr_vcpus = 3;
	ok = placed(&r, "2,3,6", 0, NULL);
	r.node = 0;
	r.nr_vcpus = 2;
	/* CPU 0 is housekeeping: core 1 first, then core 0's other thread. */
	ok = placed(&r, "1,4", 0, NULL) && ok;
	r.nr_vcpus = 4;
	ok = placed(&r, "1,4,5,2", 0, NULL) && ok;
	r.node = -1;
	ok = placed(&r, "1,2,3,4", 0, NULL) && ok;
	r.nr_vcpus = 8;
	ok = placed(&r, NULL, -ENOSPC, "7 are free") && ok;
	ktap_result(ok, "placement, 2 nodes with SMT: device node first, whole cores before siblings");

	/* Two nodes without SMT. */
	make_topo(&t, 2, 3, 1);
	r.node = 1;
	r.nr_vcpus = 4;
	ok = placed(&r, "3,4,5,1", 0, NULL);
	t.cpu[4].online = false;
	ok = placed(&r, "3,5,1,2", 0, NULL) && ok;
	t.cpu[4].online = true;
	ktap_result(ok, "placement, 2 nodes without SMT: local node, then the other; offline CPUs never");

	/* Held CPUs and --cpus. */
	make_topo(&t, 1, 4, 1);
	r.node = -1;
	pst_cpus_set(&r.held, 1);
	r.nr_vcpus = 2;
	ok = placed(&r, "2,3", 0, NULL);
	r.nr_vcpus = 3;
	ok = placed(&r, NULL, -ENOSPC, "held by other pinned VMs 1") && ok;
	pst_cpus_zero(&only);
	pst_cpus_set(&only, 3);
	pst_cpus_set(&only, 2);
	r.only = &only;
	r.nr_vcpus = 2;
	ok = placed(&r, "2,3", 0, NULL) && ok;
	pst_cpus_set(&only, 1);
	ok = placed(&r, NULL, -EINVAL, "another pinned VM holds: 1") && ok;
	ktap_result(ok, "placement: CPUs other pinned VMs hold are skipped, refused in --cpus");

	pst_cpus_zero(&r.held);
	pst_cpus_zero(&only);
	pst_cpus_set(&only, 0);
	pst_cpus_set(&only, 1);
	r.nr_vcpus = 1;
	ok = placed(&r, NULL, -EINVAL, "--cpus and the housekeeping CPUs overlap: 0");
	pst_cpus_zero(&only);
	pst_cpus_set(&only, 9);
	ok = placed(&r, NULL, -EINVAL, "not online: 9") && ok;
	pst_cpus_zero(&only);
	pst_cpus_set(&only, 1);
	r.nr_vcpus = 2;
	ok = placed(&r, NULL, -ENOSPC, "of --cpus 1") && ok;
	ktap_result(ok, "placement: --cpus overlapping housekeeping, offline, or too small refused");
}

static void test_cgroup(void)
{
	struct pst_cg_cpuset cg;
	struct pst_cpus target;
	char mounts[700], path[600], msg[2048];
	bool ok;

	snprintf(mounts, sizeof(mounts),
		 "tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
		 "cgroup %s/v1 cgroup rw,relatime,cpuset 0 0\n"
		 "cgroup2 %s/v2 cgroup2 rw 0 0\n", tmp, tmp);
	write_file("mounts", mounts);
	snprintf(path, sizeof(path), "%s/mounts", tmp);
	mounts[0] = '\0';
	snprintf(mounts, sizeof(mounts), "%s", path);

	/* v1: libvirt's per-vCPU cpuset cgroup. */
	write_file("cg1", "4:memory:/x\n3:cpuset:/machine/qemu-1-vm/vcpu1\n0::/\n");
	write_file("v1/machine/qemu-1-vm/vcpu1/cpuset.effective_cpus", "2-3\n");
	snprintf(path, sizeof(path), "%s/cg1", tmp);
	ok = !pst_cg_cpuset_of(path, mounts, &cg) && cg.restricted &&
	     list_is(&cg.allowed, "2-3") && !strcmp(cg.cgroup, "/machine/qemu-1-vm/vcpu1");
	pst_cpus_zero(&target);
	pst_cpus_set(&target, 3);
	ok = ok && !pst_cg_refuses(&cg, &target, 1, 77, msg, sizeof(msg));
	pst_cpus_set(&target, 5);
	ok = ok && pst_cg_refuses(&cg, &target, 1, 77, msg, sizeof(msg)) &&
	     strstr(msg, "vCPU 1 (thread 77)") && strstr(msg, "/machine/qemu-1-vm/vcpu1") &&
	     strstr(msg, "allows only CPUs 2-3") && strstr(msg, "virsh vcpupin DOMAIN 1 3,5");
	if (!ok)
		ktap_diag("%s", msg);
	ktap_result(ok, "cgroup v1 cpuset: a target outside it is refused, naming the cgroup and virsh vcpupin");

	/* v2, cpuset enabled two levels up only: the nearest file counts. */
	write_file("cg2", "0::/machine.slice/vm.scope/libvirt/emulator\n");
	write_file("v2/machine.slice/cpuset.cpus.effective", "0-1\n");
	snprintf(path, sizeof(path), "%s/cg2", tmp);
	ok = !pst_cg_cpuset_of(path, mounts, &cg) && cg.restricted && list_is(&cg.allowed, "0-1") &&
	     strstr(cg.file, "v2/machine.slice/cpuset.cpus.effective");
	pst_cpus_zero(&target);
	pst_cpus_set(&target, 2);
	ok = ok && pst_cg_refuses(&cg, &target, -1, 78, msg, sizeof(msg)) &&
	     strstr(msg, "emulator thread 78") && strstr(msg, "virsh emulatorpin DOMAIN 2");
	if (!ok)
		ktap_diag("%s", msg);
	/* No cpuset files anywhere: the thread is not limited. */
	write_file("cg3", "0::/other/leaf\n");
	snprintf(path, sizeof(path), "%s/cg3", tmp);
	write_file("mounts2", "cgroup2 /nonexistent/pin_unit cgroup2 rw 0 0\n");
	snprintf(mounts, sizeof(mounts), "%s/mounts2", tmp);
	ok = ok && !pst_cg_cpuset_of(path, mounts, &cg) && !cg.restricted &&
	     !pst_cg_refuses(&cg, &target, 0, 79, msg, sizeof(msg));
	ktap_result(ok, "cgroup v2 cpuset: nearest ancestor's cpuset.cpus.effective, virsh emulatorpin; none: unlimited");
}

static void test_state(void)
{
	struct pst_pin_thread th[2] = {
		{ .tid = 101, .vcpu = 0 }, { .tid = 102, .vcpu = -1 },
	};
	struct pst_pin_state st = { .pid = 100, .start = 123456789012ULL, .steer = true,
				    .nr = 2, .t = th }, back;
	struct pst_irq_change ic[1] = { { .irq = 42 } };
	struct pst_isolate_state is = { .nr = 1, .irq = ic }, isb;
	char dir[600], path[700];
	int *pids, n;
	bool ok;

	snprintf(dir, sizeof(dir), "%s/state", tmp);
	setenv("PISTEER_STATE_DIR", dir, 1);
	pst_cpus_set(&th[0].prev, 0);
	pst_cpus_set(&th[0].prev, 1);
	pst_cpus_set(&th[0].cpus, 1);
	pst_cpus_set(&th[1].cpus, 0);
	/* th[1].prev empty: stored as "-" */
	ok = !pst_pin_state_save(&st);
	st.pid = 7;
	ok = ok && !pst_pin_state_save(&st);
	pst_pin_state_path(100, path, sizeof(path));
	ok = ok && !pst_pin_state_load(path, &back) && back.pid == 100 &&
	     back.start == 123456789012ULL && back.steer && back.nr == 2 &&
	     back.t[0].tid == 101 && back.t[0].vcpu == 0 && back.t[1].vcpu == -1 &&
	     pst_cpus_equal(&back.t[0].prev, &th[0].prev) &&
	     pst_cpus_equal(&back.t[0].cpus, &th[0].cpus) &&
	     pst_cpus_first(&back.t[1].prev) < 0 && pst_cpus_equal(&back.t[1].cpus, &th[1].cpus);
	pst_pin_state_free(&back);
	n = pst_pin_state_list(&pids);
	ok = ok && n == 2 && pids[0] == 7 && pids[1] == 100;
	free(pids);
	snprintf(path, sizeof(path), "%s/pin-100.json.tmp", dir);
	ok = ok && access(path, F_OK) != 0;
	ktap_result(ok, "pin state: save, list and load round trip; no temporary file left");

	write_file("state/pin-9.json", "{\"pid\":9,\"start\":1,\"steer\":false,\"threads\":[{\"tid\":1}]}");
	write_file("state/pin-10.json", "[1,2");
	write_file("state/pin-12.json", "{\"pid\":12,\"start\":1,\"steer\":false,\"threads\":5}");
	pst_pin_state_path(9, path, sizeof(path));
	ok = pst_pin_state_load(path, &back) == -EINVAL;
	pst_pin_state_path(12, path, sizeof(path));
	ok = ok && pst_pin_state_load(path, &back) == -EINVAL;
	pst_pin_state_path(10, path, sizeof(path));
	ok = ok && pst_pin_state_load(path, &back) == -EINVAL;
	pst_pin_state_path(11, path, sizeof(path));
	ok = ok && pst_pin_state_load(path, &back) == -ENOENT;
	ktap_result(ok, "pin state: incomplete or malformed files refused (-EINVAL), absent -ENOENT");

	pst_cpus_set(&is.cpus, 1);
	pst_cpus_set(&is.housekeeping, 0);
	pst_cpus_set(&ic[0].prev, 0);
	pst_cpus_set(&ic[0].prev, 1);
	pst_cpus_set(&ic[0].set, 0);
	pst_isolate_state_path(path, sizeof(path));
	ok = !pst_isolate_state_save(&is) && !pst_isolate_state_load(path, &isb) &&
	     isb.nr == 1 && isb.irq[0].irq == 42 && list_is(&isb.irq[0].prev, "0-1") &&
	     list_is(&isb.irq[0].set, "0") && list_is(&isb.cpus, "1") &&
	     list_is(&isb.housekeeping, "0");
	if (ok)
		free(isb.irq);
	ktap_result(ok, "isolate state: save and load round trip");
	unsetenv("PISTEER_STATE_DIR");
}

/*
 * A scripted QMP peer: a child writes @chunks (NULL-terminated) with a
 * pause after each, so messages arrive split and joined.  Returns what
 * pst_qmp_query_cpus_fd said.
 */
static int qmp_script(const char *const *chunks, int timeout_ms, struct pst_vcpu_tid **cpus,
		      unsigned int *nr, char *why, size_t whylen)
{
	int sv[2], rc, status;
	pid_t child;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -errno;
	child = fork();
	if (child == 0) {
		close(sv[0]);
		for (; *chunks; chunks++) {
			if (write(sv[1], *chunks, strlen(*chunks)) < 0)
				_exit(1);
			usleep(5000);
		}
		/* Keep the connection open until the client is done. */
		usleep(300000);
		_exit(0);
	}
	close(sv[1]);
	*nr = 0;
	*cpus = NULL;
	rc = pst_qmp_query_cpus_fd(sv[0], timeout_ms, cpus, nr, why, whylen);
	shutdown(sv[0], SHUT_WR);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(sv[0]);
	return rc;
}

static void test_qmp(void)
{
	static const char *const good[] = {
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}},",
		" \"capabilities\": [\"oob\"]}}\r\n",
		"{\"return\": {}}\r\n{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\r\n",
		"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"STOP\"}\r\n{\"return\": [",
		"{\"thread-id\": 502, \"props\": {\"core-id\": 0}, \"qom-path\": \"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": \"x86_64\"}, ",
		"{\"thread-id\": 501, \"cpu-index\": 0, \"target\": \"x86_64\"}]}\r\n",
		NULL,
	};
	static const char *const error[] = {
		"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n{\"return\": {}}\r\n",
		"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command query-cpus-fast has not been found\"}}\r\n",
		NULL,
	};
	static const char *const notqmp[] = { "{\"hello\": 1}\r\n", NULL };
	static const char *const garbage[] = { "{\"QMP\": {}}\r\n{\"return\" ]\r\n", NULL };
	static const char *const closed[] = { "{\"QMP\": {}}\r\n", NULL };
	static const char *const badentry[] = {
		"{\"QMP\": {}}\r\n{\"return\": {}}\r\n{\"return\": [{\"cpu-index\": 0}]}\r\n", NULL,
	};
	static const char *const dup[] = {
		"{\"QMP\": {}}\r\n{\"return\": {}}\r\n{\"return\": [{\"cpu-index\": 0, \"thread-id\": 5},",
		"{\"cpu-index\": 0, \"thread-id\": 6}]}\r\n", NULL,
	};
	struct pst_vcpu_tid *c = NULL;
	unsigned int n = 0;
	char why[512] = "";
	int rc;
	bool ok;

	rc = qmp_script(good, 2000, &c, &n, why, sizeof(why));
	ok = !rc && n == 2 && c[0].index == 0 && c[0].tid == 501 && c[1].index == 1 &&
	     c[1].tid == 502;
	if (rc)
		ktap_diag("rc %d: %s", rc, why);
	free(c);
	ktap_result(ok, "QMP: greeting, capabilities, events in between, split messages: vCPUs by index");

	rc = qmp_script(error, 2000, &c, &n, why, sizeof(why));
	ok = rc == -EREMOTEIO && strstr(why, "query-cpus-fast failed: CommandNotFound");
	if (!ok)
		ktap_diag("rc %d: %s", rc, why);
	ktap_result(ok, "QMP: an error reply is reported with QEMU's class and description");

	rc = qmp_script(notqmp, 2000, &c, &n, why, sizeof(why));
	ok = rc == -EPROTO && strstr(why, "no greeting");
	rc = qmp_script(garbage, 2000, &c, &n, why, sizeof(why));
	ok = ok && rc == -EPROTO && strstr(why, "malformed JSON");
	rc = qmp_script(badentry, 2000, &c, &n, why, sizeof(why));
	ok = ok && rc == -EPROTO && strstr(why, "lacks a valid cpu-index or thread-id");
	rc = qmp_script(dup, 2000, &c, &n, why, sizeof(why));
	ok = ok && rc == -EPROTO && strstr(why, "listed twice");
	if (!ok)
		ktap_diag("rc %d: %s", rc, why);
	ktap_result(ok, "QMP: no greeting, malformed JSON, incomplete or duplicate entries refused");

	rc = qmp_script(closed, 100, &c, &n, why, sizeof(why));
	ok = rc == -ETIMEDOUT && strstr(why, "no answer within 100 ms");
	if (!ok)
		ktap_diag("rc %d: %s", rc, why);
	ktap_result(ok, "QMP: a silent peer times out");
}

/* What the client sends: the two commands, in order. */
static void test_qmp_sent(void)
{
	static const char script[] =
		"{\"QMP\": {}}\r\n{\"return\": {}}\r\n{\"return\": [{\"cpu-index\": 0, \"thread-id\": 9}]}\r\n";
	struct pst_vcpu_tid *c = NULL;
	unsigned int n;
	char why[256], buf[512];
	int sv[2], rc;
	ssize_t got;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		ktap_result(false, "QMP: the client sends qmp_capabilities, then query-cpus-fast");
		return;
	}
	/* All replies queued up front: the client must still send both. */
	if (write(sv[1], script, strlen(script)) < 0)
		ktap_diag("write: %s", strerror(errno));
	rc = pst_qmp_query_cpus_fd(sv[0], 1000, &c, &n, why, sizeof(why));
	got = read(sv[1], buf, sizeof(buf) - 1);
	buf[got > 0 ? got : 0] = '\0';
	ktap_result(!rc && n == 1 && c[0].tid == 9 &&
		    !strcmp(buf, "{\"execute\":\"qmp_capabilities\"}\r\n"
				 "{\"execute\":\"query-cpus-fast\"}\r\n"),
		    "QMP: the client sends qmp_capabilities, then query-cpus-fast");
	free(c);
	close(sv[0]);
	close(sv[1]);
}

static void test_comm(void)
{
	ktap_result(pst_vcpu_of_comm("CPU 0/KVM") == 0 && pst_vcpu_of_comm("CPU 12/TCG") == 12 &&
		    pst_vcpu_of_comm("CPU 1/KVMx") == -1 && pst_vcpu_of_comm("CPU x/KVM") == -1 &&
		    pst_vcpu_of_comm("CPU 1/HVF") == -1 && pst_vcpu_of_comm("qemu-system-x86") == -1 &&
		    pst_vcpu_of_comm("") == -1,
		    "thread names: 'CPU n/KVM' and 'CPU n/TCG' are vCPU n, nothing else");
}

/*
 * lvpin against libvirt's test driver: its domain "test" runs with 2
 * vCPUs on a host of 8 CPUs (the driver's own, no daemon needed).
 */
static void test_libvirt(void)
{
	unsigned char map[3];
	struct pst_cpus s, back, *vc = NULL, emu, want;
	struct pst_pin_thread th[1] = { { .tid = 5, .vcpu = -1 } };
	struct pst_pin_state st = { .pid = 200, .start = 1, .nr = 1, .t = th }, stb;
	struct pst_lv *lv;
	unsigned int nr = 0, n;
	char why[512], path[700], dir[600];
	bool ok;

	pst_cpus_parse("0,9,15,30", false, &s, why, sizeof(why));
	n = pst_lv_map_from_cpus(&s, map, 2);
	pst_lv_map_to_cpus(map, 2, &back);
	ok = n == 3 && map[0] == 0x01 && map[1] == 0x82 && list_is(&back, "0,9,15");
	ktap_result(ok, "libvirt cpumap: CPUs 0,9,15,30 in 2 bytes are 01 82 (30 dropped), and back");

	lv = pst_lv_open("test:///default", "test", why, sizeof(why));
	ok = lv && !pst_lv_get_pins(lv, &vc, &nr, &emu, why, sizeof(why)) && nr == 2;
	free(vc);
	vc = NULL;
	pst_cpus_zero(&want);
	pst_cpus_set(&want, 1);
	ok = ok && !pst_lv_pin_vcpu(lv, 0, &want, why, sizeof(why));
	pst_cpus_set(&want, 3);
	ok = ok && !pst_lv_pin_emulator(lv, &want, why, sizeof(why)) &&
	     !pst_lv_get_pins(lv, &vc, &nr, &emu, why, sizeof(why)) && nr == 2 &&
	     list_is(&vc[0], "1") && list_is(&emu, "1,3");
	if (!ok)
		ktap_diag("libvirt test driver: %s", why);
	free(vc);
	pst_cpus_zero(&want);
	pst_cpus_set(&want, 200);
	ok = ok && pst_lv_pin_vcpu(lv, 1, &want, why, sizeof(why)) && strstr(why, "outside");
	ktap_result(ok, "libvirt test driver: vcpupin and emulatorpin read back as set; a CPU past the host's refused");
	pst_lv_close(lv);

	lv = pst_lv_open("test:///default", "nosuchdomain", why, sizeof(why));
	ktap_result(!lv && strstr(why, "nosuchdomain"), "libvirt: an unknown domain is refused, named");
	pst_lv_close(lv);

	snprintf(dir, sizeof(dir), "%s/lvstate", tmp);
	setenv("PISTEER_STATE_DIR", dir, 1);
	snprintf(st.domain, sizeof(st.domain), "vm-a");
	pst_cpus_set(&th[0].prev, 0);
	pst_cpus_set(&th[0].cpus, 0);
	pst_pin_state_path(200, path, sizeof(path));
	ok = !pst_pin_state_save(&st) && !pst_pin_state_load(path, &stb) &&
	     !strcmp(stb.domain, "vm-a");
	pst_pin_state_free(&stb);
	write_file("lvstate/pin-201.json",
		   "{\"pid\":201,\"start\":1,\"steer\":false,\"domain\":7,\"threads\":[]}");
	pst_pin_state_path(201, path, sizeof(path));
	ok = ok && pst_pin_state_load(path, &stb) == -EINVAL;
	ktap_result(ok, "pin state: the libvirt domain round trips; a domain that is not a string is refused");
	unsetenv("PISTEER_STATE_DIR");
}

static void test_cli(void)
{
	char env[800], pidfile[64];
	int rc;

	snprintf(env, sizeof(env), "PISTEER_DEV=/nonexistent/pisteer PISTEER_STATE_DIR=%s/clistate PISTEER_LIBVIRT_RUN=%s/libvirt",
		 tmp, tmp);
	rc = run(env, "pin");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "name the VM"), "pin without a VM: exit 2");
	rc = run(env, "pin --vm 1 --cpus 3-1");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--cpus takes a CPU list") &&
		    strstr(err, "backwards"), "pin --cpus 3-1: refused with the reason, exit 2");
	rc = run(env, "pin --vm 1 --housekeeping ''");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "empty CPU list"),
		    "pin --housekeeping '': refused, exit 2");
	rc = run(env, "pin --domain vm1 --vm 1");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "no --vm or --qmp"),
		    "pin --domain with --vm: refused, exit 2");
	rc = run(env, "pin --undo --dry-run");
	ktap_result(rc == PST_EXIT_USAGE, "pin --undo --dry-run: refused, exit 2");
	rc = run(env, "pin --vm 12x");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--vm takes a process id"),
		    "pin --vm 12x: refused, exit 2");
	rc = run(env, "pin --vm 4194303");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "no such process"),
		    "pin of a process that does not exist: exit 1");
	snprintf(pidfile, sizeof(pidfile), "%d\n", getpid());
	write_file("libvirt/vm1.pid", pidfile);
	rc = run(env, "pin --domain vm1");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "no vCPU threads") &&
		    strstr(err, "debug-threads=on"),
		    "pin --domain of a process without vCPU threads: says how QEMU names them, exit 1");
	rc = run(env, "pin --domain nosuch");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "nosuch.pid"),
		    "pin --domain without a pid file: names the file, exit 1");
	rc = run(env, "pin --qmp /nonexistent/qmp.sock --dry-run");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "cannot connect to the QMP socket"),
		    "pin --qmp to no socket: exit 1");
	rc = run(env, "pin --undo");
	ktap_result(rc == 0 && strstr(out, "no VM is pinned"), "pin --undo with nothing pinned: says so");
	rc = run(env, "pin --undo --vm 4194303");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "not pinned by pisteer"),
		    "pin --undo of a VM not pinned: exit 1");
	rc = run(env, "isolate");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--cpus LIST is required"),
		    "isolate without --cpus: exit 2");
	rc = run(env, "isolate --cpus 1,");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "--cpus takes a CPU list"),
		    "isolate --cpus '1,': exit 2");
	rc = run(env, "isolate --cpus 1000");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "not online: 1000"),
		    "isolate --cpus of an offline CPU: refused before anything moves, exit 2");
	rc = run(env, "isolate --cpus 0 --housekeeping 0");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "overlap: 0"),
		    "isolate with --housekeeping overlapping --cpus: exit 2");
	rc = run(env, "isolate --undo");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "nothing to undo"),
		    "isolate --undo with nothing isolated: exit 1");
	rc = run(env, "isolate --undo --cpus 1");
	ktap_result(rc == PST_EXIT_USAGE, "isolate --undo --cpus: refused, exit 2");
}

int main(int argc, char **argv)
{
	char cmd[600];

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	if (!mkdtemp(tmp))
		return 1;
	ktap_plan(40);
	test_cpulist();
	test_place();
	test_cgroup();
	test_state();
	test_qmp();
	test_qmp_sent();
	test_comm();
	test_libvirt();
	test_cli();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		ktap_diag("could not remove %s", tmp);
	ktap_finish();
}
