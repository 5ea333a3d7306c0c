// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: the queues of an attached device, one per
 * MSI/MSI-X vector, and their sysfs files.
 *
 * Queues are numbered in the natural order of the driver's IRQ names
 * ("eth0", "eth0-rx-0", "eth0-tx-0"; "mlx5_comp2" before "mlx5_comp10"),
 * then by vector index for vectors without a name, so that the numbers
 * stay the same from boot to boot whatever IRQ numbers the vectors get.
 *
 * A driver frees and allocates its vectors again when it is reset, changes
 * its channel count or interrupt mode, or (some drivers) when its
 * interface goes up.  No notifier tells of that, so every handler reads
 * the device's MSI descriptors first (pg_queue_lock()) and compares them
 * with the vector list it has: a vector whose IRQ descriptor is another
 * (a reference on each listed one keeps a new vector from getting its
 * address) or a vector that has got a name since makes it read the list
 * again, in queue order, and count one more generation.  That costs a walk
 * of the descriptors per read, and is exact: the comparison runs under the
 * MSI descriptor lock, so the list it passes is the device's.  The queues/
 * directories then follow from a work item (pg_tree_work()).
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

/* The current vector of queue @q, under pg_queue_lock(); NULL when none. */
static struct pg_vec *queue_vec(struct pg_queue *q)
{
	return q->index < q->dev->nr_queues ? q->dev->queues[q->index] : NULL;
}

static int vectors_check(struct pg_device *dev);

/*
 * Take the device's lock and its MSI descriptor lock, and bring the vector
 * list up to date: while they are held the device stays attached and its
 * vectors allocated.  -ENODEV once the device is detached.
 */
int pg_queue_lock(struct pg_device *dev)
{
	int ret;

	mutex_lock(&dev->lock);
	if (dev->dead) {
		mutex_unlock(&dev->lock);
		return -ENODEV;
	}
	pg_msi_lock_descs(&dev->pdev->dev);
	ret = vectors_check(dev);
	if (ret) {
		pg_msi_unlock_descs(&dev->pdev->dev);
		mutex_unlock(&dev->lock);
	}
	return ret;
}

void pg_queue_unlock(struct pg_device *dev)
{
	pg_msi_unlock_descs(&dev->pdev->dev);
	mutex_unlock(&dev->lock);
}

/* Under pg_queue_lock(): 0, or -EPERM (and why, in the log). */
int pg_queue_movable(struct pg_device *dev, unsigned int index)
{
	struct pg_vec *vec = dev->queues[index];
	struct irq_data *data = irq_get_irq_data(vec->irq);

	if (!data)
		return -ENODEV;
	if (irqd_affinity_is_managed(data)) {
		pr_warn("%s queue %u (irq %u): affinity is managed by the kernel (the driver spread its vectors with PCI_IRQ_AFFINITY); it cannot be changed\n",
			pci_name(dev->pdev), index, vec->irq);
		return -EPERM;
	}
	if (irqd_is_per_cpu(data) || !irqd_can_balance(data)) {
		pr_warn("%s queue %u (irq %u): the IRQ cannot be moved (per-CPU or no-balancing)\n",
			pci_name(dev->pdev), index, vec->irq);
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

void pg_vec_name(const struct pg_vec *vec, char *buf, size_t len)
{
	irq_name(vec->irq, buf, len);
}

/* Interrupts the vector took; it may have been freed (see pg_vec). */
static u64 vec_total(const struct pg_vec *vec)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		sum += irq_desc_kstat_cpu(vec->desc, cpu);
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
	struct pg_vec *vec;
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
	return a->vec->msi_index < b->vec->msi_index ? -1 :
	       a->vec->msi_index > b->vec->msi_index;
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

/*
 * Run @fn on the queue's current vector, under pg_queue_lock().  -ENODEV
 * when the device was detached or has fewer queues now.
 */
static ssize_t with_queue(struct pg_queue *q, char *buf,
			  ssize_t (*fn)(struct pg_vec *vec, char *buf))
{
	ssize_t ret = pg_queue_lock(q->dev);
	struct pg_vec *vec;

	if (ret)
		return ret;
	vec = queue_vec(q);
	ret = vec ? fn(vec, buf) : -ENODEV;
	pg_queue_unlock(q->dev);
	return ret;
}

static ssize_t do_irq(struct pg_vec *vec, char *buf)
{
	return sysfs_emit(buf, "%u\n", vec->irq);
}

static ssize_t irq_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return with_queue(to_queue(kobj), buf, do_irq);
}

static ssize_t do_name(struct pg_vec *vec, char *buf)
{
	char name[PG_NAME_LEN];

	pg_vec_name(vec, name, sizeof(name));
	return sysfs_emit(buf, "%s\n", name);
}

static ssize_t name_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return with_queue(to_queue(kobj), buf, do_name);
}

static ssize_t do_cpu(struct pg_vec *vec, char *buf)
{
	struct irq_data *data = irq_get_irq_data(vec->irq);

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
	struct pg_vec *vec;
	unsigned int cpu;
	int ret;

	ret = parse_one_cpu(buf, &cpu);
	if (ret)
		return ret;
	ret = pg_queue_lock(q->dev);
	if (ret)
		return ret;
	vec = queue_vec(q);
	if (!vec) {
		ret = -ENODEV;
		goto unlock;
	}
	ret = pg_queue_movable(q->dev, q->index);
	if (ret)
		goto unlock;
	cpus_read_lock();
	if (cpu_online(cpu))
		ret = irq_set_affinity(vec->irq, cpumask_of(cpu));
	else
		ret = -EINVAL;
	cpus_read_unlock();
unlock:
	pg_queue_unlock(q->dev);
	return ret ? ret : count;
}

static ssize_t do_effective(struct pg_vec *vec, char *buf)
{
	struct irq_data *data = irq_get_irq_data(vec->irq);

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

static ssize_t do_dest(struct pg_vec *vec, char *buf, bool verdict)
{
	struct irq_data *data = irq_get_irq_data(vec->irq);
	struct msi_msg msg;
	unsigned int dest;
	bool single;

	if (!data)
		return -ENODEV;
	get_cached_msi_msg(vec->irq, &msg);
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

static ssize_t do_single_dest(struct pg_vec *vec, char *buf)
{
	return do_dest(vec, buf, true);
}

static ssize_t single_dest_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return with_queue(to_queue(kobj), buf, do_single_dest);
}

static ssize_t do_msi_dest(struct pg_vec *vec, char *buf)
{
	return do_dest(vec, buf, false);
}

static ssize_t msi_dest_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return with_queue(to_queue(kobj), buf, do_msi_dest);
}

/* Never below @base: the vector is the one whose total @base was. */
static ssize_t do_count(struct pg_vec *vec, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vec_total(vec) - vec->base);
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

/* Under the MSI descriptor lock: the IRQ descriptor of a listed vector. */
static struct irq_desc *vec_desc(unsigned int irq)
{
	struct irq_data *data = irq_get_irq_data(irq);

	return data ? irq_data_to_desc(data) : NULL;
}

/*
 * Under pg_queue_lock(): is the vector list still the device's?  Not when
 * a vector was freed or allocated (another IRQ descriptor, or another
 * number of them), nor when one that had no name has got one (the queue
 * order is by name).
 */
static bool vectors_current(struct pg_device *dev)
{
	char name[PG_NAME_LEN];
	struct msi_desc *desc;
	unsigned int i = 0, v;

	msi_for_each_desc(desc, &dev->pdev->dev, MSI_DESC_ASSOCIATED) {
		for (v = 0; v < desc->nvec_used; v++, i++) {
			struct pg_vec *vec;

			if (i >= dev->nr_queues)
				return false;
			vec = &dev->vecs[i];
			if (vec->irq != desc->irq + v ||
			    vec->desc != vec_desc(vec->irq))
				return false;
			if (!vec->named) {
				irq_name(vec->irq, name, sizeof(name));
				if (name[0])
					return false;
			}
		}
	}
	return i == dev->nr_queues;
}

/* The listed vector with IRQ descriptor @desc, or NULL. */
static struct pg_vec *find_vec(struct pg_device *dev, struct irq_desc *desc)
{
	unsigned int i;

	for (i = 0; i < dev->nr_queues; i++)
		if (dev->vecs[i].desc == desc)
			return &dev->vecs[i];
	return NULL;
}

static unsigned int count_vectors(struct device *d)
{
	struct msi_desc *desc;
	unsigned int n = 0;

	msi_for_each_desc(desc, d, MSI_DESC_ASSOCIATED)
		n += desc->nvec_used;
	return n;
}

/*
 * Fill @vecs (@n of them) and @keys from the MSI descriptors; a vector
 * listed already keeps its base, a new one counts from its allocation
 * (it took every one of its interrupts after the attach).
 */
static int fill_vecs(struct pg_device *dev, struct pg_vec *vecs,
		     struct queue_key *keys, unsigned int n, bool at_attach)
{
	struct msi_desc *desc;
	unsigned int i = 0, v;

	msi_for_each_desc(desc, &dev->pdev->dev, MSI_DESC_ASSOCIATED) {
		for (v = 0; v < desc->nvec_used && i < n; v++, i++) {
			struct pg_vec *vec = &vecs[i], *old;

			vec->irq = desc->irq + v;
			vec->msi_index = desc->msi_index + v;
			vec->desc = vec_desc(vec->irq);
			if (!vec->desc)
				return -ENODEV;
			pg_irq_desc_hold(vec->desc);
			old = at_attach ? NULL : find_vec(dev, vec->desc);
			vec->base = at_attach ? vec_total(vec) : old ? old->base : 0;
			irq_name(vec->irq, keys[i].name, sizeof(keys[i].name));
			vec->named = keys[i].name[0];
			keys[i].vec = vec;
		}
	}
	return i == n ? 0 : -EAGAIN;
}

static void put_vecs(struct pg_vec *vecs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vecs[i].desc)
			pg_irq_desc_put(vecs[i].desc);
	kfree(vecs);
}

/*
 * Under dev->lock and the MSI descriptor lock: read the device's vectors
 * into the vector list, in queue order.  On error the list is as it was.
 */
static int read_vectors(struct pg_device *dev, bool at_attach)
{
	unsigned int n = count_vectors(&dev->pdev->dev), i;
	struct pg_vec *vecs = NULL, **queues = NULL;
	struct queue_key *keys = NULL;
	int ret = 0;

	if (n) {
		vecs = kcalloc(n, sizeof(*vecs), GFP_KERNEL);
		queues = kcalloc(n, sizeof(*queues), GFP_KERNEL);
		keys = kvcalloc(n, sizeof(*keys), GFP_KERNEL);
		ret = vecs && queues && keys ? fill_vecs(dev, vecs, keys, n, at_attach) :
					       -ENOMEM;
	}
	if (ret) {
		if (vecs)
			put_vecs(vecs, n);
		kfree(queues);
		kvfree(keys);
		return ret;
	}
	sort(keys, n, sizeof(*keys), queue_key_cmp, NULL);
	for (i = 0; i < n; i++)
		queues[i] = keys[i].vec;
	kvfree(keys);

	pg_vectors_free(dev);
	dev->vecs = vecs;
	dev->queues = queues;
	dev->nr_queues = n;
	return 0;
}

/*
 * At attach, with the device not yet in sysfs: take its vector list.
 * -ENXIO when it has no vectors.
 */
int pg_vectors_read(struct pg_device *dev)
{
	struct device *d = &dev->pdev->dev;
	int ret;

	mutex_lock(&dev->lock);
	pg_msi_lock_descs(d);
	ret = count_vectors(d) ? read_vectors(dev, true) : -ENXIO;
	pg_msi_unlock_descs(d);
	mutex_unlock(&dev->lock);
	if (ret == -ENXIO)
		pr_info("%s: no MSI/MSI-X vectors allocated\n", pci_name(dev->pdev));
	return ret;
}

/*
 * Under dev->lock and the MSI descriptor lock, the device attached: read
 * the vector list again if the driver changed its vectors; when the number
 * of queues changed, have the queue directories follow.
 */
static int vectors_check(struct pg_device *dev)
{
	unsigned int was = dev->nr_queues;
	int ret;

	if (vectors_current(dev))
		return 0;
	ret = read_vectors(dev, false);
	if (ret)
		return ret;
	dev->generation++;
	pr_debug("%s: vectors changed, %u queue(s) now (generation %u)\n",
		 pci_name(dev->pdev), dev->nr_queues, dev->generation);
	if (dev->nr_queues != was)
		schedule_work(&dev->tree_work);
	return 0;
}

/* Drop the vector list (the device's lock held, or the device unused). */
void pg_vectors_free(struct pg_device *dev)
{
	if (dev->vecs)
		put_vecs(dev->vecs, dev->nr_queues);
	kfree(dev->queues);
	dev->vecs = NULL;
	dev->queues = NULL;
	dev->nr_queues = 0;
}

static void del_qobj(struct pg_queue *q)
{
	if (q->kobj.state_in_sysfs)
		kobject_del(&q->kobj);
	kobject_put(&q->kobj);
}

/*
 * Under tree_lock: one directory queues/<n>/ for each queue the vector
 * list has now (none once the device is detached).  The handlers of the
 * directories removed drain: dev->lock is not held here.
 */
int pg_queues_sync(struct pg_device *dev)
{
	struct pg_queue **more, *q;
	unsigned int want;
	int ret;

	lockdep_assert_held(&dev->tree_lock);
	mutex_lock(&dev->lock);
	want = dev->dead ? 0 : dev->nr_queues;
	mutex_unlock(&dev->lock);

	if (!dev->queues_kobj) {
		dev->queues_kobj = kobject_create_and_add("queues", &dev->kobj);
		if (!dev->queues_kobj)
			return -ENOMEM;
	}
	while (dev->nr_qobjs > want) {
		q = dev->qobjs[--dev->nr_qobjs];
		dev->qobjs[dev->nr_qobjs] = NULL;
		del_qobj(q);
	}
	if (want > dev->max_qobjs) {
		more = krealloc_array(dev->qobjs, want, sizeof(*more), GFP_KERNEL);
		if (!more)
			return -ENOMEM;
		dev->qobjs = more;
		dev->max_qobjs = want;
	}
	while (dev->nr_qobjs < want) {
		q = kzalloc(sizeof(*q), GFP_KERNEL);
		if (!q)
			return -ENOMEM;
		kobject_init(&q->kobj, &pg_queue_ktype);
		kobject_get(&dev->kobj);
		q->dev = dev;
		q->index = dev->nr_qobjs;
		ret = kobject_add(&q->kobj, dev->queues_kobj, "%u", q->index);
		if (ret) {
			kobject_put(&q->kobj);
			return ret;
		}
		dev->qobjs[dev->nr_qobjs++] = q;
	}
	return 0;
}

/* After the vector list changed: the queue directories follow it. */
void pg_tree_work(struct work_struct *work)
{
	struct pg_device *dev = container_of(work, struct pg_device, tree_work);
	int ret;

	mutex_lock(&dev->tree_lock);
	ret = pg_queues_sync(dev);
	mutex_unlock(&dev->tree_lock);
	if (ret)
		pr_warn("%s: queue directories not updated: error %d\n",
			pci_name(dev->pdev), ret);
}

/*
 * Under tree_lock, the device dead and tree_work cancelled: remove the
 * queue directories and drop them; their handlers have drained after.
 */
void pg_queues_del(struct pg_device *dev)
{
	while (dev->nr_qobjs) {
		struct pg_queue *q = dev->qobjs[--dev->nr_qobjs];

		dev->qobjs[dev->nr_qobjs] = NULL;
		del_qobj(q);
	}
	kobject_put(dev->queues_kobj);
	dev->queues_kobj = NULL;
}
