// SPDX-License-Identifier: GPL-2.0
/*
 * The reports of pisteer rdma-lat: perftest's columns with a mode column
 * first, and with --both the difference event minus polling.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "rdma_pp.h"
#include "rdma_report.h"

const char *pst_rdma_mode_name(unsigned int mode)
{
	return mode == PST_MODE_EVENT ? "event" : "poll";
}

unsigned int pst_mtu_bytes(unsigned int mtu)
{
	return mtu >= IBV_MTU_256 && mtu <= IBV_MTU_4096 ? 128U << mtu : 0;
}

void pst_rdma_where(const struct pst_rdma_run *run, char *buf, size_t len)
{
	if (run->gid_index >= 0)
		snprintf(buf, len, "%s port %u, %s GID index %d, comp vector %d", run->device,
			 run->ib_port, pst_gid_type_name(run->gid_type), run->gid_index,
			 run->comp_vector);
	else
		snprintf(buf, len, "%s port %u, LID %u, comp vector %d", run->device,
			 run->ib_port, run->lid, run->comp_vector);
}

void pst_rdma_report_text(FILE *out, const struct pst_rdma_run *run)
{
	const struct pst_rdma_result *r = run->res;
	char w[160];
	unsigned int i;

	pst_rdma_where(run, w, sizeof(w));
	fprintf(out, "RC SEND/RECV ping-pong with %s port %u: %s, MTU %u\n", run->peer,
		run->tcp_port, w, pst_mtu_bytes(run->mtu));
	fprintf(out, "one-way latency = round trip / 2 (as perftest ib_send_lat), %lu warmup round trips\n",
		run->warmup);
	pst_latstats_header(out);
	for (i = 0; i < run->nres; i++)
		pst_latstats_row(out, pst_rdma_mode_name(r[i].mode), run->bytes, &r[i].s);
	for (i = 0; i < run->nres; i++)
		if (r[i].mode == PST_MODE_EVENT)
			fprintf(out, "completion events taken in event mode: %lu\n", r[i].events);
	if (run->nres == 2)
		fprintf(out, "event - poll: t_typical %+.2f usec, t_avg %+.2f usec, 99%% %+.2f usec\n",
			r[1].s.typical - r[0].s.typical, r[1].s.avg - r[0].s.avg,
			r[1].s.p99 - r[0].s.p99);
}

char *pst_rdma_report_json(const struct pst_rdma_run *run)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array(), *x;
	const struct pst_rdma_result *r = run->res;
	bool gid = run->gid_index >= 0;
	unsigned int i;
	char *doc;

	json_object_object_add(root, "peer", json_object_new_string(run->peer));
	json_object_object_add(root, "tcp_port", json_object_new_int((int)run->tcp_port));
	json_object_object_add(root, "device", json_object_new_string(run->device));
	json_object_object_add(root, "ib_port", json_object_new_int((int)run->ib_port));
	json_object_object_add(root, "gid_index", gid ? json_object_new_int(run->gid_index) : NULL);
	json_object_object_add(root, "gid_type", gid ?
			       json_object_new_string(pst_gid_type_name(run->gid_type)) : NULL);
	json_object_object_add(root, "lid", gid ? NULL : json_object_new_int((int)run->lid));
	json_object_object_add(root, "comp_vector", json_object_new_int(run->comp_vector));
	json_object_object_add(root, "mtu", json_object_new_int((int)pst_mtu_bytes(run->mtu)));
	json_object_object_add(root, "bytes", json_object_new_int64((int64_t)run->bytes));
	json_object_object_add(root, "iterations", json_object_new_int64((int64_t)run->iters));
	json_object_object_add(root, "warmup", json_object_new_int64((int64_t)run->warmup));
	json_object_object_add(root, "one_way", json_object_new_string("round_trip/2"));
	for (i = 0; i < run->nres; i++) {
		x = pst_latstats_json(pst_rdma_mode_name(r[i].mode), run->bytes, &r[i].s);
		json_object_object_add(x, "events", json_object_new_int64((int64_t)r[i].events));
		json_object_array_add(arr, x);
	}
	json_object_object_add(root, "results", arr);
	if (run->nres == 2) {
		x = json_object_new_object();
		json_object_object_add(x, "t_typical", pst_json_us(r[1].s.typical - r[0].s.typical));
		json_object_object_add(x, "t_avg", pst_json_us(r[1].s.avg - r[0].s.avg));
		json_object_object_add(x, "p99", pst_json_us(r[1].s.p99 - r[0].s.p99));
		json_object_object_add(root, "event_minus_poll", x);
	}
	doc = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return doc;
}
