/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP side channel of pisteer rdma-lat: before the RDMA ping-pong the
 * client and the server swap one fixed-size message each (queue pair
 * number, PSN, LID, GID, MTU and the test's parameters), and the client
 * says "done" at the end.  Every message starts with a magic and a version
 * byte, so a peer that is not rdma-lat, or another version of it, is told
 * apart from a broken connection.
 *
 * Version 2: a server may be given the test's parameters too (as
 * perftest's is); when the client asks for others it refuses with
 * PST_XCHG_E_MISMATCH, and every REPLY carries the parameters the server
 * runs (or, refusing, those it was started with), so that the client can
 * name the difference.
 */
#ifndef PISTEER_RDMA_XCHG_H
#define PISTEER_RDMA_XCHG_H

#include <stdint.h>

#define PST_XCHG_MAGIC		0x5053544cU	/* "PSTL" */
#define PST_XCHG_VERSION	2
#define PST_XCHG_LEN		64
#define PST_XCHG_HDR_LEN	8		/* magic, version, type, status, modes */
#define PST_XCHG_DEFAULT_PORT	18515		/* perftest's default port too */

enum pst_xchg_type {
	PST_XCHG_HELLO = 1,	/* client -> server: parameters, client's QP */
	PST_XCHG_REPLY = 2,	/* server -> client: status, server's QP */
	PST_XCHG_DONE = 3,	/* client -> server: the run is over */
};

/* Why a server refused (the status of a REPLY). */
enum pst_xchg_status {
	PST_XCHG_OK = 0,
	PST_XCHG_E_VERSION = 1,		/* the hello's version is not ours */
	PST_XCHG_E_SIZE = 2,		/* message size over the device's limit */
	PST_XCHG_E_SETUP = 3,		/* the server could not set up its QP */
	PST_XCHG_E_PARAMS = 4,		/* malformed parameters */
	PST_XCHG_E_MISMATCH = 5,	/* v2: not the parameters the server was given */
};

/* Modes, run in this order when both are set. */
#define PST_MODE_POLL	0x1
#define PST_MODE_EVENT	0x2

struct pst_xchg_msg {
	uint8_t version;
	uint8_t type;
	uint8_t status;
	uint8_t modes;
	uint32_t qpn;		/* 24 bits */
	uint32_t psn;		/* 24 bits */
	uint16_t lid;
	uint8_t mtu;		/* enum ibv_mtu */
	uint8_t has_gid;	/* address with a GRH (RoCE, or IB with a GID) */
	uint8_t gid[16];
	uint32_t size;		/* bytes per message */
	uint32_t iters;		/* measured round trips per mode */
	uint32_t warmup;	/* unmeasured round trips before them */
};

/* The test's parameters, as bits: which were given, which differ. */
#define PST_XCHG_P_SIZE		0x1
#define PST_XCHG_P_ITERS	0x2
#define PST_XCHG_P_WARMUP	0x4
#define PST_XCHG_P_MODES	0x8

/* What a server was started with: the parameters of @given only count. */
struct pst_xchg_params {
	unsigned int given;	/* PST_XCHG_P_* */
	uint32_t size, iters, warmup;
	uint8_t modes;
};

/* The PST_XCHG_P_* bits of the parameters (size, iters, warmup, modes) @a and @b differ in. */
unsigned int pst_xchg_params_diff(const struct pst_xchg_msg *a, const struct pst_xchg_msg *b);

/*
 * A server started with @srv answers @hello: @reply's parameters become
 * those of @hello with @srv's given ones in their place.  Returns the
 * PST_XCHG_P_* bits @hello asks otherwise than @srv, and then sets
 * @reply's status to PST_XCHG_E_MISMATCH; 0 when they agree.
 */
unsigned int pst_xchg_check_params(const struct pst_xchg_params *srv,
				   const struct pst_xchg_msg *hello,
				   struct pst_xchg_msg *reply);

/*
 * The parameters of @m named by the bits @which, as the options that ask
 * for them: "--size 64 --iters 500", "--event", "--both", or "polling"
 * for neither of those.
 */
void pst_xchg_params_str(const struct pst_xchg_msg *m, unsigned int which, char *buf,
			 unsigned int len);

/* Into exactly PST_XCHG_LEN bytes, network byte order. */
void pst_xchg_encode(const struct pst_xchg_msg *m, uint8_t *buf);

/*
 * From PST_XCHG_LEN bytes (or just the PST_XCHG_HDR_LEN-byte header, with
 * @len saying which).  Returns 0; -EBADMSG when the magic is not ours or a
 * field is out of range; -EPROTO when the version differs (m->version then
 * holds the peer's).
 */
int pst_xchg_decode(const uint8_t *buf, unsigned int len, struct pst_xchg_msg *m);

/* Words for a REPLY's status. */
const char *pst_xchg_status_str(unsigned int status);

/*
 * Sockets, with every wait bounded by @timeout_ms (< 0: no bound).  All
 * return an fd or 0 on success and -errno on failure (-ETIMEDOUT when the
 * bound passed, -ECONNRESET when the peer closed), after saying nothing:
 * callers word the error.
 */
int pst_tcp_listen(unsigned int port);
int pst_tcp_accept(int lfd, int timeout_ms, char *peer, unsigned int peer_len);
int pst_tcp_connect(const char *host, unsigned int port, int timeout_ms);
int pst_read_full(int fd, void *buf, unsigned int len, int timeout_ms);
int pst_write_full(int fd, const void *buf, unsigned int len, int timeout_ms);

/*
 * Read one message: the header first, so that a peer of another version
 * or kind is named as such without waiting for bytes it may never send.
 * 0, or -errno as above (-EPROTO: version, -EBADMSG: not a message of ours).
 */
int pst_xchg_recv(int fd, struct pst_xchg_msg *m, int timeout_ms);
int pst_xchg_send(int fd, const struct pst_xchg_msg *m, int timeout_ms);

#endif
