// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmproc.h"

int pst_vcpu_of_comm(const char *comm)
{
	unsigned int n;
	int end = -1;

	if (sscanf(comm, "CPU %u/KVM%n", &n, &end) == 1 && end > 0 && !comm[end])
		return n < 4096 ? (int)n : -1;
	end = -1;
	if (sscanf(comm, "CPU %u/TCG%n", &n, &end) == 1 && end > 0 && !comm[end])
		return n < 4096 ? (int)n : -1;
	return -1;
}

static void read_comm(int pid, int tid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static int by_role(const void *a, const void *b)
{
	const struct pst_thread *x = a, *y = b;

	if ((x->vcpu < 0) != (y->vcpu < 0))
		return x->vcpu < 0 ? 1 : -1;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

int pst_vm_threads(int pid, const struct pst_vcpu_tid *qmp, unsigned int nr_qmp,
		   struct pst_thread **th, unsigned int *nr, char *why, size_t whylen)
{
	struct pst_thread *t = NULL, *g;
	unsigned int n = 0, cap = 0, i, nv = 0;
	struct dirent *de;
	char path[64];
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		snprintf(why, whylen, "VM process %d: %s", pid,
			 errno == ENOENT ? "no such process (has it exited?)" : strerror(errno));
		return errno == ENOENT ? -ESRCH : -errno;
	}
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			g = realloc(t, cap * sizeof(*t));
			if (!g) {
				closedir(d);
				free(t);
				snprintf(why, whylen, "out of memory");
				return -ENOMEM;
			}
			t = g;
		}
		t[n].tid = tid;
		read_comm(pid, tid, t[n].comm, sizeof(t[n].comm));
		t[n].vcpu = qmp ? -1 : pst_vcpu_of_comm(t[n].comm);
		n++;
	}
	closedir(d);
	for (i = 0; qmp && i < nr_qmp; i++) {
		unsigned int j;

		for (j = 0; j < n && t[j].tid != qmp[i].tid; j++)
			;
		if (j == n) {
			bool gone = access(path, F_OK) != 0;

			if (gone)
				snprintf(why, whylen, "VM process %d exited", pid);
			else
				snprintf(why, whylen,
					 "vCPU %d's thread %d (from QMP) is not a thread of process %d: is --vm the QEMU behind --qmp?",
					 qmp[i].index, qmp[i].tid, pid);
			free(t);
			return gone ? -ESRCH : -ENOENT;
		}
		t[j].vcpu = qmp[i].index;
	}
	for (i = 0; i < n; i++)
		nv += t[i].vcpu >= 0;
	if (!nv) {
		snprintf(why, whylen,
			 "process %d has no vCPU threads named 'CPU n/KVM' or 'CPU n/TCG': QEMU names them only with -name ...,debug-threads=on (libvirt sets it); --qmp SOCKET asks QEMU instead",
			 pid);
		free(t);
		return -ENOENT;
	}
	qsort(t, n, sizeof(*t), by_role);
	for (i = 1; i < nv; i++) {
		if (t[i].vcpu == t[i - 1].vcpu) {
			snprintf(why, whylen, "two threads of process %d are named vCPU %d (%d, %d)",
				 pid, t[i].vcpu, t[i - 1].tid, t[i].tid);
			free(t);
			return -EINVAL;
		}
	}
	*th = t;
	*nr = n;
	return 0;
}

int pst_proc_holds_vm(int pid)
{
	char path[64], fd[320], link[32];
	struct dirent *de;
	int found = 0;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", path, de->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, "anon_inode:kvm-vm");
	}
	closedir(d);
	return found;
}

unsigned long long pst_proc_start(int pid)
{
	unsigned long long start = 0;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Field 3 (state) follows; starttime is field 22. */
	for (i = 2; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

int pst_libvirt_pid(const char *name, char *why, size_t whylen)
{
	const char *dir = getenv("PISTEER_LIBVIRT_RUN");
	char path[512];
	int pid = 0;
	FILE *f;

	if (!*name || strchr(name, '/')) {
		snprintf(why, whylen, "'%s' is not a libvirt domain name", name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s.pid", dir && *dir ? dir : "/run/libvirt/qemu",
		 name);
	f = fopen(path, "re");
	if (!f) {
		int err = errno;

		snprintf(why, whylen, "domain %s: %s: %s (is it running under libvirt's qemu driver?)",
			 name, path, strerror(err));
		return -err;
	}
	if (fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		snprintf(why, whylen, "domain %s: %s holds no pid", name, path);
		pid = -EINVAL;
	}
	fclose(f);
	return pid;
}
