// SPDX-License-Identifier: GPL-2.0
/*
 * list_ioctl: PISTEER_IOC_LIST_VECTORS against a running passthrough VM.
 *
 * usage: list_ioctl PID BDF NR
 *   PID  process holding a VM that has BDF's NR MSI-X vectors on irqfds
 *
 * Checks the answer (entries, filters, entry-size negotiation both ways)
 * and every documented error, each leaving the caller's buffers as they
 * were.  Needs pisteer.ko loaded.
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

#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"
#include "../lib/privs.h"

#define CANARY	0x5a

static int fd, pid, nr_expected;
static struct pst_bdf bdf;
static unsigned char buf[64 * 1024];

static void request(struct pisteer_list_vectors *req, unsigned int count,
		    unsigned int esize)
{
	memset(req, 0, sizeof(*req));
	req->size = sizeof(*req);
	req->flags = PISTEER_LIST_F_PID;
	req->pid = pid;
	req->entry_size = esize;
	req->count = count;
	req->entries = (uintptr_t)buf;
	memset(buf, CANARY, sizeof(buf));
}

static int list(void *req)
{
	return ioctl(fd, PISTEER_IOC_LIST_VECTORS, req) < 0 ? errno : 0;
}

static bool untouched(size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		if (buf[i] != CANARY)
			return false;
	return true;
}

static void test_sizes(void)
{
	struct pisteer_list_vectors req;
	size_t k = sizeof(struct pisteer_vector);
	unsigned int i;
	bool ok;

	request(&req, 0, k);
	req.entries = 0;
	ok = ktap_expect_errno(list(&req), ENOSPC, "count 0") && req.count == (unsigned int)nr_expected;
	ktap_result(ok, "count 0: ENOSPC and the needed count (%u)", req.count);

	request(&req, 2, k);
	ok = ktap_expect_errno(list(&req), ENOSPC, "count 2") &&
	     req.count == (unsigned int)nr_expected && untouched(0, sizeof(buf));
	ktap_result(ok, "count too small: ENOSPC, needed count, no entry written");

	request(&req, nr_expected, k);
	ok = ktap_expect_errno(list(&req), 0, "exact count") && req.count == (unsigned int)nr_expected &&
	     req.entry_size == k && untouched(nr_expected * k, sizeof(buf));
	for (i = 0; ok && i < req.count; i++) {
		struct pisteer_vector *v = (void *)(buf + i * k);

		ok = v->vm_pid == pid && v->pci_seg == bdf.seg &&
		     v->pci_bus == bdf.bus && v->pci_devfn == bdf.devfn &&
		     v->irq_type == PISTEER_IRQ_MSIX;
	}
	ktap_result(ok, "exact count: %d entries of %zu bytes, all of VM %d and %s's MSI-X",
		    nr_expected, k, pid, "the device");

	/* A tool of ABI 0.2 with smaller entries: each cut at its size. */
	request(&req, nr_expected, PISTEER_VECTOR_SIZE_VER0);
	ok = !list(&req) && req.count == (unsigned int)nr_expected && req.entry_size == k;
	for (i = 0; ok && i < req.count; i++) {
		struct pisteer_vector *v = (void *)(buf + (size_t)i * PISTEER_VECTOR_SIZE_VER0);

		ok = v->vm_pid == pid && v->irq_type == PISTEER_IRQ_MSIX;
	}
	ok = ok && untouched((size_t)nr_expected * PISTEER_VECTOR_SIZE_VER0, sizeof(buf));
	ktap_result(ok, "older entry_size (%d): entries at its stride, nothing written past them",
		    PISTEER_VECTOR_SIZE_VER0);

	/* A newer tool with larger entries: stride kept, the tail zeroed. */
	request(&req, nr_expected, k + 24);
	ok = !list(&req) && req.count == (unsigned int)nr_expected && req.entry_size == k;
	for (i = 0; ok && i < req.count; i++) {
		struct pisteer_vector *v = (void *)(buf + i * (k + 24));
		size_t j;

		ok = v->vm_pid == pid;
		for (j = k; ok && j < k + 24; j++)
			ok = buf[i * (k + 24) + j] == 0;
	}
	ok = ok && untouched(nr_expected * (k + 24), sizeof(buf));
	ktap_result(ok, "larger entry_size: entries at the caller's stride, unknown tail zeroed");
}

static void test_filters(void)
{
	struct pisteer_list_vectors req;
	bool ok;

	request(&req, 64, sizeof(struct pisteer_vector));
	req.flags = PISTEER_LIST_F_PID | PISTEER_LIST_F_PCI;
	req.pci_seg = bdf.seg;
	req.pci_bus = (__u8)bdf.bus;
	req.pci_devfn = (__u8)bdf.devfn;
	ok = !list(&req) && req.count == (unsigned int)nr_expected;
	ktap_result(ok, "filter by VM pid and PCI address: %d", nr_expected);

	request(&req, 64, sizeof(struct pisteer_vector));
	req.flags = PISTEER_LIST_F_PCI;
	req.pci_bus = 0xfe;
	ok = !list(&req) && req.count == 0 && untouched(0, sizeof(buf));
	request(&req, 64, sizeof(struct pisteer_vector));
	req.pid = 0x3ffffff0;
	ok = ok && !list(&req) && req.count == 0;
	ktap_result(ok, "filters that match nothing: success, count 0");
}

static void test_bad_input(void)
{
	struct pisteer_list_vectors req;
	unsigned char big[sizeof(req) + 16];
	bool ok;

	request(&req, 64, PISTEER_VECTOR_SIZE_VER0 - 8);
	ok = ktap_expect_errno(list(&req), EINVAL, "small entry_size") && req.count == 64;
	request(&req, 64, 4097);
	ok = ktap_expect_errno(list(&req), EINVAL, "huge entry_size") && ok;
	ktap_result(ok && untouched(0, sizeof(buf)),
		    "entry_size below the first published size or above a page: EINVAL");

	request(&req, 64, sizeof(struct pisteer_vector));
	req.flags |= 1U << 7;
	ok = ktap_expect_errno(list(&req), EINVAL, "unknown flag");
	request(&req, 64, sizeof(struct pisteer_vector));
	req.reserved = 1;
	ok = ktap_expect_errno(list(&req), EINVAL, "reserved") && ok;
	request(&req, 64, sizeof(struct pisteer_vector));
	req.reserved2 = 1;
	ok = ktap_expect_errno(list(&req), EINVAL, "reserved2") && ok;
	ktap_result(ok && untouched(0, sizeof(buf)),
		    "unknown flags, non-zero reserved fields: EINVAL, nothing written");

	request(&req, 64, sizeof(struct pisteer_vector));
	req.entries = 0;
	ok = ktap_expect_errno(list(&req), EFAULT, "NULL entries");
	request(&req, 64, sizeof(struct pisteer_vector));
	req.entries = 16;
	ok = ktap_expect_errno(list(&req), EFAULT, "entries at 16") && ok;
	ok = ktap_expect_errno(list(NULL), EFAULT, "NULL argument") && ok;
	ktap_result(ok, "bad pointers: EFAULT");

	memset(big, 0, sizeof(big));
	request(&req, 64, sizeof(struct pisteer_vector));
	req.size = sizeof(big);
	memcpy(big, &req, sizeof(req));
	big[sizeof(req) + 3] = 1;
	ok = ktap_expect_errno(list(big), E2BIG, "non-zero tail");
	req.size = 8;
	ok = ktap_expect_errno(list(&req), EINVAL, "size 8") && ok;
	ktap_result(ok && untouched(0, sizeof(buf)),
		    "struct size rules: non-zero unknown tail E2BIG, short size EINVAL");
}

static void test_unprivileged(void)
{
	int status = -1;
	pid_t child = fork();

	if (child == 0) {
		struct pisteer_list_vectors req;

		if (drop_cap_sys_admin())
			_exit(2);
		request(&req, 64, sizeof(struct pisteer_vector));
		_exit(list(&req) == EPERM && req.count == 64 &&
		      untouched(0, sizeof(buf)) ? 0 : 1);
	}
	waitpid(child, &status, 0);
	ktap_result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "without CAP_SYS_ADMIN: EPERM, nothing written");
}

int main(int argc, char **argv)
{
	if (argc != 4 || pst_parse_bdf(argv[2], &bdf)) {
		fprintf(stderr, "usage: %s PID BDF NR\n", argv[0]);
		return 2;
	}
	pid = atoi(argv[1]);
	nr_expected = atoi(argv[3]);

	ktap_plan(12);
	fd = open("/dev/" PISTEER_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ktap_diag("open: %s", strerror(errno));
		ktap_result(false, "open /dev/pisteer");
		ktap_skip_rest("no device");
	}
	test_sizes();
	test_filters();
	test_bad_input();
	test_unprivileged();
	close(fd);
	ktap_finish();
}
