// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: the queues of an attached device, one per
 * MSI/MSI-X vector, and their sysfs files.
 *
 * Queues are numbered in the natural order of the driver's IRQ names
 * ("eth0", "eth0-rx-0", "eth0-tx-0"; "mlx5_comp2" before "mlx5_comp10"),
 * then by vector index for vectors without a name, so that the numbers
 * stay the same from boot to boot whatever IRQ numbers the vectors get.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdesc.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "pisteer_guest.h"
#include "pisteer_guest_compat.h"

static struct irq_data *queue_irq_data(struct pg_queue *q)
{
	return irq_get_irq_data(q->irq);
}

/*
 * Take the device's lock and its MSI descriptor lock: while they are held
 * the device stays attached and its vectors allocated.  -ENODEV once the
 * device is detached.
 */
int pg_queue_lock(struct pg_device *dev)
{
	mutex_lock(&dev->lock);
	if (dev->dead) {
		mutex_unlock(&dev->lock);
		return -ENODEV;
	}
	pg_msi_lock_descs(&dev->pdev->dev);
	return 0;
}

void pg_queue_unlock(struct pg_device *dev)
{
	pg_msi_unlock_descs(&dev->pdev->dev);
	mutex_unlock(&dev->lock);
}

/*
 * Under pg_queue_lock(): is the queue's IRQ still one of the device's
 * vectors?  Not when the driver has since freed or reallocated them.
 */
bool pg_queue_present(struct pg_queue *q)
{
	struct msi_desc *desc;

	msi_for_each_desc(desc, &q->dev->pdev->dev, MSI_DESC_ASSOCIATED)
		if (q->irq >= desc->irq && q->irq < desc->irq + desc->nvec_used)
			return true;
	return false;
}

/* Under pg_queue_lock(): 0, or -EPERM (and why, in the log). */
int pg_queue_movable(struct pg_queue *q)
{
	struct irq_data *data = queue_irq_data(q);

	if (!data)
		return -ENODEV;
	if (irqd_affinity_is_managed(data)) {
		pr_warn("%s queue %u (irq %u): affinity is managed by the kernel (the driver spread its vectors with PCI_IRQ_AFFINITY); it cannot be changed\n",
			pci_name(q->dev->pdev), q->index, q->irq);
		return -EPERM;
	}
	if (irqd_is_per_cpu(data) || !irqd_can_balance(data)) {
		pr_warn("%s queue %u (irq %u): the IRQ cannot be moved (per-CPU or no-balancing)\n",
			pci_name(q->dev->pdev), q->index, q->irq);
		return -EPERM;
	}
	return 0;
}

/* The driver's name for the IRQ ("" when it has no handler now). */
static void irq_name(unsigned int irq, char *buf, size_t len)
{
	struct irq_data *data;
	struct irq_desc *desc;
	unsigned long flags;

	buf[0] = '\0';
	data = irq_get_irq_data(irq);
	if (!data)
		return;
	desc = irq_data_to_desc(data);
	raw_spin_lock_irqsave(&desc->lock, flags);
	if (desc->action && desc->action->name)
		strscpy(buf, desc->action->name, len);
	raw_spin_unlock_irqrestore(&desc->lock, flags);
}

void pg_queue_name(struct pg_queue *q, char *buf, size_t len)
{
	irq_name(q->irq, buf, len);
}

static u64 irq_total(unsigned int irq)
{
	struct irq_data *data = irq_get_irq_data(irq);
	struct irq_desc *desc;
	unsigned int cpu;
	u64 sum = 0;

	if (!data)
		return 0;
	desc = irq_data_to_desc(data);
	for_each_possible_cpu(cpu)
		sum += irq_desc_kstat_cpu(desc, cpu);
	return sum;
}

/* Natural order: runs of digits compare as numbers. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit(*a) && isdigit(*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int c;

			while (*a == '0' && isdigit(a[1]))
				a++;
			while (*b == '0' && isdigit(b[1]))
				b++;
			for (ea = a; isdigit(*ea); ea++)
				;
			for (eb = b; isdigit(*eb); eb++)
				;
			la = ea - a;
			lb = eb - b;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = strncmp(a, b, la);
			if (c)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

struct queue_key {
	struct pg_queue *q;
	char name[PG_NAME_LEN];
};

static int queue_key_cmp(const void *pa, const void *pb)
{
	const struct queue_key *a = pa, *b = pb;
	int c;

	/* Named vectors first. */
	if (!a->name[0] != !b->name[0])
		return a->name[0] ? -1 : 1;
	c = natural_cmp(a->name, b->name);
	if (c)
		return c;
	return a->q->msi_index < b->q->msi_index ? -1 :
	       a->q->msi_index > b->q->msi_index;
}

static void pg_queue_release(struct kobject *kobj)
{
	struct pg_queue *q = container_of(kobj, struct pg_queue, kobj);

	kobject_put(&q->dev->kobj);
	kfree(q);
}

static struct pg_queue *to_queue(struct kobject *kobj)
{
	return container_of(kobj, struct pg_queue, kobj);
}

static ssize_t irq_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", to_queue(kobj)->irq);
}

/*
 * Run @fn on a queue that is still present, under pg_queue_lock().
 * -ENODEV when the device was detached or the vector is gone.
 */
static ssize_t with_queue(struct pg_queue *q, char *buf,
			  ssize_t (*fn)(struct pg_queue *q, char *buf))
{
	ssize_t ret = pg_queue_lock(q->dev);

	if (ret)
		return ret;
	ret = pg_queue_present(q) ? fn(q, buf) : -ENODEV;
	pg_queue_unlock(q->dev);
	return ret;
}

static ssize_t do_name(struct pg_queue *q, char *buf)
{
	char name[PG_NAME_LEN];

	pg_queue_name(q, name, sizeof(name));
	return sysfs_emit(buf, "%s\n", name);
}

static ssize_t name_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return with_queue(to_queue(kobj), buf, do_name);
}

static ssize_t do_cpu(struct pg_queue *q, char *buf)
{
	struct irq_data *data = queue_irq_data(q);

	return data ? sysfs_emit(buf, "%*pbl\n",
				 cpumask_pr_args(irq_data_get_affinity_mask(data))) :
		      -ENODEV;
}

static ssize_t cpu_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return with_queue(to_queue(kobj), buf, do_cpu);
}

/* Exactly one CPU number; "0-1", "0,1", "" and garbage are -EINVAL. */
static int parse_one_cpu(const char *buf, unsigned int *cpu)
{
	if (kstrtouint(buf, 10, cpu))
		return -EINVAL;
	if (*cpu >= nr_cpu_ids)
		return -EINVAL;
	return 0;
}

static ssize_t cpu_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	struct pg_queue *q = to_queue(kobj);
	unsigned int cpu;
	int ret;

	ret = parse_one_cpu(buf, &cpu);
	if (ret)
		return ret;
	ret = pg_queue_lock(q->dev);
	if (ret)
		return ret;
	if (!pg_queue_present(q)) {
		ret = -ENODEV;
		goto unlock;
	}
	ret = pg_queue_movable(q);
	if (ret)
		goto unlock;
	cpus_read_lock();
	if (cpu_online(cpu))
		ret = irq_set_affinity(q->irq, cpumask_of(cpu));
	else
		ret = -EINVAL;
	cpus_read_unlock();
unlock:
	pg_queue_unlock(q->dev);
	return ret ? ret : count;
}

static ssize_t do_effective(struct pg_queue *q, char *buf)
{
	struct irq_data *data = queue_irq_data(q);

	return data ? sysfs_emit(buf, "%*pbl\n",
				 cpumask_pr_args(irq_data_get_effective_affinity_mask(data))) :
		      -ENODEV;
}

static ssize_t effective_cpu_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return with_queue(to_queue(kobj), buf, do_effective);
}

/*
 * The x86 MSI address as written to the device: bit 4 says the message is
 * in remappable format (the destination is then in the IOMMU's interrupt
 * remapping table entry), bit 2 selects logical destination mode, bits
 * 19:12 hold the destination ID, bits 11:5 the extended destination ID.
 */
#define PG_MSI_REMAPPABLE	BIT(4)
#define PG_MSI_LOGICAL		BIT(2)
#define PG_MSI_DEST(lo)		(((lo) >> 12) & 0xff)
#define PG_MSI_EXT_DEST(lo)	(((lo) >> 5) & 0x7f)

static ssize_t do_dest(struct pg_queue *q, char *buf, bool verdict)
{
	struct irq_data *data = queue_irq_data(q);
	struct msi_msg msg;
	unsigned int dest;
	bool single;

	if (!data)
		return -ENODEV;
	get_cached_msi_msg(q->irq, &msg);
	dest = PG_MSI_DEST(msg.address_lo) | PG_MSI_EXT_DEST(msg.address_lo) << 8;
	if (msg.address_lo & PG_MSI_REMAPPABLE) {
		/* The kernel programs the IRTE with its one effective CPU. */
		single = cpumask_weight(irq_data_get_effective_affinity_mask(data)) == 1;
		return verdict ? sysfs_emit(buf, "%d\n", single) :
				 sysfs_emit(buf, "remapped\n");
	}
	if (msg.address_lo & PG_MSI_LOGICAL)
		single = hweight8(dest & 0xff) == 1;
	else
		single = dest != 0xff;
	if (verdict)
		return sysfs_emit(buf, "%d\n", single);
	return sysfs_emit(buf, "%s 0x%x vector 0x%x\n",
			  msg.address_lo & PG_MSI_LOGICAL ? "logical" : "physical",
			  dest, msg.data & 0xff);
}

static ssize_t do_single_dest(struct pg_queue *q, char *buf)
{
	return do_dest(q, buf, true);
}

static ssize_t single_dest_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return with_queue(to_queue(kobj), buf, do_single_dest);
}

static ssize_t do_msi_dest(struct pg_queue *q, char *buf)
{
	return do_dest(q, buf, false);
}

static ssize_t msi_dest_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return with_queue(to_queue(kobj), buf, do_msi_dest);
}

static ssize_t do_count(struct pg_queue *q, char *buf)
{
	return sysfs_emit(buf, "%llu\n", irq_total(q->irq) - q->count_base);
}

static ssize_t count_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return with_queue(to_queue(kobj), buf, do_count);
}

static struct kobj_attribute irq_attr = __ATTR_RO(irq);
static struct kobj_attribute name_attr = __ATTR_RO(name);
static struct kobj_attribute cpu_attr = __ATTR_RW(cpu);
static struct kobj_attribute effective_cpu_attr = __ATTR_RO(effective_cpu);
static struct kobj_attribute single_dest_attr = __ATTR_RO(single_dest);
static struct kobj_attribute msi_dest_attr = __ATTR_RO(msi_dest);
static struct kobj_attribute count_attr = __ATTR_RO(count);

static struct attribute *pg_queue_attrs[] = {
	&irq_attr.attr,
	&name_attr.attr,
	&cpu_attr.attr,
	&effective_cpu_attr.attr,
	&single_dest_attr.attr,
	&msi_dest_attr.attr,
	&count_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pg_queue);

static const struct kobj_type pg_queue_ktype = {
	.release = pg_queue_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = pg_queue_groups,
};

static unsigned int count_vectors(struct device *d)
{
	struct msi_desc *desc;
	unsigned int n = 0;

	msi_for_each_desc(desc, d, MSI_DESC_ASSOCIATED)
		n += desc->nvec_used;
	return n;
}

static int fill_keys(struct pg_device *dev, struct queue_key *keys,
		     unsigned int n)
{
	struct device *d = &dev->pdev->dev;
	struct msi_desc *desc;
	unsigned int i = 0, v;

	msi_for_each_desc(desc, d, MSI_DESC_ASSOCIATED) {
		for (v = 0; v < desc->nvec_used && i < n; v++, i++) {
			struct pg_queue *q = kzalloc(sizeof(*q), GFP_KERNEL);

			if (!q)
				return -ENOMEM;
			kobject_init(&q->kobj, &pg_queue_ktype);
			kobject_get(&dev->kobj);
			q->dev = dev;
			q->irq = desc->irq + v;
			q->msi_index = desc->msi_index + v;
			q->count_base = irq_total(q->irq);
			keys[i].q = q;
			irq_name(q->irq, keys[i].name, sizeof(keys[i].name));
		}
	}
	return i == n ? 0 : -EAGAIN;
}

/*
 * Find the device's vectors and order them into dev->queues.  The queues
 * are not in sysfs yet; on error they are released with the device.
 */
int pg_queues_collect(struct pg_device *dev)
{
	struct device *d = &dev->pdev->dev;
	struct queue_key *keys;
	unsigned int n, i;
	int ret;

	pg_msi_lock_descs(d);
	n = count_vectors(d);
	if (!n) {
		pg_msi_unlock_descs(d);
		pr_info("%s: no MSI/MSI-X vectors allocated\n", pci_name(dev->pdev));
		return -ENXIO;
	}
	keys = kvcalloc(n, sizeof(*keys), GFP_KERNEL);
	dev->queues = kcalloc(n, sizeof(*dev->queues), GFP_KERNEL);
	ret = keys && dev->queues ? fill_keys(dev, keys, n) : -ENOMEM;
	pg_msi_unlock_descs(d);

	if (!ret)
		sort(keys, n, sizeof(*keys), queue_key_cmp, NULL);
	/* On error too, so that pg_queues_del() releases what was made. */
	for (i = 0; keys && dev->queues && i < n; i++) {
		if (!keys[i].q)
			continue;
		keys[i].q->index = dev->nr_queues;
		dev->queues[dev->nr_queues++] = keys[i].q;
	}
	kvfree(keys);
	return ret;
}

int pg_queues_add(struct pg_device *dev)
{
	unsigned int i;
	int ret;

	dev->queues_kobj = kobject_create_and_add("queues", &dev->kobj);
	if (!dev->queues_kobj)
		return -ENOMEM;
	for (i = 0; i < dev->nr_queues; i++) {
		ret = kobject_add(&dev->queues[i]->kobj, dev->queues_kobj, "%u", i);
		if (ret) {
			pg_queues_del(dev);
			return ret;
		}
	}
	return 0;
}

/* Remove the queues from sysfs and drop them; handlers have drained after. */
void pg_queues_del(struct pg_device *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_queues; i++) {
		struct pg_queue *q = dev->queues[i];

		if (!q)
			continue;
		if (q->kobj.state_in_sysfs)
			kobject_del(&q->kobj);
		kobject_put(&q->kobj);
		dev->queues[i] = NULL;
	}
	dev->nr_queues = 0;
	kobject_put(dev->queues_kobj);
	dev->queues_kobj = NULL;
}
