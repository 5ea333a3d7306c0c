// SPDX-License-Identifier: GPL-2.0
/*
 * ptvm: the VFIO half of the test VMM (see ptvm.h).
 *
 * Life cycle of a device: open (container, group, device fd, BAR0, config
 * space, MSI-X or MSI with one eventfd per vector, the request eventfd) ->
 * attach to VMs (KVM_IRQFD) -> close (vectors off, fds closed).  Errors on
 * open undo in reverse order.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ptvm.h"

struct ptvm_dev {
	char bdf[16];
	int container;
	int group;
	int fd;
	struct vfio_region_info bar0;
	struct vfio_region_info config;
	volatile uint32_t *bar0_map;
	enum ptdev_irq_mode mode;
	int max_vectors;	/* asked for at open (0: all) */
	int nr_vectors;		/* the device's (at most max_vectors), or 1 for MSI */
	int nr_enabled;		/* vectors on eventfds now */
	int efd[PTVM_MAX_DEV_VECS];
	int req_efd;
	bool dma_mapped;
	uint64_t dma_size;
};

static int read_sysfs_hex(const char *bdf, const char *attr, unsigned int *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%x", val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

int ptdev_find(uint16_t vendor, uint16_t device, char bdfs[][16], int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/sys/bus/pci/drivers/vfio-pci");
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		unsigned int v = 0, dv = 0;

		if (!strchr(de->d_name, ':') || strlen(de->d_name) >= 16)
			continue;
		if (read_sysfs_hex(de->d_name, "vendor", &v) ||
		    read_sysfs_hex(de->d_name, "device", &dv))
			continue;
		if (v == vendor && dv == device)
			snprintf(bdfs[n++], 16, "%s", de->d_name);
	}
	closedir(d);
	/* readdir order is arbitrary: sort so "the first device" is stable. */
	qsort(bdfs, n, 16, (int (*)(const void *, const void *))strcmp);
	return n;
}

static int region_info(struct ptvm_dev *dev, unsigned int index,
		       struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		return ptvm_fail(errno, "%s: region %u info", dev->bdf, index);
	return 0;
}

static int config_rw16(struct ptvm_dev *dev, uint32_t off, uint16_t *val,
		       bool write)
{
	ssize_t n;

	if (write)
		n = pwrite(dev->fd, val, 2, (off_t)(dev->config.offset + off));
	else
		n = pread(dev->fd, val, 2, (off_t)(dev->config.offset + off));
	if (n != 2)
		return ptvm_fail(n < 0 ? errno : EIO, "%s: config %s at %#x",
				 dev->bdf, write ? "write" : "read", off);
	return 0;
}

static unsigned int irq_index(const struct ptvm_dev *dev)
{
	return dev->mode == PTDEV_MSI ? VFIO_PCI_MSI_IRQ_INDEX :
					VFIO_PCI_MSIX_IRQ_INDEX;
}

/*
 * VFIO_DEVICE_SET_IRQS on @index for vectors @start..@start+@count-1:
 * @fds gives each one's eventfd (-1: none), or NULL with @count 0 to turn
 * them all off.
 */
static int set_irqs(struct ptvm_dev *dev, unsigned int index, int start,
		    int count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set;
	int ret = 0;

	set = calloc(1, sz);
	if (!set)
		return ptvm_fail(ENOMEM, "irq set");
	set->argsz = (uint32_t)sz;
	set->index = index;
	set->start = (uint32_t)start;
	set->count = (uint32_t)count;
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		     (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	if (count)
		memcpy(set->data, fds, count * sizeof(int32_t));
	if (ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set) < 0)
		ret = ptvm_fail(errno, "%s: VFIO_DEVICE_SET_IRQS index %u, %d+%d",
				dev->bdf, index, start, count);
	free(set);
	return ret;
}

/* Enable vectors 0..@count-1 on their eventfds, or disable all (0). */
static int set_vectors(struct ptvm_dev *dev, int count)
{
	int ret = set_irqs(dev, irq_index(dev), 0, count, dev->efd);

	if (!ret)
		dev->nr_enabled = count;
	return ret;
}

static int open_group(struct ptvm_dev *dev)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char link[128], target[256], path[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group",
		 dev->bdf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return ptvm_fail(errno, "%s: no IOMMU group", dev->bdf);
	target[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(target));

	dev->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container < 0)
		return ptvm_fail(errno, "open /dev/vfio/vfio");
	if (ioctl(dev->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return ptvm_fail(EINVAL, "VFIO API version mismatch");
	if (ioctl(dev->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return ptvm_fail(EOPNOTSUPP, "VFIO type1v2 IOMMU not available");
	dev->group = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group < 0)
		return ptvm_fail(errno, "open %s", path);
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status) < 0)
		return ptvm_fail(errno, "%s: group status", path);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return ptvm_fail(EBUSY, "%s: group not viable (all its devices must be bound to vfio-pci)",
				 path);
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container) < 0)
		return ptvm_fail(errno, "%s: set container", path);
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return ptvm_fail(errno, "VFIO_SET_IOMMU");
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (dev->fd < 0)
		return ptvm_fail(errno, "%s: get device fd", dev->bdf);
	return 0;
}

/*
 * The request channel: VFIO signals it when the kernel wants the device
 * back (unbind, hot removal) and waits until the user closes it.
 */
static int set_req(struct ptvm_dev *dev)
{
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = VFIO_PCI_REQ_IRQ_INDEX,
	};

	if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) < 0 ||
	    irq.count != 1)
		return 0;	/* the kernel has no request channel */
	dev->req_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->req_efd < 0)
		return ptvm_fail(errno, "eventfd");
	return set_irqs(dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &dev->req_efd);
}

static int open_device(struct ptvm_dev *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = irq_index(dev),
	};
	uint16_t cmd;
	int ret, i;
	void *p;

	ret = open_group(dev);
	if (ret)
		return ret;
	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info) < 0)
		return ptvm_fail(errno, "%s: device info", dev->bdf);
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return ptvm_fail(ENODEV, "%s: not a PCI device", dev->bdf);

	ret = region_info(dev, VFIO_PCI_BAR0_REGION_INDEX, &dev->bar0);
	if (!ret)
		ret = region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &dev->config);
	if (ret)
		return ret;
	if (dev->bar0.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		p = mmap(NULL, dev->bar0.size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, dev->fd, (off_t)dev->bar0.offset);
		if (p != MAP_FAILED)
			dev->bar0_map = p;
	}

	/* Without memory space and bus mastering the MSI-X write is dropped. */
	ret = config_rw16(dev, 0x4, &cmd, false);
	if (ret)
		return ret;
	cmd |= 0x6;
	ret = config_rw16(dev, 0x4, &cmd, true);
	if (ret)
		return ret;

	if (ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) < 0)
		return ptvm_fail(errno, "%s: IRQ info", dev->bdf);
	if (irq.count == 0 || !(irq.flags & VFIO_IRQ_INFO_EVENTFD))
		return ptvm_fail(ENODEV, "%s: no %s", dev->bdf,
				 dev->mode == PTDEV_MSI ? "MSI" : "MSI-X");
	/* A VMM gives a single-message MSI device one vector, as QEMU does. */
	dev->nr_vectors = dev->mode == PTDEV_MSI ? 1 :
			  irq.count < PTVM_MAX_DEV_VECS ? (int)irq.count :
							  PTVM_MAX_DEV_VECS;
	if (dev->max_vectors > 0 && dev->nr_vectors > dev->max_vectors)
		dev->nr_vectors = dev->max_vectors;
	for (i = 0; i < dev->nr_vectors; i++) {
		dev->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (dev->efd[i] < 0)
			return ptvm_fail(errno, "eventfd");
	}
	ret = set_req(dev);
	if (ret)
		return ret;
	return set_vectors(dev, dev->nr_vectors);
}

static struct ptvm_dev *open_max(const char *bdf, enum ptdev_irq_mode mode,
				 int max);

struct ptvm_dev *ptdev_open(const char *bdf)
{
	return ptdev_open_mode(bdf, PTDEV_MSIX);
}

struct ptvm_dev *ptdev_open_mode(const char *bdf, enum ptdev_irq_mode mode)
{
	return open_max(bdf, mode, 0);
}

struct ptvm_dev *ptdev_open_count(const char *bdf, int max)
{
	if (max < 0 || max > PTVM_MAX_DEV_VECS) {
		ptvm_fail(EINVAL, "%d vectors: 0..%d", max, PTVM_MAX_DEV_VECS);
		return NULL;
	}
	return open_max(bdf, PTDEV_MSIX, max);
}

static struct ptvm_dev *open_max(const char *bdf, enum ptdev_irq_mode mode,
				 int max)
{
	struct ptvm_dev *dev;
	int ret, i;

	if (!bdf || strlen(bdf) >= sizeof(dev->bdf)) {
		ptvm_fail(EINVAL, "bad PCI address");
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		ptvm_fail(ENOMEM, "ptdev_open");
		return NULL;
	}
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);
	dev->container = dev->group = dev->fd = dev->req_efd = -1;
	dev->mode = mode;
	dev->max_vectors = max;
	for (i = 0; i < PTVM_MAX_DEV_VECS; i++)
		dev->efd[i] = -1;
	ret = open_device(dev);
	if (ret) {
		ptdev_close(dev);
		errno = -ret;
		return NULL;
	}
	return dev;
}

void ptdev_close(struct ptvm_dev *dev)
{
	int i, saved = errno;

	if (!dev)
		return;
	if (dev->fd >= 0 && dev->nr_enabled)
		set_vectors(dev, 0);
	if (dev->req_efd >= 0) {
		if (dev->fd >= 0)
			set_irqs(dev, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, NULL);
		close(dev->req_efd);
	}
	if (dev->dma_mapped) {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = 0,
			.size = dev->dma_size,
		};

		ioctl(dev->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	}
	for (i = 0; i < PTVM_MAX_DEV_VECS; i++)
		if (dev->efd[i] >= 0)
			close(dev->efd[i]);
	if (dev->bar0_map)
		munmap((void *)dev->bar0_map, dev->bar0.size);
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	free(dev);
	errno = saved;
}

const char *ptdev_bdf(const struct ptvm_dev *dev)
{
	return dev->bdf;
}

int ptdev_nr_vectors(const struct ptvm_dev *dev)
{
	return dev->nr_vectors;
}

int ptdev_eventfd(const struct ptvm_dev *dev, int vec)
{
	if (vec < 0 || vec >= dev->nr_vectors)
		return -1;
	return dev->efd[vec];
}

bool ptdev_is_msi(const struct ptvm_dev *dev)
{
	return dev->mode == PTDEV_MSI;
}

int ptdev_req_fd(const struct ptvm_dev *dev)
{
	return dev->req_efd;
}

int ptdev_set_vectors(struct ptvm_dev *dev, bool enable)
{
	return set_vectors(dev, enable ? dev->nr_vectors : 0);
}

int ptdev_switch_mode(struct ptvm_dev *dev, enum ptdev_irq_mode mode)
{
	int ret = set_vectors(dev, 0);

	if (ret)
		return ret;
	dev->mode = mode;
	return set_vectors(dev, mode == PTDEV_MSI ? 1 : dev->nr_vectors);
}

int ptdev_set_count(struct ptvm_dev *dev, int count)
{
	int fds[PTVM_MAX_DEV_VECS], i, ret;

	if (dev->mode != PTDEV_MSIX || count < 1 || count > dev->nr_vectors)
		return ptvm_fail(EINVAL, "%s: %d vectors: MSI-X 1..%d only",
				 dev->bdf, count, dev->nr_vectors);
	if (!dev->nr_enabled)
		return set_vectors(dev, count);
	/* Vectors past @count off (fd -1), those below on their eventfds. */
	for (i = 0; i < dev->nr_vectors; i++)
		fds[i] = i < count ? dev->efd[i] : -1;
	ret = set_irqs(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, dev->nr_vectors, fds);
	if (!ret)
		dev->nr_enabled = count;
	return ret;
}

int ptdev_map_guest(struct ptvm_dev *dev, struct ptvm *vm)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	size_t size;
	void *mem = ptvm_mem(vm, &size);

	if (dev->dma_mapped)
		return ptvm_fail(EBUSY, "%s: guest memory already mapped", dev->bdf);
	map.vaddr = (uintptr_t)mem;
	map.iova = 0;
	map.size = size;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(dev->container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		return ptvm_fail(errno, "%s: VFIO_IOMMU_MAP_DMA", dev->bdf);
	dev->dma_mapped = true;
	dev->dma_size = size;
	return 0;
}

uint32_t ptdev_read32(struct ptvm_dev *dev, uint32_t off)
{
	uint32_t val = ~0u;

	if (dev->bar0_map)
		return dev->bar0_map[off / 4];
	if (pread(dev->fd, &val, 4, (off_t)(dev->bar0.offset + off)) != 4)
		return ~0u;
	return val;
}

void ptdev_write32(struct ptvm_dev *dev, uint32_t off, uint32_t val)
{
	if (dev->bar0_map) {
		dev->bar0_map[off / 4] = val;
		return;
	}
	if (pwrite(dev->fd, &val, 4, (off_t)(dev->bar0.offset + off)) != 4)
		ptvm_fail(errno, "%s: BAR0 write at %#x", dev->bdf, off);
}

int ptdev_drain(struct ptvm_dev *dev)
{
	uint64_t n;
	int i, pending = 0;

	for (i = 0; i < dev->nr_vectors; i++)
		while (read(dev->efd[i], &n, sizeof(n)) == sizeof(n))
			pending += (int)n;
	return pending;
}

static int irqfds(struct ptvm_dev *dev, struct ptvm *vm, uint32_t gsi_base,
		  bool assign)
{
	int i, ret;

	for (i = 0; i < dev->nr_vectors; i++) {
		ret = ptvm_irqfd(vm, dev->efd[i], gsi_base + i, assign);
		if (ret && assign) {
			while (--i >= 0)
				ptvm_irqfd(vm, dev->efd[i], gsi_base + i, false);
			return ret;
		}
	}
	return 0;
}

int ptdev_attach(struct ptvm_dev *dev, struct ptvm *vm, uint32_t gsi_base)
{
	return irqfds(dev, vm, gsi_base, true);
}

int ptdev_detach(struct ptvm_dev *dev, struct ptvm *vm, uint32_t gsi_base)
{
	return irqfds(dev, vm, gsi_base, false);
}
