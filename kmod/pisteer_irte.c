// SPDX-License-Identifier: GPL-2.0
/*
 * IRTE observation: what the IOMMU was last told about each host IRQ.
 *
 * KVM switches a passthrough vector between posted and remapped delivery
 * through irq_set_vcpu_affinity() (vmx_pi_update_irte, avic_pi_update_irte,
 * and on 6.12 their common kvm_pi_update_irte): a non-NULL vcpu_info
 * means "post to this vCPU", NULL means "back to remapped".  A return probe
 * takes the arguments at its entry and records them per IRQ only when the
 * call succeeded, decoding the request after the call: the IOMMU driver
 * may refuse (amd_ir_set_vcpu_affinity() returns -EINVAL without vAPIC)
 * or clear the AMD is_guest_mode flag when it cannot post, so what is
 * recorded is what the IOMMU did, not what KVM asked.  Nothing in the call
 * is changed.  A scan then reports the mode as observed instead of
 * inferred and, for VT-d, reads the posted-interrupt descriptor's control
 * word (ON, SN, NDST).
 *
 * On AMD the IRTE itself carries what the descriptor carries on Intel: the
 * host APIC ID to ring and IsRun.  KVM sets both through
 * amd_iommu_update_ga(apic_id or -1, is_run, ir_data) at every load and
 * put of a vCPU with posted IRQs (avic_update_iommu_vcpu_affinity); a
 * second probe records its arguments per ir_data, the AMD-IR irq_data's
 * chip_data of the host IRQ, and a scan reports the last one seen after
 * the IRQ was posted.  The probe fires only on AVIC hosts with posted
 * vectors.
 *
 * From 6.17 on KVM also emits kvm:kvm_pi_irte_update after the IOMMU
 * accepted a change, with the target vCPU or NULL: where that tracepoint
 * exists, its word decides posted or remapped (PISTEER_PI_F_CONFIRMED),
 * and the probe on irq_set_vcpu_affinity adds the addresses.  The argument
 * layouts per kernel are in compat/posted.h.
 *
 * Not verified on a host that posts: the rig's emulated IOMMUs cannot, so
 * none of these is called there.  Written from the 6.1, 6.12 and 7.3
 * sources (struct vcpu_data / intel_iommu_pi_data, struct
 * amd_iommu_pi_data, amd_iommu_update_ga, amd_iommu_activate_guest_mode,
 * the AMD-IR chip, the VT-d PI descriptor layout: control word at byte 32,
 * ON bit 0, SN bit 1, NDST bits 63:32, in xAPIC mode the APIC ID in bits
 * 15:8 of NDST).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/amd-iommu.h>
#include <linux/irq.h>
#include <linux/kprobes.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/pisteer.h>
#include <linux/seq_file.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <asm/apic.h>
#include <asm/irq_remapping.h>
#include <asm/processor.h>
#include <asm/smp.h>

#include "pisteer.h"
#include "pisteer_irte.h"
#include "pisteer_model.h"
#include "compat/compat.h"

#define AMD_IR_CHIP	"AMD-IR"	/* amd_ir_chip.name, 6.1 and 6.12 */
#define PI_CONTROL_OFFSET	32	/* VT-d PI descriptor: bits 319:256 */
#define PI_ON			BIT_ULL(0)
#define PI_SN			BIT_ULL(1)

static bool probe_registered, ga_probe_registered;

/*
 * The AMD-IR level of @irq's interrupt hierarchy holds its amd_ir_data,
 * the handle KVM later passes to amd_iommu_update_ga(); NULL if none.
 */
static const void *amd_ir_data(unsigned int irq)
{
	struct irq_data *d;

	for (d = irq_get_irq_data(irq); d; d = d->parent_data)
		if (d->chip && d->chip->name && !strcmp(d->chip->name, AMD_IR_CHIP))
			return d->chip_data;
	return NULL;
}

/* irq_set_vcpu_affinity(unsigned int irq, void *vcpu_info): its arguments. */
struct vcpu_aff_call {
	unsigned int irq;
	void *info;		/* KVM's request, on its stack until the call returns */
};

static int set_vcpu_affinity_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct vcpu_aff_call *c = (struct vcpu_aff_call *)ri->data;

	c->irq = regs_get_kernel_argument(regs, 0);
	c->info = (void *)regs_get_kernel_argument(regs, 1);
	return 0;
}

/* Its return: record what the IOMMU took, if it took anything. */
static int on_set_vcpu_affinity(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct vcpu_aff_call *c = (const struct vcpu_aff_call *)ri->data;
	unsigned int irq = c->irq;
	void *info = c->info;
	struct irte_obs o = { .irq = irq };
	enum pst_ir kind = pst_irq_ir_kind(irq_get_irq_data(irq));
	struct pst_pi_req r;

	/* Refused: the IRTE is as it was. */
	if (regs_return_value(regs))
		return 0;
	/* The layout of @info is the remapping unit's, not the CPU's. */
	if (info && kind == PST_IR_INTEL) {
		if (!pst_read_intel_pi(info, &r))
			return 0;
		o.posted = true;
		o.pi_addr = r.addr;
	} else if (info && kind == PST_IR_AMD) {
		if (!pst_read_amd_pi(info, &r))
			return 0;
		o.amd = true;
		o.posted = r.guest_mode;
		o.guest_mode = r.guest_mode;
		o.ga_tag = r.ga_tag;
		o.pi_addr = r.addr;
		o.ir_data = amd_ir_data(irq);
	} else if (info) {
		return 0;	/* a remapping unit whose layout is not known */
	}
	pst_irte_store_obs(&o, false);
	return 0;
}

/* Entry of amd_iommu_update_ga() (and, 6.17+, activate_guest_mode()). */
static int on_update_ga(struct kprobe *p, struct pt_regs *regs)
{
	struct pst_ga_update u;
	struct ga_obs g = { };

	pst_read_update_ga(regs, &u);
	if (!u.ir_data)
		return 0;
	g.ir_data = u.ir_data;
	g.is_run = u.is_run;
	if (u.apic_id >= 0) {	/* -1: destination left as it was */
		g.dest = u.apic_id;
		g.dest_known = true;
	}
	pst_irte_store_ga(&g);
	return 0;
}

static struct kretprobe irte_probe = {
	.kp.symbol_name = "irq_set_vcpu_affinity",
	.entry_handler = set_vcpu_affinity_entry,
	.handler = on_set_vcpu_affinity,
	.data_size = sizeof(struct vcpu_aff_call),
};

static struct kprobe ga_probe = {
	.symbol_name = "amd_iommu_update_ga",
	.pre_handler = on_update_ga,
};

#if PST_HAVE_ACTIVATE_GA_DEST
static struct kprobe ga_activate_probe = {
	.symbol_name = "amd_iommu_activate_guest_mode",
	.pre_handler = on_update_ga,
};

static bool ga_activate_registered;
#endif

#if PST_HAVE_PI_IRTE_TP
/* kvm:kvm_pi_irte_update: the IOMMU took the change. */
static void on_pi_irte_update(void *data, unsigned int host_irq,
			      struct kvm_vcpu *vcpu, unsigned int gsi,
			      unsigned int gvec, bool set)
{
	struct irte_obs o = { .irq = host_irq };

	o.posted = set && vcpu;
	o.confirmed = true;
	pst_irte_store_obs(&o, true);
}

static struct tracepoint *pi_irte_tp;

static void tp_visit(struct module *mod, bool coming)
{
	unsigned int i;

	if (!coming) {
		if (pi_irte_tp && within_module((unsigned long)pi_irte_tp, mod)) {
			tracepoint_probe_unregister(pi_irte_tp,
						    (void *)on_pi_irte_update, NULL);
			pi_irte_tp = NULL;
			pst_host_feature(PISTEER_HOST_PI_IRTE_TP, -ENOENT);
		}
		return;
	}
	if (pi_irte_tp || strcmp(mod->name, "kvm"))
		return;
	for (i = 0; i < mod->num_tracepoints; i++) {
		struct tracepoint *tp = tracepoint_ptr_deref(&mod->tracepoints_ptrs[i]);
		int ret;

		if (strcmp(tp->name, "kvm_pi_irte_update"))
			continue;
		ret = tracepoint_probe_register(tp, (void *)on_pi_irte_update, NULL);
		if (!ret)
			pi_irte_tp = tp;
		pst_host_feature(PISTEER_HOST_PI_IRTE_TP, ret);
		return;
	}
}

/* Module tracepoints come and go with kvm.ko: follow it. */
static int tp_module_cb(struct notifier_block *nb, unsigned long val, void *data)
{
	struct tp_module *tp_mod = data;

	if (val == MODULE_STATE_COMING || val == MODULE_STATE_GOING)
		tp_visit(tp_mod->mod, val == MODULE_STATE_COMING);
	return NOTIFY_OK;
}

static struct notifier_block tp_nb = { .notifier_call = tp_module_cb };
static bool tp_nb_registered;

static void pi_irte_tp_init(void)
{
	int ret = register_tracepoint_module_notifier(&tp_nb);

	if (ret) {
		pst_host_feature(PISTEER_HOST_PI_IRTE_TP, ret);
		return;
	}
	tp_nb_registered = true;
	if (!pi_irte_tp)
		pst_host_feature(PISTEER_HOST_PI_IRTE_TP, -ENOENT);
}

static void pi_irte_tp_exit(void)
{
	if (tp_nb_registered)
		unregister_tracepoint_module_notifier(&tp_nb);
	tp_nb_registered = false;
	if (pi_irte_tp)
		tracepoint_probe_unregister(pi_irte_tp, (void *)on_pi_irte_update, NULL);
	pi_irte_tp = NULL;
	tracepoint_synchronize_unregister();
}
#else
static void pi_irte_tp_init(void)
{
	pst_host_feature(PISTEER_HOST_PI_IRTE_TP, -EOPNOTSUPP);
}

static void pi_irte_tp_exit(void)
{
}
#endif

/* The NDST KVM writes for @cpu: the APIC ID, shifted in xAPIC mode. */
static u32 ndst_for_cpu(int cpu)
{
	u32 id = per_cpu(x86_cpu_to_apicid, cpu);

	return x2apic_mode ? id : (id << 8) & 0xff00;
}

/*
 * Read the VT-d PI descriptor at @addr, but only inside the memory of
 * @vcpu (struct vcpu_vmx begins with the kvm_vcpu and holds pi_desc): an
 * address anywhere else is reported, not read.  The caller holds a
 * reference on the VM, so the vCPU and its descriptor are alive.
 */
static bool read_pi_control(struct kvm_vcpu *vcpu, u64 addr, u64 *control)
{
	phys_addr_t start = virt_to_phys(vcpu);

	if (addr < start || addr + PI_CONTROL_OFFSET + 8 > start + ksize(vcpu))
		return false;
	*control = READ_ONCE(*(u64 *)((u8 *)vcpu + (addr - start) +
				      PI_CONTROL_OFFSET));
	return true;
}

/*
 * The destination the IOMMU rings for @v, as read (@dest): note it, and
 * whether it names the host CPU the target vCPU last ran on, in the
 * encoding of @amd (a plain APIC ID) or VT-d (NDST).
 */
static void report_dest(struct pst_vec *v, u32 dest, bool amd)
{
	struct pst_vec_delivery *d = &v->dlv;
	int cpu = v->target.pcpu;

	d->pi_flags |= PISTEER_PI_F_READ;
	d->pi_ndst = dest;
	if (cpu < 0 || cpu >= nr_cpu_ids)
		return;
	d->pi_ndst_expected = amd ? per_cpu(x86_cpu_to_apicid, cpu) :
				    ndst_for_cpu(cpu);
	if (d->pi_ndst == d->pi_ndst_expected)
		d->pi_flags |= PISTEER_PI_F_NDST_MATCH;
}

/* AMD: IsRun and the doorbell destination the IRTE was last given. */
static void apply_ga(const struct ga_obs *g, struct pst_vec *v)
{
	if (!g->ir_data)
		return;
	v->dlv.pi_flags |= PISTEER_PI_F_GA_SEEN;
	if (g->is_run)
		v->dlv.pi_flags |= PISTEER_PI_F_IS_RUNNING;
	if (g->dest_known)
		report_dest(v, g->dest, true);
}

/**
 * pisteer_irte_apply() - add what was observed of @v's IRTE, if anything
 * @vcpu: the vector's target vCPU, or NULL
 * @v: the record; its delivery (mode, reason, pi_*) is updated
 */
void pisteer_irte_apply(struct kvm_vcpu *vcpu, struct pst_vec *v)
{
	struct pst_vec_delivery *d = &v->dlv;
	struct irte_obs o;
	struct ga_obs g;
	u64 control;

	if (!pst_irte_store_get(v->host.irq, &o, &g))
		return;

	d->inferred = false;
	d->pi_flags |= PISTEER_PI_F_OBSERVED;
	if (o.confirmed)
		d->pi_flags |= PISTEER_PI_F_CONFIRMED;
	if (!o.posted) {
		d->mode = PISTEER_MODE_REMAPPED;
		return;
	}
	d->mode = PISTEER_MODE_POSTED;
	d->reason = PISTEER_REASON_NONE;
	/* The address stays in here: it is only ever compared and read. */
	if (o.pi_addr)
		d->pi_flags |= PISTEER_PI_F_ADDR_KNOWN;
	if (o.amd) {
		d->pi_flags |= PISTEER_PI_F_AMD | PISTEER_PI_F_GUEST_MODE;
		d->pi_ga_tag = o.ga_tag;
		apply_ga(&g, v);
		return;
	}
	d->pi_flags |= PISTEER_PI_F_INTEL;
	if (!vcpu || !read_pi_control(vcpu, o.pi_addr, &control))
		return;
	if (control & PI_ON)
		d->pi_flags |= PISTEER_PI_F_ON;
	if (control & PI_SN)
		d->pi_flags |= PISTEER_PI_F_SN;
	report_dest(v, control >> 32, false);
}

/* debugfs pisteer/irte. */
void pisteer_irte_show(struct seq_file *m)
{
	seq_printf(m, "irte_probe %s\nga_probe %s\n",
		   probe_registered ? "registered" : "absent",
		   ga_probe_registered ? "registered" : "absent");
	pst_irte_store_show(m);
}

static void ga_init(void)
{
	int ret;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pst_host_feature(PISTEER_HOST_GA_PROBE, -EOPNOTSUPP);
		return;
	}
	ret = register_kprobe(&ga_probe);
	pst_host_feature(PISTEER_HOST_GA_PROBE, ret);
	if (ret) {
		pr_info("not watching amd_iommu_update_ga (%d): AVIC IsRun not reported\n",
			ret);
		return;
	}
	ga_probe_registered = true;
#if PST_HAVE_ACTIVATE_GA_DEST
	if (!register_kprobe(&ga_activate_probe))
		ga_activate_registered = true;
#endif
}

void pisteer_irte_init(void)
{
	int ret;

	pst_irte_store_init();
	ret = register_kretprobe(&irte_probe);

	pst_host_feature(PISTEER_HOST_IRTE_PROBE, ret);
	if (ret)
		pr_info("not watching irq_set_vcpu_affinity (%d): posted modes are inferred only\n",
			ret);
	else
		probe_registered = true;
	ga_init();
	pi_irte_tp_init();
}

void pisteer_irte_exit(void)
{
	pi_irte_tp_exit();
#if PST_HAVE_ACTIVATE_GA_DEST
	if (ga_activate_registered)
		unregister_kprobe(&ga_activate_probe);
	ga_activate_registered = false;
#endif
	if (ga_probe_registered)
		unregister_kprobe(&ga_probe);
	if (probe_registered)
		unregister_kretprobe(&irte_probe);
	probe_registered = false;
	ga_probe_registered = false;
	pst_irte_store_exit();
}
