// SPDX-License-Identifier: GPL-2.0
/*
 * A misbehaving peer on the side channel of pisteer rdma-lat, to test how
 * the real one copes.  Serves one connection, then exits.
 *
 *   rdma_fakepeer server PORT version N   answer the hello with version N
 *   rdma_fakepeer server PORT garbage     answer with bytes that are no message
 *   rdma_fakepeer server PORT silent      accept, read, never answer
 *   rdma_fakepeer client HOST PORT N      send a hello of version N, print
 *                                         the reply's version and status
 *
 * A server prints "ready" once it listens.  Exit status 0 when it did its
 * part, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/lib/rdma_xchg.h"

#define WAIT_MS	60000

static int fake_server(unsigned int port, const char *what, unsigned int version)
{
	static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n<html>no</html>\r\n\r\n"
				   "padding to a full message length.....";
	struct pst_xchg_msg m = { .version = (uint8_t)version, .type = PST_XCHG_REPLY };
	uint8_t buf[PST_XCHG_LEN];
	int lfd, fd, err;

	lfd = pst_tcp_listen(port);
	if (lfd < 0) {
		fprintf(stderr, "fakepeer: listen: %s\n", strerror(-lfd));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	fd = pst_tcp_accept(lfd, WAIT_MS, NULL, 0);
	close(lfd);
	if (fd < 0) {
		fprintf(stderr, "fakepeer: accept: %s\n", strerror(-fd));
		return 1;
	}
	/* Whatever the client sends first, a hello of ours or not. */
	err = pst_read_full(fd, buf, PST_XCHG_LEN, WAIT_MS);
	if (err) {
		fprintf(stderr, "fakepeer: read: %s\n", strerror(-err));
		close(fd);
		return 1;
	}
	if (!strcmp(what, "version")) {
		err = pst_xchg_send(fd, &m, WAIT_MS);
	} else if (!strcmp(what, "garbage")) {
		err = pst_write_full(fd, junk, PST_XCHG_LEN, WAIT_MS);
	} else {
		/* silent: hold the connection until the client gives up */
		err = pst_read_full(fd, buf, 1, WAIT_MS);
		err = err == -ECONNRESET ? 0 : err ? err : -EBADMSG;
	}
	close(fd);
	if (err)
		fprintf(stderr, "fakepeer: %s: %s\n", what, strerror(-err));
	return err ? 1 : 0;
}

static int fake_client(const char *host, unsigned int port, unsigned int version)
{
	struct pst_xchg_msg m = {
		.version = (uint8_t)version, .type = PST_XCHG_HELLO, .modes = PST_MODE_POLL,
		.size = 2, .iters = 1, .mtu = 3,
	};
	int fd, err;

	fd = pst_tcp_connect(host, port, WAIT_MS);
	if (fd < 0) {
		fprintf(stderr, "fakepeer: connect: %s\n", strerror(-fd));
		return 1;
	}
	err = pst_xchg_send(fd, &m, WAIT_MS);
	if (!err) {
		err = pst_xchg_recv(fd, &m, WAIT_MS);
		if (!err || err == -EPROTO)
			printf("reply version %u status %u\n", m.version, m.status);
	}
	close(fd);
	if (err && err != -EPROTO) {
		fprintf(stderr, "fakepeer: exchange: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "server") && !strcmp(argv[3], "version"))
		return fake_server((unsigned int)atoi(argv[2]), argv[3],
				   (unsigned int)atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "server") &&
	    (!strcmp(argv[3], "garbage") || !strcmp(argv[3], "silent")))
		return fake_server((unsigned int)atoi(argv[2]), argv[3], 0);
	if (argc == 5 && !strcmp(argv[1], "client"))
		return fake_client(argv[2], (unsigned int)atoi(argv[3]),
				   (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: %s server PORT (version N | garbage | silent)\n"
		"       %s client HOST PORT VERSION\n", argv[0], argv[0]);
	return 2;
}
