// SPDX-License-Identifier: GPL-2.0
/*
 * lat_ioctl: the ABI 0.5 additions against a running passthrough VM:
 * PISTEER_IOC_SET_POLICY's housekeeping/auto policies and CPU list,
 * PISTEER_IOC_LAT_CTL and PISTEER_IOC_LAT_READ.
 *
 * usage: lat_ioctl PID
 *   PID  process holding a VM with 5 MSI-X vectors on irqfds
 *
 * Every documented error, each changing nothing (no sampling enabled
 * afterwards, no entry written); old struct sizes accepted; entry-size
 * negotiation; -ENOSPC with the number needed.  Needs pisteer.ko loaded
 * and latency sampling off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/pisteer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/ktap.h"
#include "../lib/privs.h"

#define CANARY		0x5a
#define NR_VEC		5

static int fd, pid;
static unsigned char buf[64 * 1024];

static int call(unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static struct pisteer_policy policy(unsigned int pol)
{
	struct pisteer_policy p;

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.scope = PISTEER_SCOPE_VM;
	/* A live process without a VM: no vector moves while this is tested. */
	p.pid = getpid();
	p.policy = pol;
	return p;
}

static void test_policy(void)
{
	struct pisteer_policy p;
	unsigned char big[sizeof(p) + 8];
	bool ok;

	p = policy(PISTEER_POLICY_AUTO + 1);
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), EINVAL, "policy 6");
	p = policy(PISTEER_POLICY_FOLLOW);
	p.cpus[0] = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), EINVAL,
			       "follow with CPUs") && ok;
	p = policy(PISTEER_POLICY_HOUSEKEEPING);
	p.cpus[PISTEER_AFFINITY_WORDS - 1] = 1ULL << 63;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), EINVAL,
			       "housekeeping on CPU 1023") && ok;
	p = policy(PISTEER_POLICY_AUTO);
	p.cpus[0] = 1ULL << 40;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), EINVAL,
			       "auto with CPU 40") && ok;
	memset(big, 0, sizeof(big));
	p = policy(PISTEER_POLICY_HOUSEKEEPING);
	p.size = sizeof(big);
	memcpy(big, &p, sizeof(p));
	big[sizeof(p) + 2] = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, big), E2BIG,
			       "non-zero tail") && ok;
	/* Nothing was set: removing the scope's policy finds none. */
	p = policy(PISTEER_POLICY_NONE);
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), ENOENT,
			       "remove after failures") && ok;
	ktap_result(ok, "SET_POLICY: bad policy, CPUs where none belong, offline CPUs, non-zero tail: errors, nothing set");

	p = policy(PISTEER_POLICY_HOUSEKEEPING);
	p.size = PISTEER_POLICY_SIZE_VER0;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), 0, "VER0 housekeeping");
	p = policy(PISTEER_POLICY_AUTO);
	p.cpus[0] = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), 0, "auto, CPU 0") && ok;
	p = policy(PISTEER_POLICY_NONE);
	ok = ktap_expect_errno(call(PISTEER_IOC_SET_POLICY, &p), 0, "remove") && ok;
	ktap_result(ok, "SET_POLICY: housekeeping with the ABI 0.4 size, auto with a CPU list");
}

static struct pisteer_lat_ctl ctl(unsigned int op, unsigned int scope, int p)
{
	struct pisteer_lat_ctl c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.op = op;
	c.scope = scope;
	c.pid = p;
	return c;
}

static void lat_request(struct pisteer_lat_read *r, unsigned int count,
			unsigned int esize)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->flags = PISTEER_LIST_F_PID;
	r->pid = pid;
	r->entry_size = esize;
	r->count = count;
	r->entries = (uintptr_t)buf;
	memset(buf, CANARY, sizeof(buf));
}

static bool untouched(size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (buf[i] != CANARY)
			return false;
	return true;
}

/* Sampling is off: no state, no entry. */
static bool all_off(void)
{
	struct pisteer_lat_read r;

	lat_request(&r, 64, sizeof(struct pisteer_lat_vector));
	r.flags = 0;
	return !call(PISTEER_IOC_LAT_READ, &r) && r.count == 0 && r.state == 0 &&
	       r.nr_vms == 0 && untouched(0, sizeof(buf));
}

static void test_ctl_errors(void)
{
	struct pisteer_lat_ctl c;
	unsigned char big[sizeof(c) + 8];
	bool ok = true;

	c = ctl(0, PISTEER_LAT_SCOPE_ALL, 0);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "op 0") && ok;
	c = ctl(PISTEER_LAT_RESET + 1, PISTEER_LAT_SCOPE_ALL, 0);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "op 4") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_VM + 1, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "scope 2") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "all with a pid") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_VM, 0);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "VM pid 0") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_VM, -5);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "VM pid -5") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, 0);
	c.flags = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "flags") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, 0);
	c.reserved = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "reserved") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, 0);
	c.size = PISTEER_LAT_CTL_SIZE_VER0 - 4;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), EINVAL, "short size") && ok;
	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, 0);
	c.size = sizeof(big);
	memset(big, 0, sizeof(big));
	memcpy(big, &c, sizeof(c));
	big[sizeof(c) + 7] = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, big), E2BIG, "non-zero tail") && ok;
	c = ctl(PISTEER_LAT_DISABLE, PISTEER_LAT_SCOPE_VM, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), ENOENT, "disable a VM not enabled") && ok;
	c = ctl(PISTEER_LAT_RESET, PISTEER_LAT_SCOPE_VM, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), ENOENT, "reset a VM not sampled") && ok;
	ktap_result(ok && all_off(),
		    "LAT_CTL: bad op, scope, pid, flags, sizes; unknown VM: errors, sampling still off");
}

static void test_read(void)
{
	struct pisteer_lat_read r;
	struct pisteer_lat_ctl c;
	bool ok;
	unsigned int i;

	lat_request(&r, 64, PISTEER_LAT_VECTOR_SIZE_VER0 - 8);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), EINVAL, "entry size");
	lat_request(&r, 64, sizeof(struct pisteer_lat_vector));
	r.flags = 4;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), EINVAL, "flags") && ok;
	lat_request(&r, 64, sizeof(struct pisteer_lat_vector));
	r.reserved2 = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), EINVAL, "reserved2") && ok;
	lat_request(&r, 64, sizeof(struct pisteer_lat_vector));
	r.state = 1;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), EINVAL, "state in") && ok;
	ktap_result(ok && untouched(0, sizeof(buf)), "LAT_READ: bad entry size, flags, fields: EINVAL, nothing written");

	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_VM, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), 0, "enable VM");
	lat_request(&r, 2, sizeof(struct pisteer_lat_vector));
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), ENOSPC, "room for 2") && ok;
	ok = ok && r.count == NR_VEC && untouched(0, sizeof(buf));
	if (!ok)
		ktap_diag("count %u", r.count);
	ktap_result(ok, "LAT_READ with room for 2 of %d: ENOSPC, the number needed, nothing written",
		    NR_VEC);

	/* An entry size larger than the module's: the rest is zeroed. */
	lat_request(&r, NR_VEC, sizeof(struct pisteer_lat_vector) + 16);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_READ, &r), 0, "read");
	ok = ok && r.count == NR_VEC && r.entry_size == sizeof(struct pisteer_lat_vector) &&
	     r.nr_vms == 1 && r.state == PISTEER_LAT_S_PROBES;
	for (i = 0; ok && i < NR_VEC; i++) {
		const unsigned char *e = buf + i * (sizeof(struct pisteer_lat_vector) + 16);
		const struct pisteer_lat_vector *v = (const void *)e;
		unsigned int j;

		ok = v->vm_pid == pid && v->irq_type == PISTEER_IRQ_MSIX;
		for (j = 0; ok && j < 16; j++)
			ok = e[sizeof(*v) + j] == 0;
	}
	ok = ok && untouched(NR_VEC * (sizeof(struct pisteer_lat_vector) + 16), sizeof(buf));
	ktap_result(ok, "LAT_READ, larger entries: %d entries of this VM, tails zeroed, state: 1 VM, probes",
		    NR_VEC);

	c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_VM, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), 0, "enable twice");
	c = ctl(PISTEER_LAT_DISABLE, PISTEER_LAT_SCOPE_VM, pid);
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), 0, "disable VM") && ok;
	ok = ktap_expect_errno(call(PISTEER_IOC_LAT_CTL, &c), ENOENT, "disable again") && ok;
	ktap_result(ok && all_off(), "enable twice, disable once: all off, no samples kept");
}

static void test_unprivileged(void)
{
	int status = -1;
	pid_t child = fork();

	if (child == 0) {
		struct pisteer_lat_ctl c = ctl(PISTEER_LAT_ENABLE, PISTEER_LAT_SCOPE_ALL, 0);
		struct pisteer_lat_read r;

		if (drop_cap_sys_admin())
			_exit(2);
		lat_request(&r, 64, sizeof(struct pisteer_lat_vector));
		_exit(call(PISTEER_IOC_LAT_CTL, &c) == EPERM &&
		      call(PISTEER_IOC_LAT_READ, &r) == EPERM &&
		      untouched(0, sizeof(buf)) ? 0 : 1);
	}
	waitpid(child, &status, 0);
	ktap_result(WIFEXITED(status) && WEXITSTATUS(status) == 0 && all_off(),
		    "without CAP_SYS_ADMIN: EPERM, sampling still off");
}

int main(int argc, char **argv)
{
	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		return 2;
	}
	pid = atoi(argv[1]);

	ktap_plan(8);
	fd = open("/dev/" PISTEER_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ktap_diag("open: %s", strerror(errno));
		ktap_result(false, "open /dev/pisteer");
		ktap_skip_rest("no device");
	}
	test_policy();
	test_ctl_errors();
	test_read();
	test_unprivileged();
	close(fd);
	ktap_finish();
}
