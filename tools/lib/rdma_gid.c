// SPDX-License-Identifier: GPL-2.0
/*
 * Which GID of a port pisteer rdma-lat addresses by default.  Uses the
 * verbs types only, no libibverbs call, so unit tests link it alone.
 */
#include <string.h>

#include "rdma_pp.h"

const char *pst_gid_type_name(unsigned int type)
{
	switch (type) {
	case IBV_GID_TYPE_ROCE_V2:
		return "RoCE v2";
	case IBV_GID_TYPE_ROCE_V1:
		return "RoCE v1";
	default:
		return "IB";
	}
}

static bool gid_is_ipv4(const union ibv_gid *g)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(g->raw, prefix, sizeof(prefix));
}

int pst_rdma_pick_gid(const struct ibv_gid_entry *e, unsigned int n)
{
	int best = -1, best_rank = 0, rank;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (e[i].gid_type == IBV_GID_TYPE_ROCE_V2)
			rank = gid_is_ipv4(&e[i].gid) ? 4 : 3;
		else if (e[i].gid_type == IBV_GID_TYPE_ROCE_V1)
			rank = 2;
		else
			rank = 1;
		/* the lowest index of the best kind */
		if (rank > best_rank || (rank == best_rank && (int)e[i].gid_index < best)) {
			best = (int)e[i].gid_index;
			best_rank = rank;
		}
	}
	return best;
}
