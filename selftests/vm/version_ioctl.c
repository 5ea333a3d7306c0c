// SPDX-License-Identifier: GPL-2.0
/*
 * version_ioctl: /dev/pisteer and PISTEER_IOC_VERSION follow the uapi
 * rules: 0600 misc device, CAP_SYS_ADMIN, extensible struct with size
 * negotiation both ways, and the documented errors for bad input.
 * Needs pisteer.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/pisteer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/ktap.h"
#include "../lib/privs.h"

#define DEV "/dev/" PISTEER_DEVICE_NAME

static int fd;

/* The ioctl on a buffer whose leading u32 is @size: 0 or errno. */
static int version_ioctl(void *buf)
{
	return ioctl(fd, PISTEER_IOC_VERSION, buf) < 0 ? errno : 0;
}

static void test_node(void)
{
	struct stat st;
	bool ok = !stat(DEV, &st) && S_ISCHR(st.st_mode) &&
		  (st.st_mode & 07777) == 0600 && st.st_uid == 0 &&
		  major(st.st_rdev) == 10;

	if (!ok)
		ktap_diag("%s mode %o uid %d", DEV, st.st_mode, st.st_uid);
	ktap_result(ok, "%s is a misc char device, root-owned, mode 0600", DEV);
}

static void test_current(void)
{
	struct pisteer_version v = { .size = sizeof(v) };
	int err = version_ioctl(&v);
	bool ok = !err && v.size == sizeof(v) &&
		  v.abi_major == PISTEER_ABI_MAJOR &&
		  v.abi_minor == PISTEER_ABI_MINOR &&
		  !strcmp(v.release, PISTEER_RELEASE);

	if (!ok)
		ktap_diag("err %d size %u abi %u.%u release '%.32s'", err, v.size,
			  v.abi_major, v.abi_minor, v.release);
	ktap_result(ok, "current struct: ABI %d.%d and release %s reported",
		    PISTEER_ABI_MAJOR, PISTEER_ABI_MINOR, PISTEER_RELEASE);
}

static void test_sizes(void)
{
	unsigned char buf[8192];
	struct pisteer_version *v = (void *)buf;
	size_t k = sizeof(*v);
	bool ok;
	size_t i;

	/* An older caller: the module writes no byte past the caller's size. */
	memset(buf, 0xaa, sizeof(buf));
	memset(buf, 0, PISTEER_VERSION_SIZE_VER0);
	v->size = PISTEER_VERSION_SIZE_VER0;
	ok = !version_ioctl(buf) && v->size == PISTEER_VERSION_SIZE_VER0;
	for (i = PISTEER_VERSION_SIZE_VER0; i < 256; i++)
		ok = ok && buf[i] == 0xaa;
	ktap_result(ok, "size = first published size: answered, nothing written past it");

	/* A newer caller with zeroed extra bytes: accepted, told the real size. */
	memset(buf, 0, sizeof(buf));
	v->size = k + 64;
	ok = !version_ioctl(buf) && v->size == k && v->abi_major == PISTEER_ABI_MAJOR;
	ktap_result(ok, "larger struct with zero tail: accepted, size out = %zu", k);

	memset(buf, 0, sizeof(buf));
	v->size = k + 64;
	buf[k + 10] = 1;
	ok = ktap_expect_errno(version_ioctl(buf), E2BIG, "non-zero tail");
	ok = ok && v->size == k + 64 && v->abi_major == 0;
	ktap_result(ok, "larger struct with a non-zero unknown byte: E2BIG, nothing written");

	memset(buf, 0, sizeof(buf));
	v->size = 4097;
	ktap_result(ktap_expect_errno(version_ioctl(buf), E2BIG, "size 4097"),
		    "size above a page: E2BIG");

	memset(buf, 0, sizeof(buf));
	v->size = PISTEER_VERSION_SIZE_VER0 - 1;
	ok = ktap_expect_errno(version_ioctl(buf), EINVAL, "short size");
	v->size = 0;
	ok = ktap_expect_errno(version_ioctl(buf), EINVAL, "size 0") && ok;
	ktap_result(ok, "size below the first published size: EINVAL");

	memset(buf, 0, sizeof(buf));
	v->size = k;
	v->flags = 1;
	ktap_result(ktap_expect_errno(version_ioctl(buf), EINVAL, "flags"),
		    "unknown flags: EINVAL");
}

static void test_bad_calls(void)
{
	bool ok;

	ok = ktap_expect_errno(version_ioctl(NULL), EFAULT, "NULL");
	ok = ktap_expect_errno(version_ioctl((void *)16), EFAULT, "address 16") && ok;
	ktap_result(ok, "bad pointer: EFAULT");
	ok = ioctl(fd, _IO(PISTEER_IOC_MAGIC, 0x7f), NULL) < 0 && errno == ENOTTY;
	ok = ok && ioctl(fd, _IO('X', 0), NULL) < 0 && errno == ENOTTY;
	ktap_result(ok, "unknown ioctl numbers: ENOTTY");
}

static void test_unprivileged(void)
{
	int status = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		struct pisteer_version v = { .size = sizeof(v) };

		if (drop_cap_sys_admin())
			_exit(2);
		/* The fd was opened by root: the ioctl itself must check. */
		_exit(ioctl(fd, PISTEER_IOC_VERSION, &v) < 0 && errno == EPERM &&
		      v.abi_major == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ktap_diag("child status %#x", status);
	ktap_result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "without CAP_SYS_ADMIN on an open fd: EPERM, nothing written");
}

int main(void)
{
	ktap_plan(11);
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ktap_diag("open %s: %s (is pisteer.ko loaded?)", DEV, strerror(errno));
		ktap_result(false, "open %s", DEV);
		ktap_skip_rest("no device");
	}
	test_node();
	test_current();
	test_sizes();
	test_bad_calls();
	test_unprivileged();
	close(fd);
	ktap_finish();
}
