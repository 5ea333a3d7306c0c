/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One RC queue pair for SEND/RECV ping-pong over libibverbs, set up in the
 * steps of rdma-core's rc_pingpong: device, port and GID, protection
 * domain, memory region, completion queues (the receive one on a
 * completion channel and a chosen completion vector), queue pair, INIT,
 * RTR, RTS.  Errors are told on stderr, prefixed "pisteer rdma-lat: ".
 */
#ifndef PISTEER_RDMA_PP_H
#define PISTEER_RDMA_PP_H

#include <infiniband/verbs.h>
#include <stdbool.h>

#include "rdma_xchg.h"

struct pst_rdma {
	/* chosen by pst_rdma_open() */
	struct ibv_context *ctx;
	char dev_name[64];
	uint8_t ib_port;
	struct ibv_port_attr port;
	int gid_index;			/* -1: none (IB without a GRH) */
	union ibv_gid gid;
	unsigned int gid_type;		/* enum ibv_gid_type */
	int comp_vector;
	/* made by pst_rdma_setup() */
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	void *buf;			/* [0, size): send, [size, 2 size): receive */
	unsigned int size;
	struct ibv_comp_channel *channel;
	struct ibv_cq *send_cq, *recv_cq;
	struct ibv_qp *qp;
	uint32_t psn;
	unsigned int sends_out;		/* posted, completion not yet reaped */
	bool armed;			/* recv_cq asked for an event */
	int timeout_ms;			/* bound of every completion wait */
	unsigned long events;		/* completion events taken */
};

/*
 * Open @dev (NULL: the first device), check @ib_port is active, take GID
 * index @gid_index (< 0: choose, see pst_rdma_pick_gid()) and check that
 * @comp_vector exists.  0 or -errno; -ENODEV when there is no such device.
 */
int pst_rdma_open(struct pst_rdma *r, const char *dev, unsigned int ib_port,
		  int gid_index, int comp_vector);

/*
 * Choose among a port's GID entries: a RoCE v2 GID holding an IPv4 address
 * first (what perftest users pass as -x on RoCE), then any RoCE v2, then
 * RoCE v1, then IB.  Returns the index, or -1 when there is none.
 */
int pst_rdma_pick_gid(const struct ibv_gid_entry *e, unsigned int n);

/* Protection domain, buffer, CQs, QP in INIT with receives posted.  0 or -errno. */
int pst_rdma_setup(struct pst_rdma *r, unsigned int size, int timeout_ms);

/* This side's half of the exchange: QPN, PSN, LID, GID, MTU. */
void pst_rdma_local(const struct pst_rdma *r, struct pst_xchg_msg *m);

/* RTR then RTS towards the peer @m describes.  0 or -errno. */
int pst_rdma_connect(struct pst_rdma *r, const struct pst_xchg_msg *m);

/* Post one signaled SEND of size bytes.  0 or -errno. */
int pst_rdma_send(struct pst_rdma *r);

/*
 * Wait for one receive to complete and post a new one; by polling the CQ,
 * or with @event by arming it and sleeping on the completion channel.
 * 0, -ETIMEDOUT after timeout_ms without it, -EIO on a failed completion.
 */
int pst_rdma_wait_recv(struct pst_rdma *r, bool event);

/* Wait until every posted SEND has completed.  0 or -errno. */
int pst_rdma_drain_sends(struct pst_rdma *r);

void pst_rdma_close(struct pst_rdma *r);

/* "RoCE v2", "RoCE v1", "IB" */
const char *pst_gid_type_name(unsigned int type);

#endif
