/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IRTE observations (pisteer_irte.c) and the store that keeps them
 * (pisteer_irte_store.c).
 */
#ifndef PISTEER_IRTE_H
#define PISTEER_IRTE_H

#include <linux/types.h>

/* What the IOMMU was last told about one host IRQ. */
struct irte_obs {
	bool posted;
	bool amd;
	bool guest_mode;
	bool confirmed;		/* posted is the tracepoint's word */
	unsigned int irq;
	u32 ga_tag;
	u64 pi_addr;
	u64 seq;		/* when: the store's sequence at the call */
	const void *ir_data;	/* AMD: the AMD-IR chip data of the IRQ */
};

/* AMD: the last amd_iommu_update_ga() for one IRTE. */
struct ga_obs {
	const void *ir_data;
	u64 seq;
	bool is_run;
	bool dest_known;
	u32 dest;		/* host APIC ID the IRTE rings */
};

struct seq_file;

int pst_irte_store_init(void);
void pst_irte_store_exit(void);
void pst_irte_store_obs(const struct irte_obs *o, bool from_tp);
void pst_irte_store_ga(const struct ga_obs *g);
bool pst_irte_store_get(unsigned int irq, struct irte_obs *o,
			struct ga_obs *g);
void pst_irte_store_sync(const unsigned int *irqs, unsigned int nr);
void pst_irte_store_show(struct seq_file *m);

#endif /* PISTEER_IRTE_H */
