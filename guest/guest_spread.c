// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest companion: the device-level files.  "spread" places every
 * queue on its own CPU of a list (1:1, round-robin when queues outnumber
 * CPUs), "map" shows where each queue is, "generation" how many times the
 * vector list was read again.  Each of them reads the vector list (see
 * guest_queue.c) and, once done, waits for the queue directories to
 * follow it, so that a reader that lists queues/ after one of them sees
 * the queues they showed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pisteer_guest.h"
#include "pisteer_guest_compat.h"

static struct pg_device *to_dev(struct kobject *kobj)
{
	return container_of(kobj, struct pg_device, kobj);
}

/*
 * After a device-level handler: the queue directories match the vector
 * list it read.  The device cannot go (its directory is drained first).
 */
static void tree_settle(struct pg_device *dev)
{
	flush_work(&dev->tree_work);
}

static ssize_t spread_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct pg_device *dev = to_dev(kobj);
	ssize_t ret;

	ret = pg_queue_lock(dev);
	if (ret)
		return ret;
	ret = sysfs_emit(buf, "%s\n", dev->spread);
	pg_queue_unlock(dev);
	tree_settle(dev);
	return ret;
}

static ssize_t generation_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct pg_device *dev = to_dev(kobj);
	ssize_t ret;

	ret = pg_queue_lock(dev);
	if (ret)
		return ret;
	ret = sysfs_emit(buf, "%u\n", dev->generation);
	pg_queue_unlock(dev);
	tree_settle(dev);
	return ret;
}

/*
 * "all" (the online CPUs) or a CPU list, blanks around it ignored; else
 * -EINVAL.  @req (PG_SPREAD_LEN bytes) gets the request without the
 * blanks, as it reads back.  Blanks inside it are refused: cpulist_parse()
 * would take them for commas, and the request would read back on several
 * lines.
 */
static int parse_spread(const char *buf, size_t count, struct cpumask *mask,
			char *req)
{
	char *s;

	memcpy(req, buf, count);
	req[count] = '\0';
	s = strim(req);
	if (strpbrk(s, " \t\n\v\f\r"))
		return -EINVAL;
	memmove(req, s, strlen(s) + 1);
	if (!strcmp(req, "all")) {
		cpumask_copy(mask, cpu_online_mask);
		return 0;
	}
	if (cpulist_parse(req, mask) || cpumask_empty(mask))
		return -EINVAL;
	return 0;
}

/* Under pg_queue_lock(): every queue movable, or an error. */
static int check_queues(struct pg_device *dev)
{
	unsigned int i;
	int ret;

	for (i = 0; i < dev->nr_queues; i++) {
		ret = pg_queue_movable(dev, i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Queue i goes to the (i mod n)-th CPU of @mask, n its weight.  Under
 * pg_queue_lock() and cpus_read_lock(); on failure the affinities saved
 * in @old are put back, so that nothing has changed.
 */
static int apply_spread(struct pg_device *dev, const struct cpumask *mask,
			cpumask_var_t *old)
{
	unsigned int i, n = cpumask_weight(mask), cpu;
	int ret = 0;

	for (i = 0; i < dev->nr_queues; i++) {
		struct irq_data *data = irq_get_irq_data(dev->queues[i]->irq);

		if (!data)
			return -ENODEV;
		cpumask_copy(old[i], irq_data_get_affinity_mask(data));
	}
	for (i = 0; i < dev->nr_queues; i++) {
		cpu = cpumask_nth(i % n, mask);
		ret = irq_set_affinity(dev->queues[i]->irq, cpumask_of(cpu));
		if (ret)
			break;
	}
	if (ret) {
		while (i--)
			irq_set_affinity(dev->queues[i]->irq, old[i]);
	}
	return ret;
}

static ssize_t spread_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct pg_device *dev = to_dev(kobj);
	cpumask_var_t mask, *old = NULL;
	char req[PG_SPREAD_LEN];
	unsigned int i, nr = 0;
	int ret;

	if (count >= PG_SPREAD_LEN)
		return -EINVAL;
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	ret = parse_spread(buf, count, mask, req);
	if (ret)
		goto free_mask;
	ret = pg_queue_lock(dev);
	if (ret)
		goto free_mask;
	ret = check_queues(dev);
	if (ret)
		goto unlock;
	nr = dev->nr_queues;
	old = kcalloc(nr, sizeof(*old), GFP_KERNEL);
	for (i = 0; old && i < nr; i++)
		if (!alloc_cpumask_var(&old[i], GFP_KERNEL))
			break;
	if (!old || i < nr) {
		nr = old ? i : 0;
		ret = -ENOMEM;
		goto unlock;
	}
	cpus_read_lock();
	if (!cpumask_subset(mask, cpu_online_mask))
		ret = -EINVAL;
	else
		ret = apply_spread(dev, mask, old);
	cpus_read_unlock();
	if (!ret)
		strscpy(dev->spread, req, sizeof(dev->spread));
unlock:
	pg_queue_unlock(dev);
	tree_settle(dev);
	for (i = 0; i < nr; i++)
		free_cpumask_var(old[i]);
	kfree(old);
free_mask:
	free_cpumask_var(mask);
	return ret ? ret : count;
}

/* One line per queue: number, IRQ, CPU list, effective CPUs, name. */
static ssize_t map_text(struct pg_device *dev, char *out, size_t size)
{
	char name[PG_NAME_LEN];
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < dev->nr_queues; i++) {
		struct pg_vec *vec = dev->queues[i];
		struct irq_data *data = irq_get_irq_data(vec->irq);

		if (!data) {
			len += scnprintf(out + len, size - len, "%u %u - - -\n",
					 i, vec->irq);
			continue;
		}
		pg_vec_name(vec, name, sizeof(name));
		len += scnprintf(out + len, size - len, "%u %u %*pbl %*pbl %s\n",
				 i, vec->irq,
				 cpumask_pr_args(irq_data_get_affinity_mask(data)),
				 cpumask_pr_args(irq_data_get_effective_affinity_mask(data)),
				 name[0] ? name : "-");
	}
	return len;
}

static ssize_t map_read(struct file *file, struct kobject *kobj,
			PG_BIN_ATTR_CONST struct bin_attribute *attr, char *buf,
			loff_t off, size_t count)
{
	struct pg_device *dev = to_dev(kobj);
	char *text = NULL;
	size_t size;
	ssize_t len;

	len = pg_queue_lock(dev);
	if (len)
		return len;
	/* A line is at most two CPU lists, a name and some numbers. */
	size = dev->nr_queues * (2 * 6 * nr_cpu_ids / 2 + PG_NAME_LEN + 32) + 1;
	text = kvmalloc(size, GFP_KERNEL);
	len = text ? map_text(dev, text, size) : -ENOMEM;
	pg_queue_unlock(dev);
	tree_settle(dev);
	if (len >= 0)
		len = memory_read_from_buffer(buf, count, &off, text, len);
	kvfree(text);
	return len;
}

static struct kobj_attribute spread_attr = __ATTR_RW(spread);
static struct kobj_attribute generation_attr = __ATTR_RO(generation);
static PG_BIN_ATTR_CONST struct bin_attribute map_attr =
	__BIN_ATTR(map, 0444, map_read, NULL, 0);

static struct attribute *pg_device_attrs[] = {
	&spread_attr.attr,
	&generation_attr.attr,
	NULL,
};

static PG_BIN_ATTR_CONST struct bin_attribute *PG_BIN_ATTR_CONST pg_device_bin_attrs[] = {
	&map_attr,
	NULL,
};

const struct attribute_group pg_device_group = {
	.attrs = pg_device_attrs,
	.bin_attrs = pg_device_bin_attrs,
};
