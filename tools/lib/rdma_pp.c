// SPDX-License-Identifier: GPL-2.0
/*
 * The RC queue pair of pisteer rdma-lat, step by step: device, port, GID,
 * PD, MR, CQs, QP, INIT -> RTR -> RTS; then SEND and RECV completions
 * taken by polling or through the completion channel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "rdma_pp.h"

#define RX_DEPTH	16	/* receives kept posted */
#define TX_DEPTH	16	/* sends posted whose completion is not reaped */
#define WR_RECV		1
#define WR_SEND		2

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("pisteer rdma-lat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct ibv_context *open_device(const char *name, char *out, size_t len)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	char have[256] = "";
	int i, n = 0;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		say("no RDMA device found (no HCA/RNIC driver loaded; for soft-RoCE: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev IFACE)");
		if (list)
			ibv_free_device_list(list);
		errno = ENODEV;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const char *dn = ibv_get_device_name(list[i]);

		if (name && strcmp(name, dn) != 0) {
			size_t l = strlen(have);

			snprintf(have + l, sizeof(have) - l, "%s%s", l ? ", " : "", dn);
			continue;
		}
		snprintf(out, len, "%s", dn);
		ctx = ibv_open_device(list[i]);
		if (!ctx) {
			int err = errno;

			say("cannot open %s: %s", dn, strerror(err));
			ibv_free_device_list(list);
			errno = err;
			return NULL;
		}
		break;
	}
	ibv_free_device_list(list);
	if (!ctx) {
		say("no RDMA device '%s' (there is: %s)", name, have);
		errno = ENODEV;
	}
	return ctx;
}

static int choose_gid(struct pst_rdma *r, int gid_index)
{
	struct ibv_gid_entry e, *tab;
	ssize_t n;
	int err;

	if (gid_index >= 0) {
		err = ibv_query_gid_ex(r->ctx, r->ib_port, (uint32_t)gid_index, &e, 0);
		if (err) {
			say("GID index %d is not valid on %s port %u", gid_index,
			    r->dev_name, r->ib_port);
			return -EINVAL;
		}
	} else if (r->port.link_layer != IBV_LINK_LAYER_ETHERNET) {
		r->gid_index = -1;	/* IB: the LID addresses, no GRH */
		return 0;
	} else {
		tab = calloc(r->port.gid_tbl_len ? r->port.gid_tbl_len : 1, sizeof(*tab));
		if (!tab)
			return -ENOMEM;
		n = ibv_query_gid_table(r->ctx, tab, r->port.gid_tbl_len, 0);
		if (n > 0) {
			ssize_t i, k = 0;

			for (i = 0; i < n; i++)	/* keep this port's entries */
				if (tab[i].port_num == r->ib_port)
					tab[k++] = tab[i];
			gid_index = pst_rdma_pick_gid(tab, (unsigned int)k);
		}
		free(tab);
		if (gid_index < 0 ||
		    ibv_query_gid_ex(r->ctx, r->ib_port, (uint32_t)gid_index, &e, 0)) {
			say("%s port %u has no usable GID (no IP address on its netdev?); name one with --gid-index",
			    r->dev_name, r->ib_port);
			return -ENOENT;
		}
	}
	r->gid_index = gid_index;
	r->gid = e.gid;
	r->gid_type = e.gid_type;
	return 0;
}

int pst_rdma_open(struct pst_rdma *r, const char *dev, unsigned int ib_port,
		  int gid_index, int comp_vector)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->ctx = open_device(dev, r->dev_name, sizeof(r->dev_name));
	if (!r->ctx)
		return -errno;
	r->ib_port = (uint8_t)ib_port;
	if (ib_port < 1 || ib_port > 255 || ibv_query_port(r->ctx, r->ib_port, &r->port)) {
		say("%s has no port %u", r->dev_name, ib_port);
		err = -EINVAL;
		goto fail;
	}
	if (r->port.state != IBV_PORT_ACTIVE) {
		say("%s port %u is %s, not active", r->dev_name, ib_port,
		    ibv_port_state_str(r->port.state));
		err = -ENETDOWN;
		goto fail;
	}
	err = choose_gid(r, gid_index);
	if (err)
		goto fail;
	if (comp_vector >= r->ctx->num_comp_vectors) {
		say("--comp-vector %d: %s has %d completion vector%s (0..%d)", comp_vector,
		    r->dev_name, r->ctx->num_comp_vectors,
		    r->ctx->num_comp_vectors == 1 ? "" : "s", r->ctx->num_comp_vectors - 1);
		err = -EINVAL;
		goto fail;
	}
	r->comp_vector = comp_vector;
	return 0;
fail:
	ibv_close_device(r->ctx);
	r->ctx = NULL;
	return err;
}

static int post_recv(struct pst_rdma *r)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->buf + r->size,
		.length = r->size,
		.lkey = r->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = WR_RECV, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int err;

	err = ibv_post_recv(r->qp, &wr, &bad);
	if (err)
		say("ibv_post_recv: %s", strerror(err));
	return -err;
}

int pst_rdma_setup(struct pst_rdma *r, unsigned int size, int timeout_ms)
{
	struct ibv_qp_init_attr qia = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = TX_DEPTH, .max_recv_wr = RX_DEPTH,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp_attr qa = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = r->ib_port,
	};
	int i, err, fl;

	r->size = size;
	r->timeout_ms = timeout_ms;
	if (size > r->port.max_msg_sz) {
		say("--size %u is over %s's limit of %u bytes", size, r->dev_name,
		    r->port.max_msg_sz);
		return -EMSGSIZE;
	}
	r->pd = ibv_alloc_pd(r->ctx);
	if (!r->pd) {
		say("ibv_alloc_pd: %s", strerror(errno));
		return -ENOMEM;
	}
	r->buf = aligned_alloc(4096, ((size_t)size * 2 + 4095) & ~(size_t)4095);
	if (!r->buf)
		return -ENOMEM;
	memset(r->buf, 0x5a, (size_t)size * 2);
	r->mr = ibv_reg_mr(r->pd, r->buf, (size_t)size * 2, IBV_ACCESS_LOCAL_WRITE);
	if (!r->mr) {
		say("ibv_reg_mr of %u bytes: %s", size * 2, strerror(errno));
		return -ENOMEM;
	}
	r->channel = ibv_create_comp_channel(r->ctx);
	if (!r->channel) {
		say("ibv_create_comp_channel: %s", strerror(errno));
		return -ENOMEM;
	}
	/* The channel fd is polled with a bound, never blocked on. */
	fl = fcntl(r->channel->fd, F_GETFL);
	if (fl < 0 || fcntl(r->channel->fd, F_SETFL, fl | O_NONBLOCK)) {
		say("completion channel: %s", strerror(errno));
		return -EIO;
	}
	r->send_cq = ibv_create_cq(r->ctx, TX_DEPTH, NULL, NULL, 0);
	r->recv_cq = ibv_create_cq(r->ctx, RX_DEPTH, NULL, r->channel, r->comp_vector);
	if (!r->send_cq || !r->recv_cq) {
		say("ibv_create_cq: %s", strerror(errno));
		return -ENOMEM;
	}
	qia.send_cq = r->send_cq;
	qia.recv_cq = r->recv_cq;
	r->qp = ibv_create_qp(r->pd, &qia);
	if (!r->qp) {
		say("ibv_create_qp: %s", strerror(errno));
		return -ENOMEM;
	}
	err = ibv_modify_qp(r->qp, &qa, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			    IBV_QP_ACCESS_FLAGS);
	if (err) {
		say("QP to INIT: %s", strerror(err));
		return -err;
	}
	for (i = 0; i < RX_DEPTH; i++) {
		err = post_recv(r);
		if (err)
			return err;
	}
	if (getrandom(&r->psn, sizeof(r->psn), 0) != sizeof(r->psn))
		r->psn = (uint32_t)time(NULL);
	r->psn &= 0xffffff;
	return 0;
}

void pst_rdma_local(const struct pst_rdma *r, struct pst_xchg_msg *m)
{
	m->qpn = r->qp->qp_num;
	m->psn = r->psn;
	m->lid = r->port.lid;
	m->mtu = (uint8_t)r->port.active_mtu;
	m->has_gid = r->gid_index >= 0;
	if (m->has_gid)
		memcpy(m->gid, r->gid.raw, sizeof(m->gid));
}

int pst_rdma_connect(struct pst_rdma *r, const struct pst_xchg_msg *m)
{
	struct ibv_qp_attr qa = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = m->mtu < r->port.active_mtu ? (enum ibv_mtu)m->mtu
							: r->port.active_mtu,
		.dest_qp_num = m->qpn,
		.rq_psn = m->psn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = { .dlid = m->lid, .port_num = r->ib_port },
	};
	int err;

	if (m->mtu < IBV_MTU_256 || m->mtu > IBV_MTU_4096) {
		say("the peer sent an invalid MTU code %u", m->mtu);
		return -EPROTO;
	}
	if (m->has_gid != (r->gid_index >= 0)) {
		say("the peer %s a GRH and this side %s: mixed link layers? (use --gid-index on both sides)",
		    m->has_gid ? "uses" : "does not use", r->gid_index >= 0 ? "does" : "does not");
		return -EPROTO;
	}
	if (m->has_gid) {
		qa.ah_attr.is_global = 1;
		memcpy(qa.ah_attr.grh.dgid.raw, m->gid, sizeof(m->gid));
		qa.ah_attr.grh.sgid_index = (uint8_t)r->gid_index;
		qa.ah_attr.grh.hop_limit = 64;
	}
	err = ibv_modify_qp(r->qp, &qa, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			    IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			    IBV_QP_MIN_RNR_TIMER);
	if (err) {
		say("QP to RTR: %s", strerror(err));
		return -err;
	}
	memset(&qa, 0, sizeof(qa));
	qa.qp_state = IBV_QPS_RTS;
	qa.timeout = 14;	/* 4.096 us * 2^14: 67 ms per try */
	qa.retry_cnt = 7;
	qa.rnr_retry = 7;
	qa.sq_psn = r->psn;
	qa.max_rd_atomic = 1;
	err = ibv_modify_qp(r->qp, &qa, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			    IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (err) {
		say("QP to RTS: %s", strerror(err));
		return -err;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wc_failed(const struct ibv_wc *wc)
{
	say("%s completion failed: %s (status %d)", wc->wr_id == WR_SEND ? "send" : "receive",
	    ibv_wc_status_str(wc->status), wc->status);
	return -EIO;
}

/* Reap send completions; with @all until none is outstanding. */
static int reap_sends(struct pst_rdma *r, bool all)
{
	long long deadline = now_ms() + r->timeout_ms;
	struct ibv_wc wc[TX_DEPTH];
	unsigned int spins = 0;
	int n, i;

	while (r->sends_out) {
		n = ibv_poll_cq(r->send_cq, TX_DEPTH, wc);
		if (n < 0) {
			say("ibv_poll_cq: %s", strerror(-n));
			return -EIO;
		}
		for (i = 0; i < n; i++) {
			if (wc[i].status != IBV_WC_SUCCESS)
				return wc_failed(&wc[i]);
			r->sends_out--;
		}
		if (!all && r->sends_out < TX_DEPTH)
			return 0;
		if (n == 0 && !(++spins & 255) && now_ms() > deadline) {
			say("no send completion in %d ms", r->timeout_ms);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

int pst_rdma_send(struct pst_rdma *r)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->buf,
		.length = r->size,
		.lkey = r->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_SEND,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad;
	int err;

	err = reap_sends(r, false);
	if (err)
		return err;
	err = ibv_post_send(r->qp, &wr, &bad);
	if (err) {
		say("ibv_post_send: %s", strerror(err));
		return -err;
	}
	r->sends_out++;
	return 0;
}

int pst_rdma_drain_sends(struct pst_rdma *r)
{
	return reap_sends(r, true);
}

/* Sleep on the channel until an event or the deadline.  0 or -errno. */
static int take_event(struct pst_rdma *r, long long deadline)
{
	struct pollfd p = { .fd = r->channel->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *cq_ctx;
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			break;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	if (ibv_get_cq_event(r->channel, &cq, &cq_ctx)) {
		if (errno == EAGAIN)	/* woken for nothing: poll again */
			return 0;
		say("ibv_get_cq_event: %s", strerror(errno));
		return -EIO;
	}
	ibv_ack_cq_events(cq, 1);
	r->armed = false;
	r->events++;
	return 0;
}

int pst_rdma_wait_recv(struct pst_rdma *r, bool event)
{
	long long deadline = now_ms() + r->timeout_ms;
	unsigned int spins = 0;
	struct ibv_wc wc;
	int n, err;

	for (;;) {
		n = ibv_poll_cq(r->recv_cq, 1, &wc);
		if (n < 0) {
			say("ibv_poll_cq: %s", strerror(-n));
			return -EIO;
		}
		if (n == 1) {
			if (wc.status != IBV_WC_SUCCESS)
				return wc_failed(&wc);
			return post_recv(r);
		}
		if (!event) {
			if (!(++spins & 1023) && now_ms() > deadline)
				break;
			continue;
		}
		if (!r->armed) {
			/* Arm, then poll once more: a completion that came
			 * in between raised no event. */
			err = ibv_req_notify_cq(r->recv_cq, 0);
			if (err) {
				say("ibv_req_notify_cq: %s", strerror(err));
				return -err;
			}
			r->armed = true;
			continue;
		}
		err = take_event(r, deadline);
		if (err == -ETIMEDOUT)
			break;
		if (err)
			return err;
	}
	say("no message from the peer in %d ms (%s mode)", r->timeout_ms,
	    event ? "event" : "polling");
	return -ETIMEDOUT;
}

void pst_rdma_close(struct pst_rdma *r)
{
	if (r->qp)
		ibv_destroy_qp(r->qp);
	if (r->send_cq)
		ibv_destroy_cq(r->send_cq);
	if (r->recv_cq)
		ibv_destroy_cq(r->recv_cq);
	if (r->channel)
		ibv_destroy_comp_channel(r->channel);
	if (r->mr)
		ibv_dereg_mr(r->mr);
	free(r->buf);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->ctx)
		ibv_close_device(r->ctx);
	memset(r, 0, sizeof(*r));
}
