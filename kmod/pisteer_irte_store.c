// SPDX-License-Identifier: GPL-2.0
/*
 * The IRTE store: what the probes of pisteer_irte.c observed, per host IRQ
 * (struct irte_obs) and, on AMD, per IRTE (struct ga_obs, keyed by the
 * AMD-IR chip data of the IRQ).
 *
 * The probes run in whatever context KVM calls the IOMMU from, often with
 * interrupts off, so they never allocate: an observation of an IRQ not
 * seen before takes a node from a free pool, which process context (every
 * scan, through pst_irte_store_sync()) keeps at twice the host's VFIO
 * vectors plus a margin.  When the pool is empty the observation is
 * dropped and counted (debugfs pisteer/irte, one warning); the vector's
 * mode is then inferred, as without the probe.  Nodes hang in chained hash
 * buckets, so nothing but the pool bounds how many IRQs are observed.
 *
 * Each hold of the raw store lock is one lookup, one insert or one
 * bucket's worth of work; the sync walks the buckets one hold at a time
 * and finds each IRQ among the live ones by binary search.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bsearch.h>
#include <linux/hash.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "pisteer.h"
#include "pisteer_irte.h"

#define STORE_BITS	10
#define STORE_BUCKETS	BIT(STORE_BITS)
#define POOL_MARGIN	64	/* free nodes beyond two per VFIO vector */

struct irte_node {
	struct hlist_node link;
	u64 gen;		/* GA: the last sync that found it in use */
	union {
		struct irte_obs obs;
		struct ga_obs ga;
	};
};

static DEFINE_RAW_SPINLOCK(store_lock);	/* everything below */
static struct hlist_head obs_tab[STORE_BUCKETS];
static struct hlist_head ga_tab[STORE_BUCKETS];
static HLIST_HEAD(pool);
static unsigned int nr_obs, nr_ga, nr_free;
static u64 store_seq, sync_gen, drops;

static DEFINE_MUTEX(sync_lock);		/* one sync (or exit) at a time */

static struct hlist_head *obs_bucket(unsigned int irq)
{
	return &obs_tab[hash_32(irq, STORE_BITS)];
}

static struct hlist_head *ga_bucket(const void *ir_data)
{
	return &ga_tab[hash_ptr(ir_data, STORE_BITS)];
}

/* Caller holds store_lock. */
static struct irte_node *find_obs(unsigned int irq)
{
	struct irte_node *n;

	hlist_for_each_entry(n, obs_bucket(irq), link)
		if (n->obs.irq == irq)
			return n;
	return NULL;
}

/* Caller holds store_lock. */
static struct irte_node *find_ga(const void *ir_data)
{
	struct irte_node *n;

	hlist_for_each_entry(n, ga_bucket(ir_data), link)
		if (n->ga.ir_data == ir_data)
			return n;
	return NULL;
}

/* A free node into @bucket, or NULL (counted) when none is left. */
static struct irte_node *take(struct hlist_head *bucket)
{
	struct irte_node *n;

	if (hlist_empty(&pool)) {
		drops++;
		return NULL;
	}
	n = hlist_entry(pool.first, struct irte_node, link);
	hlist_del(&n->link);
	nr_free--;
	hlist_add_head(&n->link, bucket);
	return n;
}

/* Caller holds store_lock. */
static void give_back(struct irte_node *n)
{
	hlist_del(&n->link);
	hlist_add_head(&n->link, &pool);
	nr_free++;
}

static void warn_drop(bool dropped)
{
	if (dropped)
		pr_warn_once("IRTE observation dropped (no free node): that vector's mode is inferred until the next scan\n");
}

/**
 * pst_irte_store_obs() - keep what the IOMMU was told about @o->irq
 * @o: the observation; its seq is set here
 * @from_tp: from kvm:kvm_pi_irte_update: it confirms posted, and keeps the
 *	addresses an earlier probe hit recorded
 *
 * Context: any but NMI; takes the raw store lock, never allocates.
 */
void pst_irte_store_obs(const struct irte_obs *o, bool from_tp)
{
	struct irte_node *n;
	unsigned long flags;
	bool dropped = false;

	raw_spin_lock_irqsave(&store_lock, flags);
	n = find_obs(o->irq);
	if (n && from_tp) {
		n->obs.posted = o->posted;
		n->obs.confirmed = true;
	} else if (n) {
		n->obs = *o;
	} else {
		n = take(obs_bucket(o->irq));
		if (n) {
			n->obs = *o;
			nr_obs++;
		}
		dropped = !n;
	}
	if (n)
		n->obs.seq = ++store_seq;
	raw_spin_unlock_irqrestore(&store_lock, flags);
	warn_drop(dropped);
}

/**
 * pst_irte_store_ga() - keep an amd_iommu_update_ga() of @g->ir_data
 * @g: what it set; a destination not known leaves the one seen before
 *
 * Context: any but NMI; takes the raw store lock, never allocates.
 */
void pst_irte_store_ga(const struct ga_obs *g)
{
	struct irte_node *n;
	unsigned long flags;
	bool dropped = false;

	raw_spin_lock_irqsave(&store_lock, flags);
	n = find_ga(g->ir_data);
	if (!n) {
		n = take(ga_bucket(g->ir_data));
		if (n) {
			n->ga = (struct ga_obs){ .ir_data = g->ir_data };
			nr_ga++;
		}
		dropped = !n;
	}
	if (n) {
		n->gen = sync_gen;
		n->ga.seq = ++store_seq;
		n->ga.is_run = g->is_run;
		if (g->dest_known) {
			n->ga.dest = g->dest;
			n->ga.dest_known = true;
		}
	}
	raw_spin_unlock_irqrestore(&store_lock, flags);
	warn_drop(dropped);
}

/**
 * pst_irte_store_get() - what was observed of @irq's IRTE
 * @irq: the host IRQ
 * @o: set to its observation
 * @g: set to the GA update of its IRTE made after it, if any (else zeroed)
 *
 * Return: false when nothing was observed of @irq.
 */
bool pst_irte_store_get(unsigned int irq, struct irte_obs *o, struct ga_obs *g)
{
	struct irte_node *n, *gn;
	unsigned long flags;

	*g = (struct ga_obs){ };
	raw_spin_lock_irqsave(&store_lock, flags);
	n = find_obs(irq);
	if (n) {
		*o = n->obs;
		gn = o->ir_data ? find_ga(o->ir_data) : NULL;
		/* Only an update after this IRQ was posted speaks of its IRTE. */
		if (gn && gn->ga.seq > o->seq)
			*g = gn->ga;
	}
	raw_spin_unlock_irqrestore(&store_lock, flags);
	return n;
}

static int cmp_irq(const void *key, const void *elt)
{
	unsigned int a = *(const unsigned int *)key, b = *(const unsigned int *)elt;

	return a < b ? -1 : a > b;
}

/* Free or allocate pool nodes, one lock hold each, until @want are free. */
static void pool_resize(unsigned int want)
{
	struct irte_node *n;
	unsigned long flags;

	for (;;) {
		n = NULL;
		raw_spin_lock_irqsave(&store_lock, flags);
		if (nr_free > want && !hlist_empty(&pool)) {
			n = hlist_entry(pool.first, struct irte_node, link);
			hlist_del(&n->link);
			nr_free--;
		} else if (nr_free == want) {
			raw_spin_unlock_irqrestore(&store_lock, flags);
			return;
		}
		raw_spin_unlock_irqrestore(&store_lock, flags);
		if (n) {
			pst_kfree(n);
			continue;
		}
		n = pst_kzalloc(sizeof(*n), GFP_KERNEL);
		if (!n)
			return;	/* fewer free nodes: drops are counted */
		raw_spin_lock_irqsave(&store_lock, flags);
		hlist_add_head(&n->link, &pool);
		nr_free++;
		raw_spin_unlock_irqrestore(&store_lock, flags);
	}
}

/**
 * pst_irte_store_sync() - forget what no VFIO vector has any more
 * @irqs: the host IRQs of the VFIO vectors a scan found, sorted ascending
 * @nr: their number
 *
 * Drops the observations of other IRQs and the GA updates of IRTEs no
 * kept observation has (an IRQ VFIO freed, whose number may be reused),
 * then sizes the free pool for @nr vectors.
 *
 * Context: process; may sleep.
 */
void pst_irte_store_sync(const unsigned int *irqs, unsigned int nr)
{
	struct irte_node *n, *gn;
	struct hlist_node *tmp;
	unsigned long flags;
	unsigned int b, used;
	u64 gen;

	mutex_lock(&sync_lock);
	raw_spin_lock_irqsave(&store_lock, flags);
	gen = ++sync_gen;
	raw_spin_unlock_irqrestore(&store_lock, flags);

	for (b = 0; b < STORE_BUCKETS; b++) {
		raw_spin_lock_irqsave(&store_lock, flags);
		hlist_for_each_entry_safe(n, tmp, &obs_tab[b], link) {
			if (!bsearch(&n->obs.irq, irqs, nr, sizeof(*irqs), cmp_irq)) {
				give_back(n);
				nr_obs--;
				continue;
			}
			gn = n->obs.ir_data ? find_ga(n->obs.ir_data) : NULL;
			if (gn)
				gn->gen = gen;
		}
		raw_spin_unlock_irqrestore(&store_lock, flags);
	}
	/* A GA update newer than this sync's start has gen == gen too. */
	for (b = 0; b < STORE_BUCKETS; b++) {
		raw_spin_lock_irqsave(&store_lock, flags);
		hlist_for_each_entry_safe(n, tmp, &ga_tab[b], link) {
			if (n->gen == gen)
				continue;
			give_back(n);
			nr_ga--;
		}
		raw_spin_unlock_irqrestore(&store_lock, flags);
	}

	raw_spin_lock_irqsave(&store_lock, flags);
	used = nr_obs + nr_ga;
	raw_spin_unlock_irqrestore(&store_lock, flags);
	pool_resize(max_t(unsigned int, POOL_MARGIN,
			  2 * nr + POOL_MARGIN > used ? 2 * nr + POOL_MARGIN - used : 0));
	mutex_unlock(&sync_lock);
}

/**
 * pst_irte_store_show() - the store's counts, for debugfs pisteer/irte
 * @m: the seq_file
 */
void pst_irte_store_show(struct seq_file *m)
{
	unsigned int o, g, f;
	unsigned long flags;
	u64 d;

	raw_spin_lock_irqsave(&store_lock, flags);
	o = nr_obs;
	g = nr_ga;
	f = nr_free;
	d = drops;
	raw_spin_unlock_irqrestore(&store_lock, flags);
	seq_printf(m, "observed_irqs %u\nga_irtes %u\nfree_nodes %u\ndrops %llu\n",
		   o, g, f, (unsigned long long)d);
}

/**
 * pst_irte_store_init() - fill the pool before any probe is registered
 *
 * Return: 0; with no memory the pool starts smaller (drops are counted).
 */
int pst_irte_store_init(void)
{
	mutex_lock(&sync_lock);
	pool_resize(POOL_MARGIN);
	mutex_unlock(&sync_lock);
	return 0;
}

/**
 * pst_irte_store_exit() - free every node; the probes are unregistered
 */
void pst_irte_store_exit(void)
{
	unsigned int b;

	mutex_lock(&sync_lock);
	for (b = 0; b < STORE_BUCKETS; b++) {
		struct irte_node *n;
		struct hlist_node *tmp;
		unsigned long flags;

		raw_spin_lock_irqsave(&store_lock, flags);
		hlist_for_each_entry_safe(n, tmp, &obs_tab[b], link)
			give_back(n);
		hlist_for_each_entry_safe(n, tmp, &ga_tab[b], link)
			give_back(n);
		raw_spin_unlock_irqrestore(&store_lock, flags);
	}
	nr_obs = 0;
	nr_ga = 0;
	pool_resize(0);
	mutex_unlock(&sync_lock);
}
