/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer host module: internal interfaces between its parts.
 */
#ifndef PISTEER_H
#define PISTEER_H

#include <linux/cpumask.h>
#include <linux/types.h>

int pisteer_chrdev_init(void);
void pisteer_chrdev_exit(void);

struct pisteer_policy;
struct pst_vec;

int pisteer_scan(void);
int pisteer_observe(void);
void pisteer_scan_forget(void);

struct kvm;

struct module;
struct file;
struct pisteer_version;

/*
 * A VM found by a scan: its struct kvm and its vendor module (both
 * referenced: a VM outliving its file must not outlive kvm_amd/kvm_intel's
 * code), owner and fd.
 */
struct pisteer_vm_ref {
	struct kvm *kvm;
	struct module *vendor;
	pid_t pid;
	unsigned int fd;
	u64 start;		/* the process's start_boottime */
};

bool pst_vm_ref_take(struct pisteer_vm_ref *r, struct kvm *kvm,
		     struct module *vendor);
void pst_vm_ref_dup(const struct pisteer_vm_ref *r);
void pst_vm_ref_put(const struct pisteer_vm_ref *r);

enum pst_apicv {
	PST_APICV_UNKNOWN,
	PST_APICV_OFF,
	PST_APICV_ON,
};

bool pst_vm_file(struct file *file, struct module **vendor);
enum pst_apicv pst_vm_apicv(struct kvm *kvm, struct module *mod);

/* A guest MSI as the target resolver needs it (pisteer_target.c). */
struct pst_msi {
	u32 dest;
	bool logical;
	u8 delivery_mode;
	u8 vector;
	u16 how;		/* out: PISTEER_TARGET_BY_* */
	u16 why;		/* out: PISTEER_TARGET_UNK_* */
};

enum pst_target {
	PST_TARGET_ONE,
	PST_TARGET_SEVERAL,
	PST_TARGET_NONE,
	PST_TARGET_UNKNOWN,
};

struct kvm_vcpu;

u32 pst_msi_dest_id(u32 lo, u32 hi, bool x2apic_format);
enum pst_target pst_msi_target(struct kvm *kvm, struct pst_msi *m,
			       struct kvm_vcpu **out);
bool pst_msi_postable(const struct pst_msi *m);

/* The interrupt-remapping unit a host IRQ goes through (its irq chip). */
enum pst_ir {
	PST_IR_NONE,
	PST_IR_INTEL,
	PST_IR_AMD,
};

struct irq_data;
enum pst_ir pst_irq_ir_kind(struct irq_data *data);

/* Which VFIO vector a host IRQ is: device and MSI/MSI-X index. */
struct pst_vfio_id {
	u32 index;
	u16 pci_seg;
	u8 pci_bus;
	u8 pci_devfn;
	u8 irq_type;		/* PISTEER_IRQ_MSI or PISTEER_IRQ_MSIX */
};

struct irqaction;

bool pst_symbol_is(const void *addr, const char *name);
bool pst_vfio_action(const struct irqaction *action, struct pst_vfio_id *id);
bool pst_vfio_id_equal(const struct pst_vfio_id *a, const struct pst_vfio_id *b);
int pst_vfio_irq_move(unsigned int irq, const struct pst_vfio_id *id,
		      const struct cpumask *mask, const struct cpumask *expect,
		      struct cpumask *before);

/* The affinity watch (pisteer_affwatch.c). */
struct seq_file;
#define PST_NO_IRQ	UINT_MAX
void pisteer_affwatch_init(void);
void pisteer_affwatch_exit(void);
void pisteer_affwatch_own(unsigned int irq);
void pisteer_affwatch_begin(void);
void pisteer_affwatch_add(unsigned int irq);
void pisteer_affwatch_commit(void);
void pisteer_affwatch_show(struct seq_file *m);

/* The vCPU watch (pisteer_vcpuwatch.c). */
void pisteer_vcpuwatch_init(void);
void pisteer_vcpuwatch_exit(void);
bool pisteer_vcpuwatch_complete(void);
void pisteer_vcpuwatch_begin(void);
void pisteer_vcpuwatch_add(pid_t tid);
void pisteer_vcpuwatch_commit(void);
void pisteer_vcpuwatch_show(struct seq_file *m);
void pisteer_events_kick_now(void);

void pst_host_feature(unsigned int feat, int err);
void pst_host_fill(struct pisteer_version *ver);

struct seq_file;

/* The VM set (pisteer_vmset.c). */
void pisteer_vmset_note_current(void);
void pisteer_vmset_note_release(const void *kvm);
void pisteer_vmset_request_walk(void);
int pisteer_vmset_get(struct pisteer_vm_ref **out, bool *walked);
void pisteer_vmset_drop(void);
void pisteer_vmset_account(bool walked, u64 ns);
void pisteer_vmset_show(struct seq_file *m);
unsigned int pisteer_vmset_count(void);
void pisteer_scan_show(struct seq_file *m);

int pisteer_events_init(void);
void pisteer_events_exit(void);
u64 pisteer_events_missed(void);
bool pisteer_events_complete(u64 *missed);
struct seq_file;
void pisteer_events_show(struct seq_file *m);

void pisteer_steer_apply(struct pst_vec *vecs, unsigned int nr);
void pisteer_steer_report(struct pst_vec *vecs, unsigned int nr);
bool pisteer_steer_following(void);
int pisteer_steer_set_policy(const struct pisteer_policy *req);
void pisteer_steer_clear_policies(void);
int pisteer_steer_set_default(u32 policy);
u32 pisteer_steer_default(void);
int pisteer_steer_set_default_cpus(const struct cpumask *cpus);
void pisteer_steer_default_cpus(struct cpumask *cpus);
void pisteer_steer_exit(void);
void pisteer_events_follow(void);
void pisteer_events_kick_at(u64 when_ns);

struct kvm_vcpu;

void pisteer_irte_init(void);
void pisteer_irte_exit(void);
void pisteer_irte_apply(struct kvm_vcpu *vcpu, struct pst_vec *v);
void pisteer_irte_show(struct seq_file *m);

struct pisteer_lat_ctl;
struct pisteer_lat_read;
struct pisteer_lat_vector;

bool pisteer_lat_active(void);
void pisteer_lat_update(const struct pst_vec *vecs, unsigned int nr);
int pisteer_lat_ctl(const struct pisteer_lat_ctl *req);
int pisteer_lat_read(struct pisteer_lat_read *req,
		     struct pisteer_lat_vector **out);
void pisteer_lat_exit(void);

void pisteer_debugfs_init(void);
void pisteer_debugfs_exit(void);

int pisteer_copy_struct_in(void *dst, size_t ksize, size_t min_size,
			   const void __user *src, u32 *usize);
int pisteer_copy_struct_out(void __user *dst, void *src, size_t ksize,
			    u32 usize);

/* The VM and device of a vector, or of a list or latency-read filter. */
struct pst_match {
	s32 pid;
	u32 pci_seg;
	u8 pci_bus;
	u8 pci_devfn;
};

bool pisteer_filter_match(u32 flags, const struct pst_match *want,
			  const struct pst_match *have);

/* Live objects and references of the module, by kind (pisteer_alloc.c). */
enum pst_count_kind {
	PST_KMALLOC,
	PST_KVMALLOC,
	PST_CPUMASK,
	PST_KVM_REF,
	PST_NR_COUNTS
};

struct kvm;

void *pst_kzalloc(size_t size, gfp_t gfp);
void pst_kfree(const void *p);
void *pst_kvcalloc(size_t n, size_t size, gfp_t gfp);
void *pst_kvmalloc_array(size_t n, size_t size, gfp_t gfp);
void pst_kvfree(const void *p);
bool pst_zalloc_cpumask_var(cpumask_var_t *mask, gfp_t gfp);
void pst_free_cpumask_var(cpumask_var_t mask);
long pst_count(enum pst_count_kind kind);
const char *pst_count_name(enum pst_count_kind kind);

/* What the module keeps between scans, for the allocs debugfs file. */
void pisteer_steer_counts(unsigned int *steered, unsigned int *policies);
void pisteer_lat_counts(unsigned int *stats, unsigned int *vcpus);

#endif /* PISTEER_H */
