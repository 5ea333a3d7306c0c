// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of pisteer rdma-lat's parts that need no RDMA device:
 * statistics on known samples, the text and JSON reports, the side
 * channel's message codec (wrong version, foreign bytes), its bounded
 * socket waits, the parameter check of a server given --size/--iters (two
 * processes over TCP loopback), the default GID choice, and the command
 * line of the built binary (usage errors; options after HOST, --server
 * with the client's options; no RDMA device on a host without one).
 *
 * usage: rdma_unit PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/lib/latstats.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../../tools/lib/rdma_pp.h"
#include "../../tools/lib/rdma_report.h"
#include "../../tools/lib/rdma_xchg.h"
#include "../lib/ktap.h"

static const char *tool;
static char out[8192], err[8192];

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

/* Run "tool @args", capture stdout and stderr; return the exit status. */
static int run(const char *args)
{
	char cmd[1024], path[2][64];
	int status, i;

	snprintf(path[0], sizeof(path[0]), "/tmp/rdma_unit.%d.out", getpid());
	snprintf(path[1], sizeof(path[1]), "/tmp/rdma_unit.%d.err", getpid());
	snprintf(cmd, sizeof(cmd), "'%s' %s >%s 2>%s", tool, args, path[0], path[1]);
	status = system(cmd);
	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t n = 0;
		FILE *f = fopen(path[i], "re");

		if (f) {
			n = fread(buf, 1, sizeof(out) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		unlink(path[i]);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_stats(void)
{
	struct pst_latstats s;
	uint64_t ns[1000];
	size_t i;
	bool ok;

	/* 1..100 us, shuffled: median 50.5, p99 99, p99.9 100 (nearest rank) */
	for (i = 0; i < 100; i++)
		ns[i] = ((i * 37) % 100 + 1) * 1000;
	ok = !pst_latstats(ns, 100, 1, &s) && s.n == 100 && near(s.min, 1) &&
	     near(s.max, 100) && near(s.typical, 50.5) && near(s.avg, 50.5) &&
	     near(s.p99, 99) && near(s.p999, 100) &&
	     fabs(s.stdev - sqrt((100.0 * 100 - 1) / 12)) < 1e-9;
	if (!ok)
		ktap_diag("min %f max %f med %f avg %f sd %f p99 %f p999 %f", s.min, s.max,
			  s.typical, s.avg, s.stdev, s.p99, s.p999);
	ktap_result(ok, "stats of 1..100 us: median 50.5, avg 50.5, stdev 28.866, p99 99, p99.9 100");

	/* round trips halved: 3 samples of 2, 4, 12 us -> 1, 2, 6 one way */
	ns[0] = 12000;
	ns[1] = 2000;
	ns[2] = 4000;
	ok = !pst_latstats(ns, 3, 2, &s) && near(s.min, 1) && near(s.typical, 2) &&
	     near(s.max, 6) && near(s.avg, 3) && near(s.p99, 6) &&
	     fabs(s.stdev - sqrt(14.0 / 3)) < 1e-9;
	ktap_result(ok, "stats: odd count takes the middle sample, divisor 2 gives one-way");

	/* 1000 samples of 1 us with ten of 1 ms: p99 1 us, p99.9 1 ms */
	for (i = 0; i < 1000; i++)
		ns[i] = i % 100 == 7 ? 1000000 : 1000;
	ok = !pst_latstats(ns, 1000, 1, &s) && near(s.p99, 1) && near(s.p999, 1000) &&
	     near(s.typical, 1) && near(s.max, 1000);
	ktap_result(ok, "stats: 1%% outliers show in p99.9, not in p99 or the median");

	ns[0] = 5000;
	ok = !pst_latstats(ns, 1, 1, &s) && near(s.min, 5) && near(s.p999, 5) &&
	     near(s.stdev, 0);
	ok = ok && pst_latstats(ns, 0, 1, &s) == -EINVAL &&
	     pst_latstats(ns, 1, 0, &s) == -EINVAL;
	ktap_result(ok, "stats: one sample; none, or divisor 0, refused");
}

static void test_report(void)
{
	struct pst_latstats s = { .n = 1000, .min = 1.5, .max = 99.25, .typical = 3.126,
				  .avg = 4, .stdev = 0.5, .p99 = 20, .p999 = 90 };
	json_object *o, *x;
	char buf[1024];
	size_t n;
	FILE *f;
	bool ok;

	f = fmemopen(buf, sizeof(buf), "w");
	pst_latstats_header(f);
	pst_latstats_row(f, "event", 64, &s);
	n = ftell(f);
	fclose(f);
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	ok = strstr(buf, "#bytes") && strstr(buf, "#iterations") &&
	     strstr(buf, "t_min[usec]") && strstr(buf, "t_typical[usec]") &&
	     strstr(buf, "t_stdev[usec]") && strstr(buf, "99.9% percentile[usec]");
	{
		char mode[16];
		unsigned long b, it;
		double v[7];
		const char *row = strchr(buf, '\n');

		ok = ok && row && sscanf(row + 1, "%15s %lu %lu %lf %lf %lf %lf %lf %lf %lf",
					  mode, &b, &it, &v[0], &v[1], &v[2], &v[3], &v[4],
					  &v[5], &v[6]) == 10 &&
		     !strcmp(mode, "event") && b == 64 && it == 1000 && near(v[0], 1.5) &&
		     near(v[1], 99.25) && near(v[2], 3.13) && near(v[3], 4) &&
		     near(v[4], 0.5) && near(v[5], 20) && near(v[6], 90);
	}
	if (!ok)
		ktap_diag("%s", buf);
	ktap_result(ok, "text: perftest's columns in perftest's order, two decimals");

	o = pst_latstats_json("poll", 2, &s);
	ok = json_object_object_get_ex(o, "mode", &x) &&
	     !strcmp(json_object_get_string(x), "poll") &&
	     json_object_object_get_ex(o, "iterations", &x) && json_object_get_int(x) == 1000 &&
	     json_object_object_get_ex(o, "bytes", &x) && json_object_get_int(x) == 2 &&
	     json_object_object_get_ex(o, "t_typical", &x) &&
	     near(json_object_get_double(x), 3.13) &&
	     json_object_object_get_ex(o, "p99_9", &x) && near(json_object_get_double(x), 90);
	/* and it parses back from its text */
	x = ok ? json_tokener_parse(json_object_to_json_string(o)) : NULL;
	ok = ok && x && json_object_object_length(x) == 10;
	json_object_put(x);
	json_object_put(o);
	ktap_result(ok, "JSON: mode, bytes, iterations and the seven figures");
}

static struct pst_rdma_run sample_run(void)
{
	struct pst_rdma_run run = {
		.peer = "hostb", .tcp_port = 18515, .device = "mlx5_0", .ib_port = 1,
		.gid_index = 3, .gid_type = IBV_GID_TYPE_ROCE_V2, .lid = 0,
		.comp_vector = 5, .mtu = IBV_MTU_4096, .bytes = 2, .iters = 1000,
		.warmup = 100, .nres = 2,
	};

	run.res[0] = (struct pst_rdma_result){ .mode = PST_MODE_POLL, .events = 0,
		.s = { .n = 1000, .min = 1.5, .max = 9, .typical = 2, .avg = 2.25,
		       .stdev = 0.5, .p99 = 4, .p999 = 8 } };
	run.res[1] = (struct pst_rdma_result){ .mode = PST_MODE_EVENT, .events = 1093,
		.s = { .n = 1000, .min = 3, .max = 30, .typical = 5.5, .avg = 6,
		       .stdev = 1, .p99 = 12.5, .p999 = 20 } };
	return run;
}

static void test_run_report(void)
{
	struct pst_rdma_run run = sample_run();
	json_object *root, *x, *y;
	char buf[2048], *doc;
	size_t n;
	FILE *f;
	bool ok;

	f = fmemopen(buf, sizeof(buf), "w");
	pst_rdma_report_text(f, &run);
	n = ftell(f);
	fclose(f);
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	ok = strstr(buf, "with hostb port 18515: mlx5_0 port 1, RoCE v2 GID index 3, comp vector 5, MTU 4096\n") &&
	     strstr(buf, "one-way latency = round trip / 2") &&
	     strstr(buf, "\n poll ") && strstr(buf, "\n event ") &&
	     strstr(buf, "completion events taken in event mode: 1093\n") &&
	     strstr(buf, "event - poll: t_typical +3.50 usec, t_avg +3.75 usec, 99% +8.50 usec\n");
	if (!ok)
		ktap_diag("%s", buf);
	ktap_result(ok, "--both text: where, both rows, events taken, event - poll");

	doc = pst_rdma_report_json(&run);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = root && json_object_object_get_ex(root, "results", &x) &&
	     json_object_array_length(x) == 2 &&
	     (y = json_object_array_get_idx(x, 1)) &&
	     json_object_object_get_ex(y, "events", &y) && json_object_get_int(y) == 1093 &&
	     json_object_object_get_ex(root, "event_minus_poll", &x) &&
	     json_object_object_get_ex(x, "t_typical", &y) && near(json_object_get_double(y), 3.5) &&
	     json_object_object_get_ex(x, "p99", &y) && near(json_object_get_double(y), 8.5) &&
	     json_object_object_get_ex(root, "gid_index", &x) && json_object_get_int(x) == 3 &&
	     json_object_object_get_ex(root, "lid", &x) && !x &&
	     json_object_object_get_ex(root, "mtu", &x) && json_object_get_int(x) == 4096 &&
	     json_object_object_get_ex(root, "one_way", &x) &&
	     !strcmp(json_object_get_string(x), "round_trip/2");
	json_object_put(root);
	free(doc);

	/* InfiniBand without a GRH, one mode: the LID, no GID, no difference */
	run.gid_index = -1;
	run.lid = 7;
	run.nres = 1;
	doc = pst_rdma_report_json(&run);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = ok && root && json_object_object_get_ex(root, "gid_index", &x) && !x &&
	     json_object_object_get_ex(root, "gid_type", &x) && !x &&
	     json_object_object_get_ex(root, "lid", &x) && json_object_get_int(x) == 7 &&
	     !json_object_object_get_ex(root, "event_minus_poll", NULL);
	if (!ok && doc)
		ktap_diag("%s", doc);
	json_object_put(root);
	free(doc);
	pst_rdma_where(&run, buf, sizeof(buf));
	ok = ok && !strcmp(buf, "mlx5_0 port 1, LID 7, comp vector 5") &&
	     pst_mtu_bytes(IBV_MTU_256) == 256 && pst_mtu_bytes(0) == 0 && pst_mtu_bytes(9) == 0;
	ktap_result(ok, "--both JSON: event_minus_poll, events; IB: lid, null GID, no difference");
}

static struct pst_xchg_msg sample_msg(void)
{
	struct pst_xchg_msg m = {
		.version = PST_XCHG_VERSION, .type = PST_XCHG_HELLO, .modes = 3,
		.qpn = 0xabcdef, .psn = 0x123456, .lid = 0xbeef, .mtu = 3, .has_gid = 1,
		.size = 1u << 30, .iters = 4000000, .warmup = 7,
	};
	int i;

	for (i = 0; i < 16; i++)
		m.gid[i] = (uint8_t)(0xf0 + i);
	return m;
}

static void test_codec(void)
{
	struct pst_xchg_msg m = sample_msg(), d;
	uint8_t buf[PST_XCHG_LEN];
	bool ok;

	pst_xchg_encode(&m, buf);
	ok = !pst_xchg_decode(buf, PST_XCHG_LEN, &d) && !memcmp(&m, &d, sizeof(m));
	ok = ok && !memcmp(buf, "PSTL", 4) && buf[4] == PST_XCHG_VERSION &&
	     buf[8] == 0 && buf[9] == 0xab && buf[16] == 0xbe && buf[17] == 0xef;
	ktap_result(ok, "exchange message: round trip, magic, version byte, network order");

	m.version = PST_XCHG_VERSION + 1;
	pst_xchg_encode(&m, buf);
	ok = pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EPROTO &&
	     d.version == PST_XCHG_VERSION + 1;
	ok = ok && pst_xchg_decode(buf, PST_XCHG_HDR_LEN, &d) == -EPROTO;
	ktap_result(ok, "exchange message: another version is -EPROTO, named, from the header alone");

	m = sample_msg();
	pst_xchg_encode(&m, buf);
	buf[0] = 'G';
	ok = pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EBADMSG;
	pst_xchg_encode(&m, buf);
	buf[5] = 9;	/* no such type */
	ok = ok && pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EBADMSG;
	pst_xchg_encode(&m, buf);
	buf[8] = 1;	/* QPN over 24 bits */
	ok = ok && pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EBADMSG;
	pst_xchg_encode(&m, buf);
	buf[7] = 4;	/* unknown mode bit */
	ok = ok && pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EBADMSG;
	ok = ok && pst_xchg_decode(buf, 3, &d) == -EBADMSG;
	ktap_result(ok, "exchange message: foreign magic, type, QPN, modes, short header refused");
	ok = !strcmp(pst_xchg_status_str(PST_XCHG_E_VERSION),
		     "it speaks another protocol version") &&
	     !strcmp(pst_xchg_status_str(77), "unknown status");
	ktap_result(ok, "exchange message: refusal statuses in words");
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_channel(void)
{
	struct pst_xchg_msg m = sample_msg(), d;
	struct timespec t0;
	long long ms;
	int sv[2], e, lfd, fd;
	unsigned int port;
	bool ok;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		ktap_skip("socketpair: %s", strerror(errno));
		ktap_skip("socketpair");
		ktap_skip("socketpair");
		return;
	}
	ok = !pst_xchg_send(sv[0], &m, 1000) && !pst_xchg_recv(sv[1], &d, 1000) &&
	     !memcmp(&m, &d, sizeof(m));
	ktap_result(ok, "side channel: a message goes through a socket whole");

	/* Only the 8-byte header of another version: told at once, no wait for the rest. */
	m.version = 9;
	{
		uint8_t buf[PST_XCHG_LEN];

		pst_xchg_encode(&m, buf);
		ok = write(sv[0], buf, PST_XCHG_HDR_LEN) == PST_XCHG_HDR_LEN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = pst_xchg_recv(sv[1], &d, 5000);
	ms = ms_since(&t0);
	ktap_result(ok && e == -EPROTO && d.version == 9 && ms < 1000,
		    "side channel: a header of version 9 is -EPROTO at once (%lld ms)", ms);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = pst_xchg_recv(sv[1], &d, 300);
	ms = ms_since(&t0);
	ktap_result(e == -ETIMEDOUT && ms >= 290 && ms < 2000,
		    "side channel: a silent peer is -ETIMEDOUT after the bound (%lld ms of 300)", ms);
	close(sv[0]);
	e = pst_xchg_recv(sv[1], &d, 1000);
	close(sv[1]);
	ktap_result(e == -ECONNRESET, "side channel: a closed peer is -ECONNRESET");

	/* A port nothing listens on: listen, learn nothing, close, connect. */
	lfd = pst_tcp_listen(0);
	port = 0;
	if (lfd >= 0) {
		struct sockaddr_in6 sa = { 0 };	/* same port offset in sockaddr_in */
		socklen_t sl = sizeof(sa);

		if (!getsockname(lfd, (struct sockaddr *)&sa, &sl))
			port = ntohs(sa.sin6_port);
		close(lfd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = port ? pst_tcp_connect("127.0.0.1", port, 2000) : -EINVAL;
	ms = ms_since(&t0);
	ktap_result(fd == -ECONNREFUSED && ms < 2000,
		    "side channel: connect to a closed port is -ECONNREFUSED (%lld ms)", ms);
	if (fd >= 0)
		close(fd);
	fd = pst_tcp_connect("no-such-host.invalid", 1, 2000);
	ktap_result(fd < 0, "side channel: an unknown host fails (%s)", strerror(-fd));
}

static void test_gid_choice(void)
{
	struct ibv_gid_entry e[4];
	bool ok;

	memset(e, 0, sizeof(e));
	e[0].gid_index = 0;	/* link-local, RoCE v1 */
	e[0].gid_type = IBV_GID_TYPE_ROCE_V1;
	e[0].gid.raw[0] = 0xfe;
	e[0].gid.raw[1] = 0x80;
	e[1] = e[0];
	e[1].gid_index = 1;	/* link-local, RoCE v2 */
	e[1].gid_type = IBV_GID_TYPE_ROCE_V2;
	e[2] = e[0];
	e[2].gid_index = 2;	/* ::ffff:192.168.77.1, RoCE v1 */
	memset(e[2].gid.raw, 0, 16);
	e[2].gid.raw[10] = 0xff;
	e[2].gid.raw[11] = 0xff;
	e[2].gid.raw[12] = 192;
	e[3] = e[2];
	e[3].gid_index = 3;	/* ::ffff:192.168.77.1, RoCE v2 */
	e[3].gid_type = IBV_GID_TYPE_ROCE_V2;
	ok = pst_rdma_pick_gid(e, 4) == 3 && pst_rdma_pick_gid(e, 3) == 1 &&
	     pst_rdma_pick_gid(e, 1) == 0 && pst_rdma_pick_gid(e, 0) == -1;
	/* rxe's own table: 0 link-local v2, 1 IPv4 v2 */
	e[0] = e[1];
	e[0].gid_index = 0;
	e[1] = e[3];
	e[1].gid_index = 1;
	ok = ok && pst_rdma_pick_gid(e, 2) == 1;
	ok = ok && !strcmp(pst_gid_type_name(IBV_GID_TYPE_ROCE_V2), "RoCE v2");
	ktap_result(ok, "default GID: RoCE v2 with IPv4 first, then v2, v1; none: -1");
}

static void test_cli(void)
{
	static const struct {
		const char *args, *says;
	} bad[] = {
		{ "rdma-lat", "name the server's HOST" },
		{ "rdma-lat --server host", "unexpected argument 'host'" },
		{ "rdma-lat host1 host2", "unexpected argument 'host2'" },
		{ "rdma-lat --server --size 0", "--size takes a number from 1 to" },
		{ "rdma-lat h --iters 0", "--iters takes a number from 1" },
		{ "rdma-lat --size 0 h", "--size takes a number from 1 to" },
		{ "rdma-lat --size 2G h", "--size takes a number" },
		{ "rdma-lat --iters 0 h", "--iters takes a number from 1" },
		{ "rdma-lat --iters -5 h", "--iters takes a number" },
		{ "rdma-lat --port 65536 h", "--port takes a number from 1 to 65535" },
		{ "rdma-lat --ib-port 0 h", "--ib-port takes a number from 1 to 255" },
		{ "rdma-lat --timeout 0 h", "--timeout takes a number from 1" },
		{ "rdma-lat --gid-index x h", "--gid-index takes a number" },
		{ "rdma-lat --comp-vector 1.5 h", "--comp-vector takes a number" },
		{ "rdma-lat --bogus h", "usage" },
	};
	size_t i;
	bool ok = true;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = run(bad[i].args);
		if (rc != PST_EXIT_USAGE || !strstr(err, bad[i].says) || out[0]) {
			ktap_diag("'%s': exit %d, stderr: %s", bad[i].args, rc, err);
			ok = false;
		}
	}
	ktap_result(ok, "rdma-lat: %zu bad command lines refused with the reason, exit 2", i);
	rc = run("rdma-lat --help");
	ktap_result(rc == 0 && strstr(out, "--comp-vector") && strstr(out, "round trip / 2") &&
		    strstr(out, "18515"),
		    "rdma-lat --help: exit 0, documents options, one-way = RTT/2, port 18515");
	rc = run("--help");
	ktap_result(rc == 0 && strstr(out, "rdma-lat"), "pisteer --help lists rdma-lat");
}

/* Only meaningful where there is no RDMA device: this build host, usually. */
static void test_no_device(void)
{
	int rc;

	if (system("[ -n \"$(ls -A /sys/class/infiniband 2>/dev/null)\" ]") == 0) {
		ktap_skip("no-device errors: this host has an RDMA device (the rig tests them)");
		ktap_skip("no-device errors: this host has an RDMA device (the rig tests them)");
		return;
	}
	rc = run("rdma-lat --server");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "no RDMA device found") && !out[0],
		    "no RDMA device: --server says so, exit 1");
	rc = run("rdma-lat --timeout 1 127.0.0.1");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "no RDMA device found") && !out[0],
		    "no RDMA device: the client says so before any connect, exit 1");
}

/*
 * Command lines a perftest user writes: options after HOST, and the
 * client's options on the server.  Accepted (not exit 2): on a host
 * without an RDMA device they get as far as looking for one.
 */
static void test_cli_accepted(void)
{
	static const char *const good[] = {
		"rdma-lat 127.0.0.1 --timeout 1 --ib-dev nosuch0",
		"rdma-lat --timeout 1 127.0.0.1 --size 64 --iters 10 --both",
		"rdma-lat --timeout 1 -- 127.0.0.1",
		"rdma-lat --server --size 64 --iters 10 --warmup 0 --event --ib-dev nosuch0",
		"rdma-lat --ib-dev nosuch0 --both --server --json",
	};
	size_t i;
	bool ok = true;
	int rc;

	if (system("[ -n \"$(ls -A /sys/class/infiniband 2>/dev/null)\" ]") == 0) {
		ktap_skip("accepted command lines: this host has an RDMA device (the rig runs them)");
		return;
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = run(good[i]);
		if (rc != PST_EXIT_FAIL || !strstr(err, "no RDMA device") || strstr(err, "usage")) {
			ktap_diag("'%s': exit %d, stderr: %s", good[i], rc, err);
			ok = false;
		}
	}
	ktap_result(ok, "rdma-lat: options after HOST, '--', and --server with --size/--iters/--warmup/--event/--both accepted (%zu command lines)",
		    i);
}

static void test_params(void)
{
	struct pst_xchg_msg hello = sample_msg(), reply = { .version = PST_XCHG_VERSION,
							       .type = PST_XCHG_REPLY }, d;
	struct pst_xchg_params none = { 0 }, srv = {
		.given = PST_XCHG_P_SIZE | PST_XCHG_P_ITERS, .size = 64, .iters = 4000000,
		.warmup = 1, .modes = PST_MODE_EVENT };
	uint8_t buf[PST_XCHG_LEN];
	char s[128];
	bool ok;

	/* Nothing given: the client's parameters, no refusal. */
	ok = !pst_xchg_check_params(&none, &hello, &reply) && !reply.status &&
	     !pst_xchg_params_diff(&hello, &reply);
	/* --size 64 --iters 4000000 given: iters agree, size does not; warmup and
	 * modes not given, so the client's count. */
	ok = ok && pst_xchg_check_params(&srv, &hello, &reply) == PST_XCHG_P_SIZE &&
	     reply.status == PST_XCHG_E_MISMATCH && reply.size == 64 &&
	     reply.iters == hello.iters && reply.warmup == hello.warmup &&
	     reply.modes == hello.modes && pst_xchg_params_diff(&hello, &reply) == PST_XCHG_P_SIZE;
	/* and it travels: the REPLY decodes with the server's parameters */
	pst_xchg_encode(&reply, buf);
	ok = ok && !pst_xchg_decode(buf, PST_XCHG_LEN, &d) && d.status == PST_XCHG_E_MISMATCH &&
	     d.size == 64 && pst_xchg_params_diff(&hello, &d) == PST_XCHG_P_SIZE;
	ktap_result(ok, "server parameters: only the given ones count; a mismatch is E_MISMATCH carrying them");

	srv.given = PST_XCHG_P_SIZE | PST_XCHG_P_ITERS | PST_XCHG_P_WARMUP | PST_XCHG_P_MODES;
	reply.status = 0;
	ok = pst_xchg_check_params(&srv, &hello, &reply) ==
	     (PST_XCHG_P_SIZE | PST_XCHG_P_WARMUP | PST_XCHG_P_MODES);
	pst_xchg_params_str(&reply, PST_XCHG_P_SIZE | PST_XCHG_P_WARMUP | PST_XCHG_P_MODES, s,
			    sizeof(s));
	ok = ok && !strcmp(s, "--size 64 --warmup 1 --event");
	if (!ok)
		ktap_diag("'%s'", s);
	pst_xchg_params_str(&hello, PST_XCHG_P_ITERS | PST_XCHG_P_MODES, s, sizeof(s));
	ok = ok && !strcmp(s, "--iters 4000000 --both");
	hello.modes = PST_MODE_POLL;
	pst_xchg_params_str(&hello, PST_XCHG_P_MODES, s, sizeof(s));
	ok = ok && !strcmp(s, "polling");
	pst_xchg_params_str(&hello, PST_XCHG_P_SIZE | PST_XCHG_P_ITERS, s, 12);
	ok = ok && !strcmp(s, "--size 1073");
	ok = ok && !strcmp(pst_xchg_status_str(PST_XCHG_E_MISMATCH),
			   "it was started with other parameters");
	ktap_result(ok, "server parameters: named as the options that ask for them, truncated safely");

	/* A peer of the version before (1): named as such. */
	hello = sample_msg();
	hello.version = 1;
	pst_xchg_encode(&hello, buf);
	ok = PST_XCHG_VERSION == 2 && pst_xchg_decode(buf, PST_XCHG_LEN, &d) == -EPROTO &&
	     d.version == 1;
	ktap_result(ok, "exchange protocol version 2: a version-1 peer is -EPROTO, its version named");
}

/*
 * The exchange of a server given --size 64 and a client asking for
 * another size, over TCP loopback, server in a child process: both see
 * the mismatch; then a client asking for the same size is served.
 */
static int fake_server(int lfd, const struct pst_xchg_params *srv, unsigned int *which)
{
	struct pst_xchg_msg m, reply = { .version = PST_XCHG_VERSION, .type = PST_XCHG_REPLY };
	int fd, err;

	fd = pst_tcp_accept(lfd, 5000, NULL, 0);
	if (fd < 0)
		return fd;
	err = pst_xchg_recv(fd, &m, 5000);
	if (!err) {
		*which = pst_xchg_check_params(srv, &m, &reply);
		err = pst_xchg_send(fd, &reply, 5000);
	}
	close(fd);
	return err;
}

static void test_mismatch_loopback(void)
{
	const struct pst_xchg_params srv = { .given = PST_XCHG_P_SIZE, .size = 64 };
	struct pst_xchg_msg hello = { .version = PST_XCHG_VERSION, .type = PST_XCHG_HELLO,
				      .modes = PST_MODE_POLL, .size = 2, .iters = 1000,
				      .warmup = 100 }, reply;
	struct sockaddr_in6 sa = { 0 };	/* same port offset in sockaddr_in */
	socklen_t sl = sizeof(sa);
	unsigned int port = 0, which, round;
	int lfd, fd, st, err;
	bool ok = true;
	pid_t pid;

	lfd = pst_tcp_listen(0);
	if (lfd >= 0 && !getsockname(lfd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin6_port);
	if (!port) {
		ktap_skip("TCP loopback: cannot listen (%s)", strerror(-lfd));
		if (lfd >= 0)
			close(lfd);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* round 1: a mismatch on size, round 2: agreement */
		unsigned int w1 = 0, w2 = 0;

		err = fake_server(lfd, &srv, &w1);
		if (!err)
			err = fake_server(lfd, &srv, &w2);
		_exit(!err && w1 == PST_XCHG_P_SIZE && !w2 ? 0 : 1);
	}
	close(lfd);
	for (round = 0; round < 2 && ok; round++) {
		hello.size = round ? 64 : 2;
		memset(&reply, 0, sizeof(reply));
		fd = pst_tcp_connect("127.0.0.1", port, 5000);
		err = fd < 0 ? fd : pst_xchg_send(fd, &hello, 5000);
		if (!err)
			err = pst_xchg_recv(fd, &reply, 5000);
		if (fd >= 0)
			close(fd);
		which = err ? 0 : pst_xchg_params_diff(&hello, &reply);
		if (round == 0)
			ok = !err && reply.status == PST_XCHG_E_MISMATCH &&
			     which == PST_XCHG_P_SIZE && reply.size == 64;
		else
			ok = !err && reply.status == PST_XCHG_OK && !which;
		if (!ok)
			ktap_diag("round %u: %s, status %u, differs in %#x", round,
				  err ? strerror(-err) : "exchanged", reply.status, which);
	}
	st = -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		ktap_diag("the server process saw otherwise (status %#x)", st);
		ok = false;
	}
	ktap_result(ok, "over TCP loopback: a server given --size 64 refuses --size 2 (both sides see size), serves --size 64");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	ktap_plan(29);
	test_stats();
	test_report();
	test_run_report();
	test_codec();
	test_channel();
	test_gid_choice();
	test_params();
	test_mismatch_loopback();
	test_cli();
	test_cli_accepted();
	test_no_device();
	ktap_finish();
}
