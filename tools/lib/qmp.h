/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough QMP to learn a QEMU's vCPU threads: read the greeting,
 * qmp_capabilities, query-cpus-fast.  Asynchronous events that arrive in
 * between are skipped; an {"error": ...} reply is reported.
 */
#ifndef PISTEER_QMP_H
#define PISTEER_QMP_H

#include <stddef.h>

struct pst_vcpu_tid {
	int index;	/* cpu-index */
	int tid;	/* thread-id */
};

/*
 * Talk QMP on the connected stream @fd (timeout per reply @timeout_ms).
 * On success *@cpus (free() it) holds *@nr entries sorted by index, and
 * 0 is returned; else -errno with the reason in @why.
 */
int pst_qmp_query_cpus_fd(int fd, int timeout_ms, struct pst_vcpu_tid **cpus,
			  unsigned int *nr, char *why, size_t whylen);

/*
 * Connect to the unix socket @path and do the above.  *@peer_pid is the
 * process at the other end (SO_PEERCRED), 0 if unknown.
 */
int pst_qmp_query_cpus(const char *path, struct pst_vcpu_tid **cpus,
		       unsigned int *nr, int *peer_pid, char *why, size_t whylen);

#endif
