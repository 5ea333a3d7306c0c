// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: from the name an operator gives (a PCI
 * address or a network interface) to the PCI device.
 *
 * A name may carry a prefix that says what it is ("pci:", "net:");
 * without one it is tried as a PCI address, then as a network interface
 * of the initial namespace.  RDMA device names are not resolved here: that
 * would tie the module to ib_core, which most guests do not have.  The CLI
 * resolves them through sysfs (/sys/class/infiniband/NAME/device) and
 * writes the PCI address.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <net/net_namespace.h>

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

/* NULL when there is no such interface, -ENODEV when it is not on PCI. */
static struct pci_dev *lookup_netdev(const char *op, const char *name)
{
	struct net_device *nd;
	struct pci_dev *pdev;

	nd = dev_get_by_name(&init_net, name);
	if (!nd)
		return NULL;
	pdev = pci_of(nd->dev.parent);
	if (!pdev) {
		pr_info("%s %s: network interface without a PCI device\n",
			op, name);
		pdev = ERR_PTR(-ENODEV);
	}
	dev_put(nd);
	return pdev;
}

struct pci_dev *pg_lookup(const char *op, const char *name)
{
	struct pci_dev *pdev;

	if (!strncmp(name, "rdma:", 5)) {
		pr_info("%s %s: the module does not resolve RDMA device names: write the PCI address (see /sys/class/infiniband/%s/device), or run `pisteer guest %s %s`\n",
			op, name, name + 5, op, name + 5);
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (!strncmp(name, "pci:", 4))
		pdev = lookup_pci(name + 4);
	else if (!strncmp(name, "net:", 4))
		pdev = lookup_netdev(op, name + 4);
	else
		pdev = lookup_pci(name) ?: lookup_netdev(op, name);
	if (pdev)
		return pdev;
	pr_info("%s %s: no PCI device or network interface of that name; for an RDMA device write its PCI address, or run `pisteer guest %s %s`, which resolves it\n",
		op, name, op, name);
	return ERR_PTR(-ENODEV);
}
