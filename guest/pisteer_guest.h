/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer guest companion: shared declarations.
 *
 * A device is attached by PCI address or network interface name; it then
 * has a directory /sys/kernel/pisteer/devices/<pci-address>/ with one
 * sub-directory per MSI/MSI-X vector ("queue") under queues/, see
 * Documentation/ABI/testing/sysfs-kernel-pisteer.
 *
 * Lock order, outermost first:
 *
 *   device_lock(&pdev->dev)  attach only; the driver core holds it around
 *                            probe and unbind, and so while the PCI bus
 *                            notifier handles BUS_NOTIFY_UNBIND_DRIVER
 *   pg_lock                  (guest_device.c) attach, detach, the list
 *   dev->tree_lock           the queues/ directories
 *   dev->lock                the device's state and its vector list
 *   MSI descriptor lock      the device's vectors cannot be freed or
 *                            reallocated while it is held
 *
 * pg_lock (and, from the notifier, device_lock) is held while a device's
 * sysfs tree is removed, and tree_lock while queue directories are, so no
 * sysfs handler of a device or queue may take device_lock, pg_lock or
 * tree_lock.  Those handlers take dev->lock, check that the device is
 * still attached, then the MSI descriptor lock, and read the vector list
 * again if the driver has changed its vectors (pg_queue_lock()).
 */
#ifndef PISTEER_GUEST_H
#define PISTEER_GUEST_H

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct irq_desc;
struct pci_dev;
struct pg_device;

/* Longest IRQ name kept; longer driver names are cut. */
#define PG_NAME_LEN	64
/* Longest "spread" request remembered for reading back. */
#define PG_SPREAD_LEN	128

/* One MSI/MSI-X vector of the device, as the vector list last had it. */
struct pg_vec {
	struct irq_desc *desc;		/* referenced, see pg_irq_desc_hold() */
	unsigned int irq;
	unsigned int msi_index;		/* MSI-X table entry or MSI vector */
	u64 base;			/* its total at attach; 0 if allocated later */
	bool named;			/* the driver had a handler on it */
};

/* The directory queues/<index>/: shows whatever vector is queue @index. */
struct pg_queue {
	struct kobject kobj;
	struct pg_device *dev;		/* holds a reference on dev->kobj */
	unsigned int index;		/* the queue's number */
};

struct pg_device {
	struct kobject kobj;
	struct list_head node;		/* in the attached list, under pg_lock */
	struct pci_dev *pdev;		/* referenced */
	struct mutex lock;		/* the fields down to queues */
	bool dead;			/* detached: handlers return -ENODEV */
	char spread[PG_SPREAD_LEN];	/* last accepted spread request */
	unsigned int generation;	/* times the vector list was read again */
	unsigned int nr_queues;
	struct pg_vec *vecs;		/* in MSI descriptor order */
	struct pg_vec **queues;		/* the same, in queue order */
	/*
	 * The queues/ directory, one pg_queue per queue.  tree_work makes
	 * it follow nr_queues after the vector list changed: a handler of a
	 * queue file cannot remove queue directories itself.
	 */
	struct mutex tree_lock;		/* the fields below */
	struct work_struct tree_work;
	struct kobject *queues_kobj;
	unsigned int nr_qobjs;
	unsigned int max_qobjs;		/* room in qobjs */
	struct pg_queue **qobjs;
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
int pg_vectors_read(struct pg_device *dev);
void pg_vectors_free(struct pg_device *dev);
int pg_queues_sync(struct pg_device *dev);
void pg_queues_del(struct pg_device *dev);
void pg_tree_work(struct work_struct *work);
int pg_queue_lock(struct pg_device *dev);
void pg_queue_unlock(struct pg_device *dev);
int pg_queue_movable(struct pg_device *dev, unsigned int index);
void pg_vec_name(const struct pg_vec *vec, char *buf, size_t len);

/* guest_spread.c */
extern const struct attribute_group pg_device_group;

#endif /* PISTEER_GUEST_H */
