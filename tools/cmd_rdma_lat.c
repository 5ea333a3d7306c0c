// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer rdma-lat: RC SEND/RECV ping-pong latency over libibverbs, by
 * polling or through completion events (the interrupt-driven path pisteer
 * steers), reported in perftest's terms.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "lib/latstats.h"
#include "lib/pisteer_dev.h"
#include "lib/rdma_pp.h"
#include "lib/rdma_report.h"
#include "lib/rdma_xchg.h"

#define MAX_SIZE	(1U << 30)
#define MAX_ITERS	10000000U

struct opts {
	bool server, json;
	const char *host, *dev;
	unsigned int ib_port, tcp_port, size, iters, warmup, modes;
	int gid_index, comp_vector, timeout_ms;
	unsigned int given;		/* PST_XCHG_P_*: --size, --iters, ... given */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer rdma-lat --server [OPTIONS]\n"
		"       pisteer rdma-lat [OPTIONS] HOST\n"
		"\n"
		"RC SEND/RECV ping-pong between this host and a server started with\n"
		"--server (on another host, or on this one for loopback), over\n"
		"libibverbs.  Queue pair details are swapped over a TCP side channel.\n"
		"The client measures each round trip and reports one-way latency =\n"
		"round trip / 2, as perftest's ib_send_lat does.  The server serves one\n"
		"run and exits.  Options may come before or after HOST.\n"
		"\n"
		"  --server           wait for one client, serve its run, then exit\n"
		"Both sides:\n"
		"  --ib-dev DEV       RDMA device (default: the first one)\n"
		"  --ib-port N        port of the device (default 1; perftest's -i)\n"
		"  --gid-index N      GID table index (default: on RoCE the first RoCE v2\n"
		"                     GID holding an IPv4 address; on IB none, the LID)\n"
		"  --comp-vector N    completion vector of the receive CQ: which device\n"
		"                     interrupt signals it (default 0)\n"
		"  --port N           TCP port of the side channel (default %u, as\n"
		"                     perftest's -p; not the device port)\n"
		"  --timeout S        give up after S seconds without progress: connect,\n"
		"                     each exchange, each completion (default 10; the\n"
		"                     server waits for its client without bound)\n"
		"  --json             a JSON object instead of the table\n"
		"The test, set by the client (a server may be given these too, as\n"
		"perftest's is: each one it is given must equal the client's, else both\n"
		"sides fail naming the difference; the others follow the client):\n"
		"  --size B           message size in bytes (default 2, up to 1 GiB)\n"
		"  --iters N          measured round trips per mode (default 1000)\n"
		"  --warmup N         unmeasured round trips before them (default 100)\n"
		"  --event            wait for completions on the completion channel\n"
		"                     (ibv_req_notify_cq + ibv_get_cq_event) instead of\n"
		"                     polling: each message costs an interrupt\n"
		"  --both             polling, then events, on the same connection, and\n"
		"                     the difference: the cost of taking the interrupt\n"
		"\n"
		"Figures in microseconds: t_min, t_max, t_typical (median), t_avg,\n"
		"t_stdev, 99%% and 99.9%% percentiles (nearest rank).\n"
		"Exit status: 0 done, 1 failed (no RDMA device, peer unreachable, of\n"
		"another protocol version or started with other parameters, timeout,\n"
		"completion error), 2 bad command line.\n",
		PST_XCHG_DEFAULT_PORT);
}

static int parse_uint(const char *opt, const char *s, unsigned long min,
		      unsigned long max, unsigned int *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || x < min || x > max) {
		fprintf(stderr, "pisteer rdma-lat: %s takes a number from %lu to %lu, not '%s'\n",
			opt, min, max, s);
		return -1;
	}
	*v = (unsigned int)x;
	return 0;
}

enum { O_IBDEV = 256, O_IBPORT, O_GID, O_CV, O_PORT, O_TIMEOUT, O_JSON, O_SIZE,
	O_ITERS, O_WARMUP, O_EVENT, O_BOTH, O_SERVER };

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "server", no_argument, NULL, O_SERVER },
		{ "ib-dev", required_argument, NULL, O_IBDEV },
		{ "ib-port", required_argument, NULL, O_IBPORT },
		{ "gid-index", required_argument, NULL, O_GID },
		{ "comp-vector", required_argument, NULL, O_CV },
		{ "port", required_argument, NULL, O_PORT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "size", required_argument, NULL, O_SIZE },
		{ "iters", required_argument, NULL, O_ITERS },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "event", no_argument, NULL, O_EVENT },
		{ "both", no_argument, NULL, O_BOTH },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	unsigned int v = 0;
	int opt, r = 0;

	*o = (struct opts){ .ib_port = 1, .tcp_port = PST_XCHG_DEFAULT_PORT, .size = 2,
			    .iters = 1000, .warmup = 100, .modes = PST_MODE_POLL,
			    .gid_index = -1, .timeout_ms = 10000 };
	while ((opt = cmd_getopt(argc, argv, "h", lopts, &ops)) != -1) {
		switch (opt) {
		case O_SERVER:
			o->server = true;
			break;
		case O_IBDEV:
			o->dev = optarg;
			break;
		case O_IBPORT:
			r = parse_uint("--ib-port", optarg, 1, 255, &o->ib_port);
			break;
		case O_GID:
			r = parse_uint("--gid-index", optarg, 0, 255, &v);
			o->gid_index = (int)v;
			break;
		case O_CV:
			r = parse_uint("--comp-vector", optarg, 0, 65535, &v);
			o->comp_vector = (int)v;
			break;
		case O_PORT:
			r = parse_uint("--port", optarg, 1, 65535, &o->tcp_port);
			break;
		case O_TIMEOUT:
			r = parse_uint("--timeout", optarg, 1, 86400, &v);
			o->timeout_ms = (int)v * 1000;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_SIZE:
			r = parse_uint("--size", optarg, 1, MAX_SIZE, &o->size);
			o->given |= PST_XCHG_P_SIZE;
			break;
		case O_ITERS:
			r = parse_uint("--iters", optarg, 1, MAX_ITERS, &o->iters);
			o->given |= PST_XCHG_P_ITERS;
			break;
		case O_WARMUP:
			r = parse_uint("--warmup", optarg, 0, MAX_ITERS, &o->warmup);
			o->given |= PST_XCHG_P_WARMUP;
			break;
		case O_EVENT:
			o->modes = PST_MODE_EVENT;
			o->given |= PST_XCHG_P_MODES;
			break;
		case O_BOTH:
			o->modes = PST_MODE_POLL | PST_MODE_EVENT;
			o->given |= PST_XCHG_P_MODES;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
		if (r)
			return -1;
	}
	if (o->server)
		return cmd_operands_max("rdma-lat", &ops, 0) ? -1 : 0;
	if (!ops.n) {
		fprintf(stderr, "pisteer rdma-lat: name the server's HOST, or run --server\n");
		return -1;
	}
	o->host = ops.v[0];
	return cmd_operands_max("rdma-lat", &ops, 1) ? -1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The client's side of one mode: warmup + iters round trips, each timed
 * from just before the SEND is posted to the moment its answer's receive
 * completion is seen.
 */
static int client_phase(struct pst_rdma *r, unsigned int mode, unsigned int warmup,
			unsigned int iters, uint64_t *rtt)
{
	bool event = mode == PST_MODE_EVENT;
	unsigned int i;
	uint64_t t0;
	int err;

	for (i = 0; i < warmup + iters; i++) {
		t0 = now_ns();
		err = pst_rdma_send(r);
		if (!err)
			err = pst_rdma_wait_recv(r, event);
		if (err)
			return err;
		if (i >= warmup)
			rtt[i - warmup] = now_ns() - t0;
	}
	return 0;
}

/* The server's side: answer each message as soon as it is seen. */
static int server_phase(struct pst_rdma *r, unsigned int mode, unsigned int n)
{
	bool event = mode == PST_MODE_EVENT;
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = pst_rdma_wait_recv(r, event);
		if (!err)
			err = pst_rdma_send(r);
		if (err)
			return err;
	}
	return 0;
}

/* What the reports need of this run. */
static void run_of(const struct opts *o, const struct pst_rdma *r, struct pst_rdma_run *run)
{
	memset(run, 0, sizeof(*run));
	run->peer = o->host ? o->host : "";
	run->tcp_port = o->tcp_port;
	run->device = r->dev_name;
	run->ib_port = r->ib_port;
	run->gid_index = r->gid_index;
	run->gid_type = r->gid_type;
	run->lid = r->port.lid;
	run->comp_vector = r->comp_vector;
	run->mtu = r->port.active_mtu;
	run->bytes = o->size;
	run->iters = o->iters;
	run->warmup = o->warmup;
}

/* Word a failed exchange with the peer @who. */
static void xchg_error(const char *who, int err, int timeout_ms, const struct pst_xchg_msg *m)
{
	if (err == -EPROTO)
		fprintf(stderr, "pisteer rdma-lat: protocol mismatch: %s speaks rdma-lat protocol version %u, this pisteer speaks %u\n",
			who, m->version, PST_XCHG_VERSION);
	else if (err == -EBADMSG)
		fprintf(stderr, "pisteer rdma-lat: %s is not a pisteer rdma-lat peer (unexpected data on the side channel)\n",
			who);
	else if (err == -ETIMEDOUT)
		fprintf(stderr, "pisteer rdma-lat: no answer from %s in %d s\n", who,
			timeout_ms / 1000);
	else if (err == -ECONNRESET)
		fprintf(stderr, "pisteer rdma-lat: %s closed the side channel\n", who);
	else
		fprintf(stderr, "pisteer rdma-lat: side channel to %s: %s\n", who, strerror(-err));
}

static int run_client(const struct opts *o)
{
	struct pst_xchg_msg hello = { .version = PST_XCHG_VERSION, .type = PST_XCHG_HELLO },
			    reply = { 0 };
	struct pst_rdma_run run;
	unsigned int mode;
	struct pst_rdma r;
	uint64_t *rtt = NULL;
	char who[300];
	int fd = -1, err;

	snprintf(who, sizeof(who), "%s port %u", o->host, o->tcp_port);
	err = pst_rdma_open(&r, o->dev, o->ib_port, o->gid_index, o->comp_vector);
	if (err)
		return PST_EXIT_FAIL;
	err = pst_rdma_setup(&r, o->size, o->timeout_ms);
	if (err)
		goto out;
	rtt = calloc(o->iters, sizeof(*rtt));
	if (!rtt) {
		err = -ENOMEM;
		goto out;
	}
	fd = pst_tcp_connect(o->host, o->tcp_port, o->timeout_ms);
	if (fd < 0) {
		err = fd;
		if (err == -ETIMEDOUT)
			fprintf(stderr, "pisteer rdma-lat: cannot reach %s: no answer in %d s\n",
				who, o->timeout_ms / 1000);
		else
			fprintf(stderr, "pisteer rdma-lat: cannot reach %s: %s\n", who,
				err == -EHOSTUNREACH ? "unknown host or no route" : strerror(-err));
		goto out;
	}
	pst_rdma_local(&r, &hello);
	hello.modes = (uint8_t)o->modes;
	hello.size = o->size;
	hello.iters = o->iters;
	hello.warmup = o->warmup;
	err = pst_xchg_send(fd, &hello, o->timeout_ms);
	if (!err)
		err = pst_xchg_recv(fd, &reply, o->timeout_ms);
	if (!err && reply.type != PST_XCHG_REPLY)
		err = -EBADMSG;
	if (err) {
		xchg_error(who, err, o->timeout_ms, &reply);
		goto out;
	}
	if (reply.status == PST_XCHG_E_MISMATCH && pst_xchg_params_diff(&hello, &reply)) {
		char mine[128], theirs[128];
		unsigned int which = pst_xchg_params_diff(&hello, &reply);

		pst_xchg_params_str(&hello, which, mine, sizeof(mine));
		pst_xchg_params_str(&reply, which, theirs, sizeof(theirs));
		fprintf(stderr, "pisteer rdma-lat: parameter mismatch: the server at %s was started with %s, this client asks for %s (give the server the same, or none)\n",
			who, theirs, mine);
		err = -EPROTO;
		goto out;
	}
	if (reply.status) {
		fprintf(stderr, "pisteer rdma-lat: the server at %s refused: %s\n", who,
			pst_xchg_status_str(reply.status));
		err = -EPROTO;
		goto out;
	}
	err = pst_rdma_connect(&r, &reply);
	if (err)
		goto out;
	run_of(o, &r, &run);
	for (mode = PST_MODE_POLL; mode <= PST_MODE_EVENT; mode <<= 1) {
		if (!(o->modes & mode))
			continue;
		r.events = 0;
		err = client_phase(&r, mode, o->warmup, o->iters, rtt);
		if (err)
			goto out;
		run.res[run.nres].mode = mode;
		run.res[run.nres].events = r.events;
		pst_latstats(rtt, o->iters, 2, &run.res[run.nres].s);
		run.nres++;
	}
	err = pst_rdma_drain_sends(&r);
	if (err)
		goto out;
	hello.type = PST_XCHG_DONE;
	err = pst_xchg_send(fd, &hello, o->timeout_ms);
	if (err) {
		xchg_error(who, err, o->timeout_ms, &hello);
		goto out;
	}
	if (o->json) {
		char *doc = pst_rdma_report_json(&run);

		if (!doc) {
			err = -ENOMEM;
			goto out;
		}
		puts(doc);
		free(doc);
	} else {
		pst_rdma_report_text(stdout, &run);
	}
out:
	if (fd >= 0)
		close(fd);
	free(rtt);
	pst_rdma_close(&r);
	return err ? PST_EXIT_FAIL : PST_EXIT_OK;
}

/* Check a client's hello; the status to answer with. */
static unsigned int hello_status(const struct pst_xchg_msg *m)
{
	if (m->type != PST_XCHG_HELLO || !m->modes || !m->size || m->size > MAX_SIZE ||
	    !m->iters || m->iters > MAX_ITERS || m->warmup > MAX_ITERS)
		return PST_XCHG_E_PARAMS;
	return PST_XCHG_OK;
}

static int serve(const struct opts *o, struct pst_rdma *r, int fd, const char *who,
		 unsigned long *served)
{
	struct pst_xchg_msg m, reply = { .version = PST_XCHG_VERSION, .type = PST_XCHG_REPLY };
	const struct pst_xchg_params given = { .given = o->given, .size = o->size,
					       .iters = o->iters, .warmup = o->warmup,
					       .modes = (uint8_t)o->modes };
	unsigned int mode, which = 0;
	int err;

	err = pst_xchg_recv(fd, &m, o->timeout_ms);
	if (err) {
		if (err == -EPROTO) {	/* tell the client which version we speak */
			reply.status = PST_XCHG_E_VERSION;
			pst_xchg_send(fd, &reply, o->timeout_ms);
		}
		xchg_error(who, err, o->timeout_ms, &m);
		return err;
	}
	reply.status = (uint8_t)hello_status(&m);
	if (!reply.status)
		which = pst_xchg_check_params(&given, &m, &reply);
	if (!reply.status) {
		err = pst_rdma_setup(r, m.size, o->timeout_ms);
		if (err)
			reply.status = err == -EMSGSIZE ? PST_XCHG_E_SIZE : PST_XCHG_E_SETUP;
		else
			err = pst_rdma_connect(r, &m);
		if (err && !reply.status)
			reply.status = PST_XCHG_E_SETUP;
	}
	if (!reply.status)
		pst_rdma_local(r, &reply);
	err = pst_xchg_send(fd, &reply, o->timeout_ms);
	if (err) {
		xchg_error(who, err, o->timeout_ms, &m);
		return err;
	}
	if (which) {
		char mine[128], theirs[128];

		pst_xchg_params_str(&m, which, theirs, sizeof(theirs));
		pst_xchg_params_str(&reply, which, mine, sizeof(mine));
		fprintf(stderr, "pisteer rdma-lat: parameter mismatch: the client %s asks for %s, this server was started with %s\n",
			who, theirs, mine);
		return -EPROTO;
	}
	if (reply.status) {
		fprintf(stderr, "pisteer rdma-lat: refused the client %s: %s\n", who,
			pst_xchg_status_str(reply.status));
		return -EPROTO;
	}
	for (mode = PST_MODE_POLL; mode <= PST_MODE_EVENT; mode <<= 1) {
		if (!(m.modes & mode))
			continue;
		err = server_phase(r, mode, m.warmup + m.iters);
		if (err)
			return err;
		*served += m.warmup + m.iters;
	}
	err = pst_rdma_drain_sends(r);
	if (err)
		return err;
	err = pst_xchg_recv(fd, &m, o->timeout_ms);
	if (!err && m.type != PST_XCHG_DONE)
		err = -EBADMSG;
	if (err)
		xchg_error(who, err, o->timeout_ms, &m);
	return err;
}

static void report_server_json(const struct pst_rdma *r, const char *who,
			       unsigned long served)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "role", json_object_new_string("server"));
	json_object_object_add(root, "device", json_object_new_string(r->dev_name));
	json_object_object_add(root, "client", json_object_new_string(who));
	json_object_object_add(root, "round_trips", json_object_new_int64((int64_t)served));
	json_object_object_add(root, "events", json_object_new_int64((int64_t)r->events));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
}

static int run_server(const struct opts *o)
{
	unsigned long served = 0;
	struct pst_rdma_run run;
	struct pst_rdma r;
	int lfd, fd, err;
	char who[80], w[160];

	err = pst_rdma_open(&r, o->dev, o->ib_port, o->gid_index, o->comp_vector);
	if (err)
		return PST_EXIT_FAIL;
	lfd = pst_tcp_listen(o->tcp_port);
	if (lfd < 0) {
		fprintf(stderr, "pisteer rdma-lat: cannot listen on TCP port %u: %s\n",
			o->tcp_port, strerror(-lfd));
		pst_rdma_close(&r);
		return PST_EXIT_FAIL;
	}
	run_of(o, &r, &run);
	pst_rdma_where(&run, w, sizeof(w));
	fprintf(stderr, "pisteer rdma-lat: %s: waiting for a client on TCP port %u\n", w,
		o->tcp_port);
	fd = pst_tcp_accept(lfd, -1, who, sizeof(who));
	close(lfd);
	if (fd < 0) {
		fprintf(stderr, "pisteer rdma-lat: accept: %s\n", strerror(-fd));
		pst_rdma_close(&r);
		return PST_EXIT_FAIL;
	}
	err = serve(o, &r, fd, who, &served);
	close(fd);
	if (!err) {
		if (o->json)
			report_server_json(&r, who, served);
		else
			printf("served %lu round trips to %s on %s (%lu completion events)\n",
			       served, who, w, r.events);
	}
	pst_rdma_close(&r);
	return err ? PST_EXIT_FAIL : PST_EXIT_OK;
}

int cmd_rdma_lat(int argc, char **argv)
{
	struct opts o;
	int r;

	r = parse(argc, argv, &o);
	if (r)
		return r > 0 ? PST_EXIT_OK : PST_EXIT_USAGE;
	return o.server ? run_server(&o) : run_client(&o);
}
