// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "ktap.h"
#include "modstate.h"

int modcounts_read_file(const char *path, struct modcounts *c)
{
	FILE *f = fopen(path, "re");
	char line[128];
	int err;

	memset(c, 0, sizeof(*c));
	if (!f) {
		err = errno;
		fprintf(stderr, "%s: %s\n", path, strerror(err));
		return -err;
	}
	while (c->nr < MODCOUNTS_MAX && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %ld", c->name[c->nr], &c->value[c->nr]) == 2)
			c->nr++;
	}
	fclose(f);
	if (!c->nr) {
		fprintf(stderr, "%s: no 'name value' line\n", path);
		return -EPROTO;
	}
	return 0;
}

int modcounts_read(struct modcounts *c)
{
	return modcounts_read_file(MODSTATE_ALLOCS, c);
}

long modcounts_get(const struct modcounts *c, const char *name)
{
	int i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->name[i], name))
			return c->value[i];
	return -1;
}

bool modcounts_same(const struct modcounts *base, const struct modcounts *now,
		    bool say)
{
	bool same = base->nr == now->nr;
	int i;

	if (!same && say)
		ktap_diag("allocs: %d lines, %d before", now->nr, base->nr);
	for (i = 0; i < base->nr && i < now->nr; i++) {
		if (!strcmp(base->name[i], now->name[i]) &&
		    base->value[i] == now->value[i])
			continue;
		same = false;
		if (say)
			ktap_diag("allocs: %s %ld, was %s %ld", now->name[i],
				  now->value[i], base->name[i], base->value[i]);
	}
	return same;
}

bool modcounts_wait_same(const struct modcounts *base, struct modcounts *now,
			 unsigned int timeout_ms)
{
	struct timespec ts = { .tv_nsec = 20L * 1000 * 1000 };
	unsigned int waited = 0;

	for (;;) {
		if (modcounts_read(now))
			return false;
		if (modcounts_same(base, now, false))
			return true;
		if (waited >= timeout_ms)
			return modcounts_same(base, now, true);
		nanosleep(&ts, NULL);
		waited += 20;
	}
}

void modcounts_diag(const char *what, const struct modcounts *c)
{
	char buf[512];
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < c->nr && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s=%ld",
					c->name[i], c->value[i]);
	ktap_diag("%s:%s", what, buf);
}

int modstate_list(int fd, int pid, struct pisteer_vector *out, int max)
{
	struct pisteer_list_vectors req;

	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.flags = pid ? PISTEER_LIST_F_PID : 0;
	req.pid = pid;
	req.entry_size = sizeof(*out);
	req.count = max > 0 ? (unsigned int)max : 0;
	req.entries = (uintptr_t)out;
	if (ioctl(fd, PISTEER_IOC_LIST_VECTORS, &req) < 0 && errno != ENOSPC)
		return -errno;
	return (int)req.count;
}
