// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: attaching and detaching devices.
 *
 * An attached device is a directory /sys/kernel/pisteer/devices/<pci>/.
 * It goes away on detach, when its driver is unbound or the device is
 * removed (a PCI bus notifier, which runs before the driver frees its
 * vectors), and on module unload.  Sysfs drains running handlers when a
 * directory is removed; files still held open then return -ENODEV.
 *
 * Attach holds the device lock (device_lock()) from the check that a
 * driver is bound until the device is on the list: the driver core holds
 * it around probe and unbind, notifier included, so an unbind either runs
 * before (attach then finds no driver) or after (and its notifier finds
 * the device and detaches it); no attach can land between the notifier
 * and the driver freeing its vectors.  Lock order: device_lock, then
 * pg_lock; the notifier's BUS_NOTIFY_UNBIND_DRIVER runs with device_lock
 * held and takes pg_lock, BUS_NOTIFY_DEL_DEVICE runs without it.  Detach
 * by request and unload take pg_lock only.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pisteer_guest.h"

static DEFINE_MUTEX(pg_lock);
static LIST_HEAD(pg_devices);
static struct kobject *devices_kobj;

static void pg_device_release(struct kobject *kobj)
{
	struct pg_device *dev = container_of(kobj, struct pg_device, kobj);

	pg_vectors_free(dev);
	kfree(dev->qobjs);
	pci_dev_put(dev->pdev);
	kfree(dev);
}

static const struct attribute_group *pg_device_groups[] = {
	&pg_device_group,
	NULL,
};

static const struct kobj_type pg_device_ktype = {
	.release = pg_device_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = pg_device_groups,
};

static struct pg_device *find_locked(struct pci_dev *pdev)
{
	struct pg_device *dev;

	lockdep_assert_held(&pg_lock);
	list_for_each_entry(dev, &pg_devices, node)
		if (dev->pdev == pdev)
			return dev;
	return NULL;
}

/*
 * Take the device out of sysfs and drop the list's reference: no handler
 * runs on it after, and no queue directory is added any more.
 */
static void teardown(struct pg_device *dev)
{
	mutex_lock(&dev->lock);
	dev->dead = true;
	mutex_unlock(&dev->lock);
	/* Not scheduled again: handlers see dead first. */
	cancel_work_sync(&dev->tree_work);
	mutex_lock(&dev->tree_lock);
	pg_queues_del(dev);
	mutex_unlock(&dev->tree_lock);
	if (dev->kobj.state_in_sysfs)
		kobject_del(&dev->kobj);
	kobject_put(&dev->kobj);
}

/* Under device_lock(&pdev->dev) and pg_lock. */
static int attach_pdev(struct pci_dev *pdev)
{
	struct pg_device *dev;
	unsigned int nr = 0;
	int ret;

	device_lock_assert(&pdev->dev);
	lockdep_assert_held(&pg_lock);
	if (find_locked(pdev))
		return -EEXIST;
	if (!pdev->dev.driver) {
		pr_info("%s: no driver is bound to the device: bind its driver first\n",
			pci_name(pdev));
		return -ENODEV;
	}
	if (!pdev->msi_enabled && !pdev->msix_enabled) {
		pr_info("%s: MSI and MSI-X are off (the driver, %s, uses INTx or no interrupt)\n",
			pci_name(pdev), dev_driver_string(&pdev->dev));
		return -ENXIO;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->lock);
	mutex_init(&dev->tree_lock);
	INIT_WORK(&dev->tree_work, pg_tree_work);
	dev->pdev = pci_dev_get(pdev);
	kobject_init(&dev->kobj, &pg_device_ktype);

	ret = pg_vectors_read(dev);
	if (!ret)
		ret = kobject_add(&dev->kobj, devices_kobj, "%s", pci_name(pdev));
	if (!ret) {
		mutex_lock(&dev->tree_lock);
		ret = pg_queues_sync(dev);
		nr = dev->nr_qobjs;
		mutex_unlock(&dev->tree_lock);
	}
	if (ret) {
		teardown(dev);
		return ret;
	}
	list_add_tail(&dev->node, &pg_devices);
	kobject_uevent(&dev->kobj, KOBJ_ADD);
	pr_info("%s: attached, %u queue(s)\n", pci_name(pdev), nr);
	return 0;
}

static void detach_locked(struct pg_device *dev, const char *why)
{
	lockdep_assert_held(&pg_lock);
	list_del(&dev->node);
	pr_info("%s: detached (%s)\n", pci_name(dev->pdev), why);
	teardown(dev);
}

int pg_attach(const char *name)
{
	struct pci_dev *pdev;
	int ret;

	pdev = pg_lookup("attach", name);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	/* Waits while the driver probes or unbinds; a signal ends the wait. */
	ret = device_lock_interruptible(&pdev->dev);
	if (!ret) {
		mutex_lock(&pg_lock);
		ret = attach_pdev(pdev);
		mutex_unlock(&pg_lock);
		device_unlock(&pdev->dev);
	}
	pci_dev_put(pdev);
	return ret;
}

int pg_detach_pdev(struct pci_dev *pdev, const char *why)
{
	struct pg_device *dev;

	mutex_lock(&pg_lock);
	dev = find_locked(pdev);
	if (dev)
		detach_locked(dev, why);
	mutex_unlock(&pg_lock);
	return dev ? 0 : -ENOENT;
}

int pg_detach(const char *name)
{
	struct pci_dev *pdev;
	int ret;

	pdev = pg_lookup("detach", name);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	ret = pg_detach_pdev(pdev, "on request");
	pci_dev_put(pdev);
	return ret;
}

void pg_detach_all(void)
{
	struct pg_device *dev, *tmp;

	mutex_lock(&pg_lock);
	list_for_each_entry_safe(dev, tmp, &pg_devices, node)
		detach_locked(dev, "module unload");
	mutex_unlock(&pg_lock);
}

/*
 * Detach before a driver frees its vectors (the driver core holds the
 * device lock), and when a device goes (it does not).
 */
static int pg_pci_notify(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_UNBIND_DRIVER:
		pg_detach_pdev(pdev, "driver unbind");
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		pg_detach_pdev(pdev, "device removed");
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block pg_pci_nb = {
	.notifier_call = pg_pci_notify,
};

int pg_devices_init(struct kobject *parent)
{
	int ret;

	devices_kobj = kobject_create_and_add("devices", parent);
	if (!devices_kobj)
		return -ENOMEM;
	ret = bus_register_notifier(&pci_bus_type, &pg_pci_nb);
	if (ret)
		kobject_put(devices_kobj);
	return ret;
}

void pg_devices_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &pg_pci_nb);
	pg_detach_all();
	kobject_put(devices_kobj);
}
