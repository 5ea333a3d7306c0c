// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and writing the guest companion's sysfs files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_sysfs.h"
#include "pisteer_dev.h"
#include "sysfile.h"

const char *pg_sysfs_root(void)
{
	const char *root = getenv("PISTEER_SYSFS");

	return root && *root ? root : "/sys";
}

void pg_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/kernel/pisteer/%s", pg_sysfs_root(), rel);
}

int pg_module_present(void)
{
	char p[PATH_MAX];

	pg_path(p, sizeof(p), "attach");
	return access(p, F_OK) ? -ENOENT : 0;
}

int pg_write(const char *rel, const char *val)
{
	char p[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	pg_path(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* The last component of the symlink @path points to. */
static int link_base(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	snprintf(out, len, "%s", basename(target));
	return 0;
}

/* Path of @file of class @cls's entry @name: "/sys/class/net/eth0/device". */
static void class_path(char *buf, size_t len, const char *cls, const char *name,
		       const char *file)
{
	snprintf(buf, len, "%s/class/%s/%s%s%s", pg_sysfs_root(), cls, name,
		 *file ? "/" : "", file);
}

/*
 * The device behind class @cls's entry @name (net, eth0): its name to
 * @bdf when it is a PCI device; -ENODEV with its name (or "" when the
 * entry has no device) in @bdf when it is not; -ENOENT without the entry.
 */
static int class_dev_to_bdf(const char *cls, const char *name, char *bdf, size_t len)
{
	char p[PATH_MAX], bus[64];
	struct pst_bdf b;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -ENOENT;
	class_path(p, sizeof(p), cls, name, "");
	if (access(p, F_OK))
		return -ENOENT;
	class_path(p, sizeof(p), cls, name, "device");
	if (link_base(p, bdf, len)) {
		snprintf(bdf, len, "%s", "");
		return -ENODEV;
	}
	class_path(p, sizeof(p), cls, name, "device/subsystem");
	if (link_base(p, bus, sizeof(bus)) || strcmp(bus, "pci") != 0 || pst_parse_bdf(bdf, &b))
		return -ENODEV;
	return 0;
}

static int net_to_bdf(const char *ifname, char *bdf, size_t len)
{
	return class_dev_to_bdf("net", ifname, bdf, len);
}

/*
 * A hardware RDMA device's "device" is its PCI function; a software one
 * (rxe, siw) is on no PCI device and names in "parent" the interface it
 * runs on.
 */
static int rdma_to_bdf(const char *ibdev, char *bdf, size_t len)
{
	char p[PATH_MAX], parent[64] = "";
	int err;

	err = class_dev_to_bdf("infiniband", ibdev, bdf, len);
	if (err != -ENODEV)
		return err;
	class_path(p, sizeof(p), "infiniband", ibdev, "parent");
	if (pst_read_line(p, parent, sizeof(parent)) || !*parent)
		return -ENODEV;
	err = net_to_bdf(parent, bdf, len);
	if (err == -ENOENT) {
		/* The interface it ran on is gone. */
		snprintf(bdf, len, "%s", parent);
		err = -ENODEV;
	}
	return err;
}

int pg_resolve(const char *name, char *bdf, size_t len)
{
	struct pst_bdf b;
	int err;

	if (!strncmp(name, "pci:", 4))
		name += 4;
	if (!pst_parse_bdf(name, &b)) {
		pst_format_bdf(b.seg, b.bus, b.devfn, bdf, len);
		return 0;
	}
	if (!strncmp(name, "net:", 4))
		return net_to_bdf(name + 4, bdf, len);
	if (!strncmp(name, "rdma:", 5))
		return rdma_to_bdf(name + 5, bdf, len);
	err = net_to_bdf(name, bdf, len);
	if (err != -ENOENT)
		return err;
	return rdma_to_bdf(name, bdf, len);
}

static int cmp_queue(const void *a, const void *b)
{
	const struct pg_queue_info *x = a, *y = b;

	return (x->queue > y->queue) - (x->queue < y->queue);
}

/* Read @dir/@file into @buf (see read_line): 0 or -errno. */
static int read_attr(const char *dir, const char *file, char *buf, size_t len)
{
	char p[PATH_MAX];
	int n = snprintf(p, sizeof(p), "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	return pst_read_line(p, buf, len);
}

static int read_queue(const char *dir, struct pg_queue_info *q)
{
	char v[64];
	int err;

	err = read_attr(dir, "irq", v, sizeof(v));
	if (err)
		return err;
	q->irq = (unsigned int)strtoul(v, NULL, 10);
	if (read_attr(dir, "name", q->name, sizeof(q->name)))
		q->name[0] = '\0';
	if (read_attr(dir, "cpu", q->cpu, sizeof(q->cpu)))
		snprintf(q->cpu, sizeof(q->cpu), "?");
	if (read_attr(dir, "effective_cpu", q->effective, sizeof(q->effective)))
		snprintf(q->effective, sizeof(q->effective), "?");
	q->single_dest = read_attr(dir, "single_dest", v, sizeof(v)) ? -1 : atoi(v);
	q->count = read_attr(dir, "count", v, sizeof(v)) ? 0 : strtoull(v, NULL, 10);
	if (read_attr(dir, "msi_dest", q->msi_dest, sizeof(q->msi_dest)))
		q->msi_dest[0] = '\0';
	return 0;
}

int pg_read_device(const char *bdf, struct pg_dev_info *dev)
{
	char dir[PATH_MAX], qdir[PATH_MAX];
	struct dirent *de;
	int err = 0, n;
	DIR *d;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	n = snprintf(dir, sizeof(dir), "%s/kernel/pisteer/devices/%s", pg_sysfs_root(), bdf);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	err = read_attr(dir, "spread", dev->spread, sizeof(dev->spread));
	if (err)
		return err;
	n = snprintf(qdir, sizeof(qdir), "%s/queues", dir);
	if (n < 0 || (size_t)n >= sizeof(qdir))
		return -ENAMETOOLONG;
	d = opendir(qdir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct pg_queue_info *more, *q;
		char qpath[PATH_MAX];
		char *end;
		unsigned long num = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
			continue;
		n = snprintf(qpath, sizeof(qpath), "%s/%s", qdir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(qpath))
			continue;
		more = realloc(dev->queues, (dev->nr + 1) * sizeof(*more));
		if (!more) {
			err = -ENOMEM;
			break;
		}
		dev->queues = more;
		q = &dev->queues[dev->nr];
		memset(q, 0, sizeof(*q));
		q->queue = (unsigned int)num;
		/* A device detached meanwhile: its files are gone. */
		if (read_queue(qpath, q))
			continue;
		dev->nr++;
	}
	closedir(d);
	if (err) {
		free(dev->queues);
		dev->queues = NULL;
		dev->nr = 0;
		return err;
	}
	qsort(dev->queues, dev->nr, sizeof(*dev->queues), cmp_queue);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct pg_dev_info *)a)->bdf,
		      ((const struct pg_dev_info *)b)->bdf);
}

int pg_read_devices(struct pg_dev_info **devs, unsigned int *nr)
{
	char dir[PATH_MAX];
	struct pg_dev_info *all = NULL;
	struct dirent *de;
	unsigned int n = 0;
	int err = 0;
	DIR *d;

	pg_path(dir, sizeof(dir), "devices");
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct pg_dev_info *more;

		if (de->d_name[0] == '.')
			continue;
		more = realloc(all, (n + 1) * sizeof(*more));
		if (!more) {
			err = -ENOMEM;
			break;
		}
		all = more;
		err = pg_read_device(de->d_name, &all[n]);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err)
			break;
		n++;
	}
	closedir(d);
	if (err) {
		pg_free_devices(all, n);
		return err;
	}
	if (n)
		qsort(all, n, sizeof(*all), cmp_dev);
	*devs = all;
	*nr = n;
	return 0;
}

void pg_free_devices(struct pg_dev_info *devs, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		free(devs[i].queues);
	free(devs);
}

void pg_print_table(FILE *out, const struct pg_dev_info *devs, unsigned int nr)
{
	unsigned int i, j;

	if (!nr) {
		fprintf(out, "no device attached (pisteer guest attach DEV)\n");
		return;
	}
	fprintf(out, "%-12s %5s %5s %-20s %-8s %-9s %-6s %10s\n", "DEVICE", "QUEUE",
		"IRQ", "NAME", "CPU", "EFFECTIVE", "SINGLE", "COUNT");
	for (i = 0; i < nr; i++)
		for (j = 0; j < devs[i].nr; j++) {
			const struct pg_queue_info *q = &devs[i].queues[j];

			fprintf(out, "%-12s %5u %5u %-20s %-8s %-9s %-6s %10llu\n",
				devs[i].bdf, q->queue, q->irq, q->name[0] ? q->name : "-",
				q->cpu, q->effective,
				q->single_dest < 0 ? "?" : q->single_dest ? "yes" : "no",
				q->count);
		}
}

static json_object *queue_json(const struct pg_queue_info *q)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "queue", json_object_new_int64(q->queue));
	json_object_object_add(o, "irq", json_object_new_int64(q->irq));
	json_object_object_add(o, "name", json_object_new_string(q->name));
	json_object_object_add(o, "cpu", json_object_new_string(q->cpu));
	json_object_object_add(o, "effective_cpu", json_object_new_string(q->effective));
	json_object_object_add(o, "single_dest",
			       q->single_dest < 0 ? NULL :
			       json_object_new_boolean(q->single_dest));
	json_object_object_add(o, "count", json_object_new_int64((int64_t)q->count));
	json_object_object_add(o, "msi_dest", json_object_new_string(q->msi_dest));
	return o;
}

char *pg_to_json(const struct pg_dev_info *devs, unsigned int nr)
{
	json_object *arr = json_object_new_array();
	unsigned int i, j;
	char *doc;

	if (!arr)
		return NULL;
	for (i = 0; i < nr; i++) {
		json_object *d = json_object_new_object();
		json_object *qs = json_object_new_array();

		json_object_object_add(d, "device", json_object_new_string(devs[i].bdf));
		json_object_object_add(d, "spread", json_object_new_string(devs[i].spread));
		for (j = 0; j < devs[i].nr; j++)
			json_object_array_add(qs, queue_json(&devs[i].queues[j]));
		json_object_object_add(d, "queues", qs);
		json_object_array_add(arr, d);
	}
	doc = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return doc;
}
