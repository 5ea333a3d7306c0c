// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "kvmstats.h"

struct kvmstats {
	int fd;
	struct kvm_stats_header hdr;
	size_t desc_size;
	char *descs;		/* hdr.num_desc descriptors with their names */
};

struct kvmstats *kvmstats_open(int stats_fd)
{
	struct kvmstats *st = calloc(1, sizeof(*st));
	size_t len;
	int err;

	if (!st)
		return NULL;
	st->fd = stats_fd < 0 ? -1 : fcntl(stats_fd, F_DUPFD_CLOEXEC, 0);
	if (st->fd < 0)
		goto fail;
	if (pread(st->fd, &st->hdr, sizeof(st->hdr), 0) != sizeof(st->hdr)) {
		errno = EIO;
		goto fail;
	}
	st->desc_size = sizeof(struct kvm_stats_desc) + st->hdr.name_size;
	len = st->desc_size * st->hdr.num_desc;
	st->descs = malloc(len ? len : 1);
	if (!st->descs)
		goto fail;
	if (pread(st->fd, st->descs, len, st->hdr.desc_offset) != (ssize_t)len) {
		errno = EIO;
		goto fail;
	}
	return st;
fail:
	err = errno;
	kvmstats_close(st);
	errno = err;
	return NULL;
}

void kvmstats_close(struct kvmstats *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	free(st->descs);
	free(st);
}

int kvmstats_read(struct kvmstats *st, const char *name, uint64_t *value)
{
	uint32_t i;

	for (i = 0; i < st->hdr.num_desc; i++) {
		const struct kvm_stats_desc *d =
			(const void *)(st->descs + (size_t)i * st->desc_size);

		if (strncmp(d->name, name, st->hdr.name_size) != 0)
			continue;
		if (pread(st->fd, value, sizeof(*value),
			  st->hdr.data_offset + d->offset) != sizeof(*value))
			return -EIO;
		return 0;
	}
	return -ENOENT;
}
