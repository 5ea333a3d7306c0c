// SPDX-License-Identifier: GPL-2.0
/*
 * The TCP side channel of pisteer rdma-lat: message codec and sockets whose
 * every wait is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rdma_xchg.h"

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * Layout: 0 magic, 4 version, 5 type, 6 status, 7 modes, 8 qpn, 12 psn,
 * 16 lid, 18 mtu, 19 has_gid, 20 gid[16], 36 size, 40 iters, 44 warmup,
 * 48..63 zero.
 */
void pst_xchg_encode(const struct pst_xchg_msg *m, uint8_t *buf)
{
	memset(buf, 0, PST_XCHG_LEN);
	put32(buf, PST_XCHG_MAGIC);
	buf[4] = m->version;
	buf[5] = m->type;
	buf[6] = m->status;
	buf[7] = m->modes;
	put32(buf + 8, m->qpn);
	put32(buf + 12, m->psn);
	buf[16] = m->lid >> 8;
	buf[17] = m->lid & 0xff;
	buf[18] = m->mtu;
	buf[19] = m->has_gid;
	memcpy(buf + 20, m->gid, 16);
	put32(buf + 36, m->size);
	put32(buf + 40, m->iters);
	put32(buf + 44, m->warmup);
}

int pst_xchg_decode(const uint8_t *buf, unsigned int len, struct pst_xchg_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < PST_XCHG_HDR_LEN || get32(buf) != PST_XCHG_MAGIC)
		return -EBADMSG;
	m->version = buf[4];
	m->type = buf[5];
	m->status = buf[6];
	m->modes = buf[7];
	if (m->version != PST_XCHG_VERSION)
		return -EPROTO;
	if (m->type < PST_XCHG_HELLO || m->type > PST_XCHG_DONE)
		return -EBADMSG;
	if (len < PST_XCHG_LEN)
		return 0;
	m->qpn = get32(buf + 8);
	m->psn = get32(buf + 12);
	m->lid = (uint16_t)(buf[16] << 8 | buf[17]);
	m->mtu = buf[18];
	m->has_gid = buf[19];
	memcpy(m->gid, buf + 20, 16);
	m->size = get32(buf + 36);
	m->iters = get32(buf + 40);
	m->warmup = get32(buf + 44);
	if (m->qpn > 0xffffff || m->psn > 0xffffff || m->has_gid > 1 ||
	    m->modes & ~(PST_MODE_POLL | PST_MODE_EVENT))
		return -EBADMSG;
	return 0;
}

const char *pst_xchg_status_str(unsigned int status)
{
	switch (status) {
	case PST_XCHG_OK:
		return "ok";
	case PST_XCHG_E_VERSION:
		return "it speaks another protocol version";
	case PST_XCHG_E_SIZE:
		return "the message size is over its device's limit";
	case PST_XCHG_E_SETUP:
		return "it could not set up its queue pair";
	case PST_XCHG_E_PARAMS:
		return "it refused the parameters";
	case PST_XCHG_E_MISMATCH:
		return "it was started with other parameters";
	}
	return "unknown status";
}

unsigned int pst_xchg_params_diff(const struct pst_xchg_msg *a, const struct pst_xchg_msg *b)
{
	return (a->size != b->size ? PST_XCHG_P_SIZE : 0) |
	       (a->iters != b->iters ? PST_XCHG_P_ITERS : 0) |
	       (a->warmup != b->warmup ? PST_XCHG_P_WARMUP : 0) |
	       (a->modes != b->modes ? PST_XCHG_P_MODES : 0);
}

unsigned int pst_xchg_check_params(const struct pst_xchg_params *srv,
				   const struct pst_xchg_msg *hello,
				   struct pst_xchg_msg *reply)
{
	unsigned int which;

	reply->size = srv->given & PST_XCHG_P_SIZE ? srv->size : hello->size;
	reply->iters = srv->given & PST_XCHG_P_ITERS ? srv->iters : hello->iters;
	reply->warmup = srv->given & PST_XCHG_P_WARMUP ? srv->warmup : hello->warmup;
	reply->modes = srv->given & PST_XCHG_P_MODES ? srv->modes : hello->modes;
	which = pst_xchg_params_diff(hello, reply);
	if (which)
		reply->status = PST_XCHG_E_MISMATCH;
	return which;
}

/* Append @word to the words in @buf, a blank between them. */
static void add_word(char *buf, unsigned int len, const char *word)
{
	size_t used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s%s", used ? " " : "", word);
}

void pst_xchg_params_str(const struct pst_xchg_msg *m, unsigned int which, char *buf,
			 unsigned int len)
{
	char w[32];

	if (!len)
		return;
	buf[0] = '\0';
	if (which & PST_XCHG_P_SIZE) {
		snprintf(w, sizeof(w), "--size %u", m->size);
		add_word(buf, len, w);
	}
	if (which & PST_XCHG_P_ITERS) {
		snprintf(w, sizeof(w), "--iters %u", m->iters);
		add_word(buf, len, w);
	}
	if (which & PST_XCHG_P_WARMUP) {
		snprintf(w, sizeof(w), "--warmup %u", m->warmup);
		add_word(buf, len, w);
	}
	if (which & PST_XCHG_P_MODES)
		add_word(buf, len, m->modes == (PST_MODE_POLL | PST_MODE_EVENT) ? "--both" :
			 m->modes == PST_MODE_EVENT ? "--event" : "polling");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline (ms, < 0: forever). 0 or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left, n;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			long long d = deadline - now_ms();

			/* Past the deadline, still take what is already there. */
			left = d <= 0 ? 0 : d > 0x7fffffff ? 0x7fffffff : (int)d;
		}
		n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static long long deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int pst_tcp_listen(unsigned int port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any,
				   .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int fd, one = 1, zero = 0, err;

	/* Dual stack where there is IPv6, plain IPv4 where there is not. */
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (!bind(fd, (struct sockaddr *)&a6, sizeof(a6)) && !listen(fd, 1))
			return fd;
		err = -errno;
		close(fd);
		if (err != -EAFNOSUPPORT && err != -EADDRNOTAVAIL)
			return err;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) || listen(fd, 1)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int pst_tcp_accept(int lfd, int timeout_ms, char *peer, unsigned int peer_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, err;

	err = wait_fd(lfd, POLLIN, deadline_of(timeout_ms));
	if (err)
		return err;
	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	set_nodelay(fd);
	if (peer && getnameinfo((struct sockaddr *)&ss, sl, peer, peer_len, NULL, 0,
				NI_NUMERICHOST))
		snprintf(peer, peer_len, "?");
	return fd;
}

/* One address of @ai: a non-blocking connect bounded by @deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
	socklen_t sl = sizeof(int);
	int fd, err = 0, flags;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl))
			err = errno;
		if (err) {
			err = -err;
			goto fail;
		}
	}
	fcntl(fd, F_SETFL, flags);
	set_nodelay(fd);
	return fd;
fail:
	close(fd);
	return err;
}

int pst_tcp_connect(const char *host, unsigned int port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	long long deadline = deadline_of(timeout_ms);
	char serv[16];
	int fd = -EHOSTUNREACH, rc;

	snprintf(serv, sizeof(serv), "%u", port);
	rc = getaddrinfo(host, serv, &hints, &res);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int pst_read_full(int fd, void *buf, unsigned int len, int timeout_ms)
{
	long long deadline = deadline_of(timeout_ms);
	unsigned int got = 0;
	ssize_t n;
	int err;

	while (got < len) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
		n = read(fd, (char *)buf + got, len - got);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (unsigned int)n;
	}
	return 0;
}

int pst_write_full(int fd, const void *buf, unsigned int len, int timeout_ms)
{
	long long deadline = deadline_of(timeout_ms);
	unsigned int put = 0;
	ssize_t n;
	int err;

	while (put < len) {
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
		n = send(fd, (const char *)buf + put, len - put, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		put += (unsigned int)n;
	}
	return 0;
}

int pst_xchg_recv(int fd, struct pst_xchg_msg *m, int timeout_ms)
{
	uint8_t buf[PST_XCHG_LEN];
	long long deadline = deadline_of(timeout_ms);
	int err, left;

	err = pst_read_full(fd, buf, PST_XCHG_HDR_LEN, timeout_ms);
	if (err)
		return err;
	err = pst_xchg_decode(buf, PST_XCHG_HDR_LEN, m);
	if (err)
		return err;
	left = -1;
	if (deadline >= 0) {
		long long d = deadline - now_ms();

		left = d > 0 ? (int)d : 0;
	}
	err = pst_read_full(fd, buf + PST_XCHG_HDR_LEN, PST_XCHG_LEN - PST_XCHG_HDR_LEN,
			    left);
	if (err)
		return err;
	return pst_xchg_decode(buf, PST_XCHG_LEN, m);
}

int pst_xchg_send(int fd, const struct pst_xchg_msg *m, int timeout_ms)
{
	uint8_t buf[PST_XCHG_LEN];

	pst_xchg_encode(m, buf);
	return pst_write_full(fd, buf, PST_XCHG_LEN, timeout_ms);
}
