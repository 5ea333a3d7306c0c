/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reports of pisteer rdma-lat, text and JSON, from plain data: no verbs
 * call in here, so unit tests check them whole.
 */
#ifndef PISTEER_RDMA_REPORT_H
#define PISTEER_RDMA_REPORT_H

#include <stdio.h>

#include "latstats.h"

struct pst_rdma_result {
	unsigned int mode;		/* PST_MODE_POLL or PST_MODE_EVENT */
	struct pst_latstats s;
	unsigned long events;		/* completion events taken */
};

struct pst_rdma_run {
	const char *peer;
	unsigned int tcp_port;
	const char *device;
	unsigned int ib_port;
	int gid_index;			/* -1: no GRH, the LID addresses */
	unsigned int gid_type;		/* enum ibv_gid_type */
	unsigned int lid;
	int comp_vector;
	unsigned int mtu;		/* enum ibv_mtu */
	unsigned long bytes, iters, warmup;
	unsigned int nres;		/* 2: polling then events (--both) */
	struct pst_rdma_result res[2];
};

/* "poll", "event" */
const char *pst_rdma_mode_name(unsigned int mode);
/* 256..4096 for IBV_MTU_256..IBV_MTU_4096, else 0 */
unsigned int pst_mtu_bytes(unsigned int mtu);
/* "rxe0 port 1, RoCE v2 GID index 1, comp vector 0" */
void pst_rdma_where(const struct pst_rdma_run *run, char *buf, size_t len);

void pst_rdma_report_text(FILE *out, const struct pst_rdma_run *run);
/* A malloc'ed JSON document, or NULL on allocation failure. */
char *pst_rdma_report_json(const struct pst_rdma_run *run);

#endif
