// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: from the name an operator gives (a PCI
 * address, a network interface, an RDMA device) to the PCI device.
 *
 * A name may carry a prefix that says what it is ("pci:", "net:",
 * "rdma:"); without one it is tried as a PCI address, then as a network
 * interface of the initial namespace, then as an RDMA device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <rdma/ib_verbs.h>

#include "pisteer_guest.h"

/* "dddd:bb:dd.f" or "bb:dd.f", hex, nothing after. */
static struct pci_dev *lookup_pci(const char *name)
{
	unsigned int dom = 0, bus, slot, fn;
	int len = 0;

	if (sscanf(name, "%x:%x:%x.%x%n", &dom, &bus, &slot, &fn, &len) != 4 ||
	    name[len]) {
		len = 0;
		dom = 0;
		if (sscanf(name, "%x:%x.%x%n", &bus, &slot, &fn, &len) != 3 ||
		    name[len])
			return NULL;
	}
	if (dom > 0xffff || bus > 0xff || slot > 0x1f || fn > 7)
		return NULL;
	return pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
}

static struct pci_dev *pci_of(struct device *dev)
{
	return dev && dev_is_pci(dev) ? pci_dev_get(to_pci_dev(dev)) : NULL;
}

static struct pci_dev *lookup_netdev(const char *name)
{
	struct net_device *nd;
	struct pci_dev *pdev;

	nd = dev_get_by_name(&init_net, name);
	if (!nd)
		return NULL;
	pdev = pci_of(nd->dev.parent);
	if (!pdev)
		pr_info("%s: network interface without a PCI device\n", name);
	dev_put(nd);
	return pdev;
}

/*
 * An RDMA device: a hardware HCA's parent is its PCI function; a software
 * device (rxe, siw) has none and is found through the network interface
 * it is linked to.
 */
static struct pci_dev *lookup_rdma(const char *name)
{
	struct pci_dev *pdev = NULL;
	struct ib_device *ibdev;
	struct net_device *nd;

	ibdev = ib_device_get_by_name(name, RDMA_DRIVER_UNKNOWN);
	if (!ibdev)
		return NULL;
	pdev = pci_of(ibdev->dev.parent);
	if (!pdev) {
		rcu_read_lock();
		for_each_netdev_rcu(&init_net, nd) {
			struct ib_device *other;

			other = ib_device_get_by_netdev(nd, RDMA_DRIVER_UNKNOWN);
			if (!other)
				continue;
			if (other == ibdev)
				pdev = pci_of(nd->dev.parent);
			ib_device_put(other);
			if (pdev)
				break;
		}
		rcu_read_unlock();
		if (!pdev)
			pr_info("%s: RDMA device without a PCI device\n", name);
	}
	ib_device_put(ibdev);
	return pdev;
}

struct pci_dev *pg_lookup(const char *name)
{
	struct pci_dev *pdev;

	if (!strncmp(name, "pci:", 4))
		return lookup_pci(name + 4);
	if (!strncmp(name, "net:", 4))
		return lookup_netdev(name + 4);
	if (!strncmp(name, "rdma:", 5))
		return lookup_rdma(name + 5);
	pdev = lookup_pci(name);
	if (!pdev)
		pdev = lookup_netdev(name);
	if (!pdev)
		pdev = lookup_rdma(name);
	return pdev;
}
