/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest companion's sysfs ABI (Documentation/ABI/testing/
 * sysfs-kernel-pisteer) as the CLI reads and writes it.  The sysfs root
 * is $PISTEER_SYSFS or /sys, so that tests can point it at a fixture.
 */
#ifndef PISTEER_GUEST_SYSFS_H
#define PISTEER_GUEST_SYSFS_H

#include <stdio.h>

struct pg_queue_info {
	unsigned int queue;
	unsigned int irq;
	char name[64];
	char cpu[256];		/* affinity CPU list */
	char effective[256];	/* effective affinity CPU list */
	int single_dest;	/* 1, 0, or -1 when unreadable */
	unsigned long long count;
	char msi_dest[64];
};

struct pg_dev_info {
	char bdf[32];
	char spread[128];
	unsigned int nr;
	struct pg_queue_info *queues;
};

/* $PISTEER_SYSFS or "/sys". */
const char *pg_sysfs_root(void);

/* Path of a file of the module: root + "/kernel/pisteer/" + @rel. */
void pg_path(char *buf, size_t len, const char *rel);

/* 0 when the module's directory is there, else -ENOENT. */
int pg_module_present(void);

/* Write @val to the module file @rel: 0 or -errno (the module's error). */
int pg_write(const char *rel, const char *val);

/*
 * The PCI address @name stands for, as the module wants it: a PCI address
 * (short or full), a network interface, or an RDMA device (hardware, or a
 * soft one such as rxe through the interface it runs on), resolved through
 * sysfs (the module itself knows no RDMA names).  A "pci:", "net:" or
 * "rdma:" prefix says which; without one a name is tried in that order.
 * Writes the full PCI address ("0000:3b:00.0") to @bdf and returns 0;
 * -ENOENT when @name names nothing known; -ENODEV when it names a device
 * that is not on PCI (a virtual interface, a device on another bus), with
 * that device's sysfs name in @bdf ("" for none).
 */
int pg_resolve(const char *name, char *bdf, size_t len);

/* Every attached device with its queues, by PCI address.  0 or -errno. */
int pg_read_devices(struct pg_dev_info **devs, unsigned int *nr);
/* Only the device at @bdf.  0, -ENOENT (not attached) or -errno. */
int pg_read_device(const char *bdf, struct pg_dev_info *dev);
void pg_free_devices(struct pg_dev_info *devs, unsigned int nr);

void pg_print_table(FILE *out, const struct pg_dev_info *devs, unsigned int nr);
/* A malloc'ed JSON document (an array of devices), or NULL. */
char *pg_to_json(const struct pg_dev_info *devs, unsigned int nr);

#endif
