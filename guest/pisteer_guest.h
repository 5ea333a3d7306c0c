/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer guest companion: shared declarations.
 *
 * A device is attached by PCI address or network interface name; it then
 * has a directory /sys/kernel/pisteer/devices/<pci-address>/ with one
 * sub-directory per MSI/MSI-X vector ("queue") under queues/, see
 * Documentation/ABI/testing/sysfs-kernel-pisteer.
 *
 * Locking: attach holds the device lock (device_lock()) around pg_lock,
 * see guest_device.c.  pg_lock serialises attach and detach and
 * protects the device list; it is held while a device's sysfs tree is
 * removed, so no sysfs handler of a device or queue may take it.  Those
 * handlers take the device's own lock, check that it is still attached,
 * and then hold the device's MSI descriptor lock while they touch an IRQ,
 * so the vector cannot be freed under them.
 */
#ifndef PISTEER_GUEST_H
#define PISTEER_GUEST_H

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct pci_dev;
struct pg_device;

/* Longest IRQ name kept; longer driver names are cut. */
#define PG_NAME_LEN	64
/* Longest "spread" request remembered for reading back. */
#define PG_SPREAD_LEN	128

struct pg_queue {
	struct kobject kobj;
	struct pg_device *dev;		/* holds a reference on dev->kobj */
	unsigned int index;		/* the queue's number */
	unsigned int irq;
	unsigned int msi_index;		/* MSI-X table entry or MSI vector */
	u64 count_base;			/* interrupts taken before attach */
};

struct pg_device {
	struct kobject kobj;
	struct list_head node;		/* in the attached list, under pg_lock */
	struct pci_dev *pdev;		/* referenced */
	struct mutex lock;		/* the fields below */
	bool dead;			/* detached: handlers return -ENODEV */
	char spread[PG_SPREAD_LEN];	/* last accepted spread request */
	struct kobject *queues_kobj;
	unsigned int nr_queues;
	struct pg_queue **queues;	/* in queue order */
};

/*
 * guest_lookup.c: the PCI device a name stands for, referenced, or
 * ERR_PTR(-ENODEV) (nothing of that name) or ERR_PTR(-EOPNOTSUPP) (an
 * RDMA device name).  @op ("attach", "detach") prefixes the log line that
 * says why a name failed.
 */
struct pci_dev *pg_lookup(const char *op, const char *name);

/* guest_device.c */
int pg_attach(const char *name);
int pg_detach(const char *name);
int pg_detach_pdev(struct pci_dev *pdev, const char *why);
void pg_detach_all(void);
int pg_devices_init(struct kobject *parent);
void pg_devices_exit(void);

/* guest_queue.c */
int pg_queues_collect(struct pg_device *dev);
int pg_queues_add(struct pg_device *dev);
void pg_queues_del(struct pg_device *dev);
int pg_queue_lock(struct pg_device *dev);
void pg_queue_unlock(struct pg_device *dev);
bool pg_queue_present(struct pg_queue *q);
int pg_queue_movable(struct pg_queue *q);
void pg_queue_name(struct pg_queue *q, char *buf, size_t len);

/* guest_spread.c */
extern const struct attribute_group pg_device_group;

#endif /* PISTEER_GUEST_H */
