// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the IRTE store (kmod/pisteer_irte_store.c), in the kernel
 * with its real locks and allocator: the store's code is compiled into
 * this module, so loading it touches nothing of pisteer.ko or of any IRQ.
 * Results are KTAP lines in the kernel log; the module loads (0) whatever
 * they say, and selftests/vm/irte_store.sh reads them.
 *
 * What no rig can show otherwise (its IOMMUs never post, so the probes
 * that fill the store never fire there): more IRQs than the old fixed
 * 256-slot table held, drops counted once the pool is empty, forgetting
 * the IRQs VFIO freed and the GA updates no kept IRQ has, the pool sized
 * from the vector count, and the GA sequence rule.
 */

/* First: the store defines pr_fmt before any header does. */
#include "pisteer_irte_store.c"

#include <linux/module.h>

/* The store allocates through pisteer.ko's counted helpers: count here. */
static atomic_t live = ATOMIC_INIT(0);

void *pst_kzalloc(size_t size, gfp_t gfp)
{
	void *p = kzalloc(size, gfp);

	if (p)
		atomic_inc(&live);
	return p;
}

void pst_kfree(const void *p)
{
	if (p)
		atomic_dec(&live);
	kfree(p);
}

static unsigned int nr_tests, nr_failed;

static void check(bool ok, const char *what)
{
	nr_tests++;
	if (!ok)
		nr_failed++;
	pr_info("%sok %u %s\n", ok ? "" : "not ", nr_tests, what);
}

static void counts(unsigned int *o, unsigned int *g, unsigned int *f, u64 *d)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&store_lock, flags);
	*o = nr_obs;
	*g = nr_ga;
	*f = nr_free;
	*d = drops;
	raw_spin_unlock_irqrestore(&store_lock, flags);
}

#define MANY	1000	/* more IRQs than the 256 slots the store replaced */
#define PLAN	12

static int __init store_test_init(void)
{
	static unsigned int irqs[MANY];
	struct irte_obs o = { }, got;
	struct ga_obs g = { }, gg;
	unsigned int i, nobs, nga, nfree, ok;
	u64 ndrops;

	pr_info("KTAP version 1\n");
	pr_info("1..%d\n", PLAN);
	pst_irte_store_init();
	counts(&nobs, &nga, &nfree, &ndrops);
	check(nfree == POOL_MARGIN && !nobs && !ndrops,
	      "a fresh store has the margin free and nothing observed");

	/* A scan that found MANY vectors sizes the pool for them. */
	for (i = 0; i < MANY; i++)
		irqs[i] = 100 + i;
	pst_irte_store_sync(irqs, MANY);
	counts(&nobs, &nga, &nfree, &ndrops);
	check(nfree == 2 * MANY + POOL_MARGIN,
	      "the pool holds two nodes per vector plus the margin");

	for (i = 0; i < MANY; i++) {
		o = (struct irte_obs){ .irq = irqs[i], .posted = true, .ga_tag = i,
				       .ir_data = (void *)(0x1000UL + 64 * i) };
		pst_irte_store_obs(&o, false);
		g = (struct ga_obs){ .ir_data = o.ir_data, .is_run = i & 1,
				     .dest_known = true, .dest = i };
		pst_irte_store_ga(&g);
	}
	counts(&nobs, &nga, &nfree, &ndrops);
	check(nobs == MANY && nga == MANY && !ndrops,
	      "1000 IRQs and their IRTEs are kept, none dropped");

	for (ok = 1, i = 0; i < MANY; i++)
		if (!pst_irte_store_get(irqs[i], &got, &gg) || got.ga_tag != i ||
		    gg.dest != i || gg.is_run != (i & 1))
			ok = 0;
	check(ok, "each IRQ reads back its own observation and GA update");

	/* A newer posting of the IRQ hides the GA update made before it. */
	o = (struct irte_obs){ .irq = irqs[7], .posted = true,
			       .ir_data = (void *)(0x1000UL + 64 * 7) };
	pst_irte_store_obs(&o, false);
	check(pst_irte_store_get(irqs[7], &got, &gg) && !gg.ir_data,
	      "a GA update older than the IRQ's posting is not reported");

	o = (struct irte_obs){ .irq = irqs[8], .posted = false };
	pst_irte_store_obs(&o, true);
	check(pst_irte_store_get(irqs[8], &got, &gg) && got.confirmed &&
	      !got.posted && got.ga_tag == 8,
	      "the tracepoint's word confirms and keeps the probe's details");

	check(!pst_irte_store_get(5, &got, &gg), "an IRQ never observed reads as nothing");

	/* VFIO freed all but the first ten: the rest and their IRTEs go. */
	pst_irte_store_sync(irqs, 10);
	counts(&nobs, &nga, &nfree, &ndrops);
	check(nobs == 10 && nga == 10, "a sync forgets the IRQs VFIO freed and their GA updates");
	check(nfree == 2 * 10 + POOL_MARGIN - 20, "the pool shrinks to the vectors left");
	check(!pst_irte_store_get(irqs[10], &got, &gg) && pst_irte_store_get(irqs[9], &got, &gg),
	      "a forgotten IRQ reads as nothing, a kept one still reads");

	/* Empty the pool: what does not fit is dropped and counted. */
	for (i = 0; i < nfree + 5; i++) {
		o = (struct irte_obs){ .irq = 5000 + i };
		pst_irte_store_obs(&o, false);
	}
	counts(&nobs, &nga, &nfree, &ndrops);
	check(ndrops == 5 && !nfree, "with the pool empty, observations are dropped and counted");

	pst_irte_store_exit();
	check(!atomic_read(&live), "exit frees every node");
	pr_info("# %u passed, %u failed\n", nr_tests - nr_failed, nr_failed);
	return 0;
}

static void __exit store_test_exit(void)
{
}

module_init(store_test_init);
module_exit(store_test_exit);
MODULE_DESCRIPTION("pisteer: unit test of the IRTE store");
MODULE_LICENSE("GPL");
