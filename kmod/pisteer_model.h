/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model: one record per passthrough vector, the only place the module
 * keeps what it knows of a vector.
 *
 * A scan fills a record in this order: the host IRQ (discover.c's IRQ
 * walk), the VM and the guest's route, target and delivery (discover.c's
 * join, target.c), what the IOMMU was told (irte.c), and then the policy
 * and steering (steer.c, reconcile or report).  The model
 * (pisteer_model.c) keeps the last scan's records, emits the tracepoints
 * for what changed, and is what the ioctls and debugfs copy out of.  The
 * uapi struct pisteer_vector is filled in one place, pst_vec_export(); no
 * other file of the module writes one.
 */
#ifndef PISTEER_MODEL_H
#define PISTEER_MODEL_H

#include <linux/bitmap.h>
#include <linux/pisteer.h>
#include <linux/types.h>

#include "pisteer.h"

/* The CPUs a record's host IRQ affinity can name (the uapi's limit). */
#define PST_AFFINITY_BITS	(PISTEER_AFFINITY_WORDS * 64)

/* The VM a vector feeds: with the host IRQ, the record's key. */
struct pst_vec_vm {
	pid_t pid;
	u32 fd;
	u64 start;		/* the VMM's start_boottime */
};

/* The host IRQ VFIO requested for the vector. */
struct pst_vec_host {
	unsigned int irq;
	struct pst_vfio_id dev;
	enum pst_ir ir;
	int effective_cpu;	/* -1: none */
	DECLARE_BITMAP(affinity, PST_AFFINITY_BITS);
};

/*
 * The guest's side: its irqfd and the MSI route of its GSI (the fields
 * after @paired stay zero when the GSI is no MSI route; dlv.reason then
 * says so).
 */
struct pst_vec_route {
	u32 gsi;
	bool paired;		/* irq-bypass producer paired */
	bool logical;
	bool redir_hint;
	u8 vector;
	u8 delivery_mode;
	u32 addr_lo;
	u32 addr_hi;
	u32 data;
	u32 dest_id;
};

/* The vCPU the guest MSI names and the host CPU its thread is on. */
struct pst_vec_target {
	int vcpu;		/* vcpu_idx, -1: none single or unknown */
	bool unknown;		/* the module cannot tell: see @why */
	u16 how;		/* PISTEER_TARGET_BY_* */
	u16 why;		/* PISTEER_TARGET_UNK_* */
	pid_t tid;
	int pcpu;
	int pinned_cpu;		/* -1: not pinned to one CPU */
	unsigned int nr_allowed;
};

/* How the vector reaches the guest, and what the IOMMU was seen told. */
struct pst_vec_delivery {
	u8 mode;		/* PISTEER_MODE_* */
	u16 reason;		/* PISTEER_REASON_* */
	bool inferred;		/* by KVM's rules, no IRTE update seen */
	bool apicv_unknown;
	u32 pi_flags;		/* PISTEER_PI_F_* */
	u32 pi_ndst;
	u32 pi_ndst_expected;
	u32 pi_ga_tag;
};

/* The vector's policy and what reconcile did with its host IRQ. */
struct pst_vec_steer {
	u32 policy;		/* PISTEER_POLICY_* as set, or the default's */
	bool by_default;
	u32 applied;		/* what it came to (auto resolved) */
	u32 why;		/* PISTEER_WHY_* */
	int cpu;		/* -1: not moved by pisteer */
	u32 moves;
	u32 overridden;
};

/**
 * struct pst_vec - the model's record of one passthrough vector
 * @vm: the VM (key, with @host.irq)
 * @host: the host IRQ
 * @route: the guest route
 * @target: the target vCPU
 * @dlv: the delivery mode
 * @steer: policy and steering
 * @trigger: the vector's eventfd_ctx, compared and never followed
 * @vcpu_id: the target's struct kvm_vcpu, compared and never followed
 *	(latency sampling's key); NULL when there is no single target
 */
struct pst_vec {
	struct pst_vec_vm vm;
	struct pst_vec_host host;
	struct pst_vec_route route;
	struct pst_vec_target target;
	struct pst_vec_delivery dlv;
	struct pst_vec_steer steer;
	const void *trigger;
	const void *vcpu_id;
};

void pst_vec_export(const struct pst_vec *v, struct pisteer_vector *out);

void pst_model_commit(struct pst_vec *vecs, unsigned int nr);
int pst_model_export(u32 flags, const struct pst_match *want,
		     struct pisteer_vector **out, unsigned int *nr);
unsigned int pst_model_count(void);
void pst_model_exit(void);

#endif /* PISTEER_MODEL_H */
