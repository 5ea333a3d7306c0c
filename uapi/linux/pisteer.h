/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pisteer: steering of passthrough-device interrupts to KVM vCPUs.
 *
 * User-space interface of the host module, through the misc device
 * /dev/pisteer (mode 0600).  Every ioctl requires CAP_SYS_ADMIN.
 *
 * Extensible structs: every argument struct starts with a __u32 @size that
 * the caller sets to sizeof() of the struct it was built with.  The module
 * accepts any @size from the struct's first published size (its _SIZE_VER0)
 * up to 4096 bytes: bytes it does not know must be zero (else -E2BIG), bytes
 * the caller did not pass count as zero.  On return @size holds how many
 * bytes the module wrote back (the smaller of the two struct sizes), so a
 * new tool can tell an old module's answer apart.  Ioctl numbers carry no
 * size for the same reason (as VFIO's do not).
 */
#ifndef _UAPI_LINUX_PISTEER_H
#define _UAPI_LINUX_PISTEER_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define PISTEER_DEVICE_NAME	"pisteer"

/* Incompatible changes bump the major, additions the minor. */
#define PISTEER_ABI_MAJOR	0
#define PISTEER_ABI_MINOR	9

#define PISTEER_IOC_MAGIC	0xB9

/**
 * struct pisteer_version - argument of %PISTEER_IOC_VERSION
 * @size: in: sizeof(struct pisteer_version) as the caller knows it;
 *	out: the number of bytes the module filled in
 * @abi_major: %PISTEER_ABI_MAJOR of the module
 * @abi_minor: %PISTEER_ABI_MINOR of the module
 * @flags: must be zero
 * @features: PISTEER_FEAT_* bits: what this module can do
 * @release: the module's release string, NUL-terminated
 * @host_active: ABI 0.7: PISTEER_HOST_* bits: which of the kernel's
 *	mechanisms the module uses on this host
 * @host_err: ABI 0.7: per PISTEER_HOST_* bit number, why that mechanism is
 *	not in use: 0 when it is, else a negative errno: -ENOENT the kernel
 *	has no such symbol or tracepoint (or hides it from modules),
 *	-EOPNOTSUPP it does not apply to this kernel or CPU, -ENODATA not
 *	known until a VM exists, anything else what registering it returned
 * @kernel: ABI 0.7: the release of the running kernel (utsname), the
 *	one the module was built for
 * @probes_missed: ABI 0.7: hits of the module's return probes that the
 *	kernel dropped for want of an instance (a change that shows only at
 *	the next scan); 0 on a healthy host
 */
struct pisteer_version {
	__u32 size;
	__u32 abi_major;
	__u32 abi_minor;
	__u32 flags;
	__aligned_u64 features;
	char release[32];
	/* ABI 0.7 */
	__aligned_u64 host_active;
	__s32 host_err[16];
	char kernel[64];
	__aligned_u64 probes_missed;
};

#define PISTEER_VERSION_SIZE_VER0	56
#define PISTEER_VERSION_SIZE_VER1	200	/* ABI 0.7: host_*, kernel, probes_missed */

/*
 * PISTEER_HOST_*: bit numbers of struct pisteer_version.host_active and
 * indices of host_err: what the module found it can use on this kernel.
 *  VM_FILES: VMs are found as KVM's "kvm-vm" anonymous-inode files owned
 *   by kvm_intel/kvm_amd (always: no KVM-internal symbol is needed).
 *  EVENT_PROBES: the return probes on kvm_irqfd, kvm_set_irq_routing,
 *   kvm_irqfd_release and vfio_pci_set_irqs_ioctl that trigger rescans.
 *  IRTE_PROBE: the probe on irq_set_vcpu_affinity (posted/remapped as KVM
 *   asked the IOMMU).
 *  GA_PROBE: AMD: the probe on amd_iommu_update_ga (IsRun, doorbell).
 *  PI_IRTE_TP: the kvm:kvm_pi_irte_update tracepoint (6.17+: emitted
 *   after the IOMMU accepted a change).
 *  APICV_PARAM: whether APICv/AVIC is on, read from the vendor module's
 *   parameter (kvm_intel enable_apicv, kvm_amd avic) of a VM seen.
 *  LAT_PROBES: the latency sampling probes on vfio_msihandler and the
 *   vendor's vcpu_run (tried when sampling is enabled).
 */
#define PISTEER_HOST_VM_FILES		0
#define PISTEER_HOST_EVENT_PROBES	1
#define PISTEER_HOST_IRTE_PROBE		2
#define PISTEER_HOST_GA_PROBE		3
#define PISTEER_HOST_PI_IRTE_TP		4
#define PISTEER_HOST_APICV_PARAM	5
#define PISTEER_HOST_LAT_PROBES		6
#define PISTEER_HOST_NR			7

/* PISTEER_FEAT_*: struct pisteer_version.features */
#define PISTEER_FEAT_LIST_VECTORS	_BITULL(0)	/* PISTEER_IOC_LIST_VECTORS */
#define PISTEER_FEAT_STEER		_BITULL(1)	/* PISTEER_IOC_SET_POLICY */
/* ABI 0.5: the housekeeping and auto policies, struct pisteer_policy.cpus */
#define PISTEER_FEAT_STEER_AUTO		_BITULL(2)
/* ABI 0.5: PISTEER_IOC_LAT_CTL and PISTEER_IOC_LAT_READ */
#define PISTEER_FEAT_LATENCY		_BITULL(3)

/**
 * define PISTEER_IOC_VERSION - the module's ABI version and features
 *
 * Argument: struct pisteer_version.  Errors: -EPERM without CAP_SYS_ADMIN,
 * -EFAULT for a bad pointer, -EINVAL for a @size below
 * %PISTEER_VERSION_SIZE_VER0 or non-zero @flags, -E2BIG for a @size above
 * 4096 or unknown trailing bytes that are not zero.
 */
#define PISTEER_IOC_VERSION	_IO(PISTEER_IOC_MAGIC, 0x00)

/* struct pisteer_vector.irq_type */
#define PISTEER_IRQ_MSI		1
#define PISTEER_IRQ_MSIX	2

/* struct pisteer_vector.mode: how the device's message reaches the vCPU */
#define PISTEER_MODE_UNKNOWN	0
#define PISTEER_MODE_REMAPPED	1	/* host IRQ -> VFIO -> irqfd -> injection */
#define PISTEER_MODE_POSTED	2	/* the IOMMU posts into the vCPU's PI/vAPIC */

/* struct pisteer_vector.reason: why a vector is remapped (or unknown) */
#define PISTEER_REASON_NONE		0
#define PISTEER_REASON_NO_APICV		1	/* host APICv/AVIC absent or disabled */
#define PISTEER_REASON_APICV_INHIBITED	2	/* APICv inhibited for this VM */
#define PISTEER_REASON_NOT_SINGLE_DEST	3	/* guest MSI names no single vCPU */
#define PISTEER_REASON_IOMMU_NO_POSTING	4	/* IOMMU cannot post interrupts */
#define PISTEER_REASON_NOT_PAIRED	5	/* no irq-bypass pairing yet */
#define PISTEER_REASON_NOT_MSI_ROUTE	6	/* the GSI is not an MSI route */
/* ABI 0.7 */
#define PISTEER_REASON_NOT_POSTABLE	7	/* neither fixed nor lowest priority */
#define PISTEER_REASON_APICV_UNKNOWN	8	/* the host does not say whether APICv/AVIC is on */
#define PISTEER_REASON_TARGET_UNKNOWN	9	/* the module cannot tell the target vCPU */

/* struct pisteer_vector.flags */
#define PISTEER_VEC_F_PAIRED		_BITULL(0)	/* irq-bypass producer paired */
#define PISTEER_VEC_F_DEST_LOGICAL	_BITULL(1)	/* guest MSI logical destination */
#define PISTEER_VEC_F_REDIR_HINT	_BITULL(2)	/* guest MSI redirection hint */
/* mode read off host state: no IRTE posted/remapped transition observed */
#define PISTEER_VEC_F_MODE_INFERRED	_BITULL(3)
/*
 * ABI 0.7: which interrupt-remapping unit the host IRQ goes through (its
 * irq chip), which decides how posting works: VT-d posts whatever a VM's
 * APICv inhibits say, AMD's GA mode only for a vCPU with APICv active.
 */
#define PISTEER_VEC_F_IR_INTEL		_BITULL(4)
#define PISTEER_VEC_F_IR_AMD		_BITULL(5)
/*
 * ABI 0.9: @policy is the module's default (its parameter default_policy):
 * no policy was set for this vector's IRQ, device or VM.
 */
#define PISTEER_VEC_F_POLICY_DEFAULT	_BITULL(6)

/* struct pisteer_vector.pi_flags: the posted-interrupt state (see there) */
#define PISTEER_PI_F_OBSERVED	_BITUL(0)	/* an IRTE update of this IRQ was seen */
#define PISTEER_PI_F_INTEL	_BITUL(1)	/* VT-d posting: to a PI descriptor */
#define PISTEER_PI_F_AMD	_BITUL(2)	/* AMD GA mode: to a vAPIC page */
/* pi_ndst valid: Intel: the descriptor was read (ON, SN too); AMD: see GA_SEEN */
#define PISTEER_PI_F_READ	_BITUL(3)
#define PISTEER_PI_F_ON		_BITUL(4)	/* Intel: outstanding notification */
#define PISTEER_PI_F_SN		_BITUL(5)	/* Intel: suppress notification */
#define PISTEER_PI_F_NDST_MATCH	_BITUL(6)	/* pi_ndst names the vCPU's host CPU */
#define PISTEER_PI_F_GUEST_MODE	_BITUL(7)	/* AMD: the IRTE is in guest (GA) mode */
/* ABI 0.6: AMD: KVM's last IsRun/destination update of the IRTE was seen */
#define PISTEER_PI_F_GA_SEEN	_BITUL(8)
#define PISTEER_PI_F_IS_RUNNING	_BITUL(9)	/* AMD: that update set IsRun */
/* ABI 0.7: the mode is what KVM reported after the IOMMU took it (6.17+) */
#define PISTEER_PI_F_CONFIRMED	_BITUL(10)
/* ABI 0.7: the IOMMU was given a descriptor/vAPIC address (not shown) */
#define PISTEER_PI_F_ADDR_KNOWN	_BITUL(11)

#define PISTEER_AFFINITY_WORDS	16	/* CPUs 0..1023 */

/**
 * struct pisteer_vector - one passthrough vector: a VFIO MSI/MSI-X vector
 *	whose eventfd is consumed by a KVM irqfd
 * @host_irq: Linux IRQ number of the vector on the host
 * @pci_seg: PCI segment (domain) of the device
 * @pci_bus: PCI bus
 * @pci_devfn: PCI device and function, (dev << 3) | fn
 * @irq_type: %PISTEER_IRQ_MSI or %PISTEER_IRQ_MSIX
 * @mode: PISTEER_MODE_*
 * @index: MSI/MSI-X vector index within the device
 * @vm_pid: process that holds the VM (its file descriptor)
 * @vm_fd: that VM file descriptor; "vm_pid-vm_fd" is the VM's id, the same
 *	name KVM gives the VM's directory in debugfs
 * @gsi: the irqfd's GSI in the VM
 * @msi_addr_lo: guest MSI address, low 32 bits, as routed by the VMM
 * @msi_addr_hi: guest MSI address, high 32 bits
 * @msi_data: guest MSI data
 * @dest_id: guest destination APIC ID
 * @guest_vector: guest interrupt vector
 * @delivery_mode: guest delivery mode (0 fixed, 1 lowest priority, ...)
 * @reason: PISTEER_REASON_* for a remapped or unknown vector
 * @vcpu: index of the one vCPU the MSI targets, or -1 (none or several)
 * @vcpu_tid: thread id of that vCPU, 0 when unknown
 * @vcpu_pcpu: host CPU of that vCPU's thread (where it ran last, or where the
 *	scheduler just moved it), else the CPU KVM last loaded it on; -1
 *	when unknown
 * @vcpu_nr_allowed: number of CPUs that vCPU's thread may run on
 * @irq_effective_cpu: host CPU the host IRQ is delivered to, -1 unknown
 * @reserved: zero
 * @flags: PISTEER_VEC_F_*
 * @irq_affinity: the host IRQ's affinity mask, bit n = CPU n
 * @pi_addr: always 0 since ABI 0.7: no kernel or physical address leaves
 *	the module; %PISTEER_PI_F_ADDR_KNOWN says that the IOMMU was given the
 *	target vCPU's VT-d posted-interrupt descriptor (Intel) or AVIC
 *	backing page (AMD) when the IRTE was last seen set to posting
 * @pi_ndst: Intel: the descriptor's notification destination, read when
 *	the vectors were listed; AMD: the host APIC ID the IRTE's doorbell
 *	destination was last set to by KVM (amd_iommu_update_ga); valid with
 *	%PISTEER_PI_F_READ
 * @pi_ndst_expected: the value of @pi_ndst that names the host CPU the
 *	target vCPU last ran on (Intel: NDST encoding, AMD: its APIC ID);
 *	%PISTEER_PI_F_NDST_MATCH when equal
 * @pi_ga_tag: AMD: the GA tag (VM and vCPU) the IRTE was given
 * @pi_flags: PISTEER_PI_F_*; none of this has been verified on a host with
 *	posting hardware before a release note says otherwise
 * @vcpu_pinned_cpu: the one CPU the target vCPU's thread may run on, or -1
 * @policy: PISTEER_POLICY_* in force for this vector (0: none); ABI 0.9:
 *	with %PISTEER_VEC_F_POLICY_DEFAULT in @flags, the module's default
 * @steer_cpu: the CPU pisteer last put the host IRQ on, or -1
 * @steer_moves: how many times pisteer moved this host IRQ
 * @policy_applied: what @policy came to for this vector: the same policy,
 *	or for %PISTEER_POLICY_AUTO the one auto chose (%PISTEER_POLICY_FOLLOW,
 *	%PISTEER_POLICY_HOUSEKEEPING, or %PISTEER_POLICY_NONE: nothing to do)
 * @policy_why: PISTEER_WHY_*: why auto chose @policy_applied
 * @unknown: ABI 0.7: PISTEER_UNK_* bits: fields this module cannot tell on
 *	this host; they read as unknown (-1, 0), never as a guess
 * @target_how: ABI 0.7: PISTEER_TARGET_BY_*: how @vcpu was found
 * @target_why: ABI 0.7: with %PISTEER_UNK_TARGET, PISTEER_TARGET_UNK_*:
 *	why the target vCPU cannot be told
 * @vm_start: ABI 0.7: start time of process @vm_pid, in ns since boot (the
 *	starttime of /proc/PID/stat, in ns): with @vm_pid, an identity no
 *	later process with the same pid shares
 * @steer_overridden: ABI 0.8: how many times the host IRQ was found moved
 *	off @steer_cpu by someone else (an admin, irqbalance) since pisteer
 *	first moved it; each time the policy was applied again
 * @reserved2: zero
 */
struct pisteer_vector {
	__u32 host_irq;
	__u32 pci_seg;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u8 irq_type;
	__u8 mode;
	__u32 index;
	__s32 vm_pid;
	__u32 vm_fd;
	__u32 gsi;
	__u32 msi_addr_lo;
	__u32 msi_addr_hi;
	__u32 msi_data;
	__u32 dest_id;
	__u8 guest_vector;
	__u8 delivery_mode;
	__u16 reason;
	__s32 vcpu;
	__s32 vcpu_tid;
	__s32 vcpu_pcpu;
	__u32 vcpu_nr_allowed;
	__s32 irq_effective_cpu;
	__u32 reserved;
	__aligned_u64 flags;
	__aligned_u64 irq_affinity[PISTEER_AFFINITY_WORDS];
	/* ABI 0.3 */
	__aligned_u64 pi_addr;
	__u32 pi_ndst;
	__u32 pi_ndst_expected;
	__u32 pi_ga_tag;
	__u32 pi_flags;
	/* ABI 0.4 */
	__s32 vcpu_pinned_cpu;
	__u32 policy;
	__s32 steer_cpu;
	__u32 steer_moves;
	/* ABI 0.5 */
	__u32 policy_applied;
	__u32 policy_why;
	/* ABI 0.7 */
	__u32 unknown;
	__u16 target_how;
	__u16 target_why;
	__aligned_u64 vm_start;
	/* ABI 0.8 */
	__u32 steer_overridden;
	__u32 reserved2;
};

#define PISTEER_VECTOR_SIZE_VER0	208	/* ABI 0.2 */
#define PISTEER_VECTOR_SIZE_VER1	232	/* ABI 0.3: pi_* */
#define PISTEER_VECTOR_SIZE_VER2	248	/* ABI 0.4: pinning, steering */
#define PISTEER_VECTOR_SIZE_VER3	256	/* ABI 0.5: policy_applied, _why */
#define PISTEER_VECTOR_SIZE_VER4	272	/* ABI 0.7: unknown, target_*, vm_start */
#define PISTEER_VECTOR_SIZE_VER5	280	/* ABI 0.8: steer_overridden */

/* struct pisteer_vector.unknown */
#define PISTEER_UNK_TARGET	_BITUL(0)	/* vcpu, vcpu_tid, vcpu_pcpu: see target_why */
#define PISTEER_UNK_APICV	_BITUL(1)	/* whether APICv/AVIC is on for this VM */

/*
 * struct pisteer_vector.target_how: the target vCPU follows from the guest
 * MSI by the APIC rules, with each vCPU's APIC ID taken as its vcpu_id
 * (KVM's reset value; x2APIC IDs cannot change) and its APIC mode from its
 * APIC base MSR.  APIC_ID: physical destination.  X2APIC_LDR: logical
 * destination, x2APIC logical IDs (fixed by the APIC ID).  VECTOR_HASH:
 * lowest priority to several vCPUs: the one KVM's vector hashing picks
 * (its default; with kvm vector_hashing=0 KVM arbitrates instead).
 */
#define PISTEER_TARGET_NONE		0
#define PISTEER_TARGET_BY_APIC_ID	1
#define PISTEER_TARGET_BY_X2APIC_LDR	2
#define PISTEER_TARGET_BY_VECTOR_HASH	3

/*
 * struct pisteer_vector.target_why.  XAPIC_LOGICAL: logical destination
 * to a vCPU in xAPIC mode, whose guest-written LDR/DFR only KVM's private
 * APIC state holds.
 */
#define PISTEER_TARGET_UNK_NONE		0
#define PISTEER_TARGET_UNK_XAPIC_LOGICAL	1

/*
 * struct pisteer_vector.policy_why: why auto chose what it chose.
 *  NONE: not auto, the policy as set.  POSTED: nothing, posting ignores host
 *  affinity.  NO_APICV: follow, the injection exits anyway, so take the host
 *  IRQ on the vCPU's CPU.  APICV_REMAPPED: housekeeping, a housekeeping CPU
 *  posts the notification to the running vCPU without an exit.
 *  MODE_UNKNOWN: nothing, the delivery is not known.
 */
#define PISTEER_WHY_NONE		0
#define PISTEER_WHY_POSTED		1
#define PISTEER_WHY_NO_APICV		2
#define PISTEER_WHY_APICV_REMAPPED	3
#define PISTEER_WHY_MODE_UNKNOWN	4

/* struct pisteer_list_vectors.flags: which filters apply */
#define PISTEER_LIST_F_PID	_BITUL(0)
#define PISTEER_LIST_F_PCI	_BITUL(1)
#define PISTEER_LIST_F_ALL	(PISTEER_LIST_F_PID | PISTEER_LIST_F_PCI)

/**
 * struct pisteer_list_vectors - argument of %PISTEER_IOC_LIST_VECTORS
 * @size: as for every pisteer struct (see the top of this file)
 * @flags: PISTEER_LIST_F_*: the filters to apply
 * @pid: with %PISTEER_LIST_F_PID, only vectors of VMs held by this process
 * @pci_seg: with %PISTEER_LIST_F_PCI, only this device: its segment,
 * @pci_bus: bus
 * @pci_devfn: and devfn
 * @reserved: must be zero
 * @entry_size: in: sizeof(struct pisteer_vector) as the caller knows it
 *	(at least %PISTEER_VECTOR_SIZE_VER0); out: the module's.  Each entry is
 *	written with the smaller size; bytes past the module's are zeroed.
 * @count: in: how many entries @entries has room for; out: how many
 *	vectors matched
 * @reserved2: must be zero
 * @entries: user pointer to @count entries of @entry_size bytes
 *
 * The module reads the current state when called (VFIO vectors joined with
 * the irqfds of every VM on their eventfd).  When @count is too small it
 * returns -ENOSPC with @count set to the number needed and writes no entry.
 */
struct pisteer_list_vectors {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pci_seg;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u16 reserved;
	__u32 entry_size;
	__u32 count;
	__u32 reserved2;
	__aligned_u64 entries;
};

#define PISTEER_LIST_VECTORS_SIZE_VER0	40

/**
 * define PISTEER_IOC_LIST_VECTORS - list the passthrough vectors
 *
 * Argument: struct pisteer_list_vectors.  Errors: -EPERM, -EFAULT,
 * -EINVAL (unknown flags, non-zero reserved fields, @entry_size below
 * %PISTEER_VECTOR_SIZE_VER0 or above 4096), -E2BIG (as for every struct),
 * -ENOSPC (@count too small: @count now holds the number needed),
 * -ENOMEM.
 */
#define PISTEER_IOC_LIST_VECTORS	_IO(PISTEER_IOC_MAGIC, 0x01)

/* struct pisteer_policy.policy */
#define PISTEER_POLICY_NONE	0	/* remove this scope's policy */
#define PISTEER_POLICY_OFF	1	/* hands off: restore the original affinity */
#define PISTEER_POLICY_FOLLOW	2	/* host IRQ on the target vCPU's CPU */
#define PISTEER_POLICY_STATIC	3	/* host IRQ on @cpu */
/* ABI 0.5 */
#define PISTEER_POLICY_HOUSEKEEPING	4	/* host IRQ on a housekeeping CPU */
#define PISTEER_POLICY_AUTO		5	/* per vector, see pisteer_policy */

/* struct pisteer_policy.scope */
#define PISTEER_SCOPE_VM	1	/* every vector of the VMs held by @pid */
#define PISTEER_SCOPE_DEVICE	2	/* every vector of the PCI device */
#define PISTEER_SCOPE_IRQ	3	/* one host IRQ */

/**
 * struct pisteer_policy - argument of %PISTEER_IOC_SET_POLICY
 * @size: as for every pisteer struct
 * @flags: must be zero
 * @scope: PISTEER_SCOPE_*; a vector follows its IRQ policy, else its
 *	device's, else its VM's
 * @policy: PISTEER_POLICY_*
 * @pid: with %PISTEER_SCOPE_VM, the process holding the VM(s); the policy
 *	binds to that process as it is when set (ABI 0.7: with its start
 *	time), so a later process that gets the same pid is not steered by
 *	it, and it is dropped when that process is gone
 * @pci_seg: with %PISTEER_SCOPE_DEVICE, the device's segment,
 * @pci_bus: bus
 * @pci_devfn: and devfn
 * @reserved: must be zero
 * @irq: with %PISTEER_SCOPE_IRQ, the host IRQ
 * @cpu: with %PISTEER_POLICY_STATIC, an online CPU
 * @interval_us: the least time between two moves of one IRQ (hysteresis);
 *	0 means 10000
 * @cpus: with %PISTEER_POLICY_HOUSEKEEPING and %PISTEER_POLICY_AUTO, the
 *	housekeeping CPUs (bit n = CPU n; every one online); all zero: the
 *	kernel's housekeeping CPUs (all CPUs without isolcpus=).  Must be zero
 *	for the other policies.  (ABI 0.5; a caller of size
 *	%PISTEER_POLICY_SIZE_VER0 passes none.)
 *
 * %PISTEER_POLICY_HOUSEKEEPING puts each host IRQ on one of @cpus, those on
 * the device's NUMA node first, and not on the CPU of the vector's target
 * vCPU while another is left: with APICv/AVIC active but the vector
 * remapped, the host IRQ handled there posts the notification to the
 * running vCPU without a VM exit, where handling it on the vCPU's own CPU
 * forces one.  Vectors are spread over the candidates by host IRQ number.
 *
 * %PISTEER_POLICY_AUTO decides per vector (see struct pisteer_vector
 * @policy_applied and @policy_why): posted vectors are left alone (posting
 * ignores host affinity); without APICv/AVIC on the host, follow; with
 * APICv but the vector remapped, housekeeping.
 *
 * Policies hold until replaced or removed (%PISTEER_POLICY_NONE) and apply
 * to vectors that appear later too.  Removing a policy or setting
 * %PISTEER_POLICY_OFF restores the affinity each IRQ had before pisteer
 * moved it; so does the vector's disappearance and module unload.
 *
 * ABI 0.9: a vector that no policy names (of its IRQ, device or VM) has the
 * module's default policy, the module parameter default_policy (none,
 * auto, follow or housekeeping; housekeeping CPUs in the parameter
 * housekeeping_cpus), which is none unless set: %PISTEER_POLICY_OFF set
 * for a VM, device or IRQ keeps the default off its vectors, and removing
 * that policy (%PISTEER_POLICY_NONE) gives them the default again.
 */
struct pisteer_policy {
	__u32 size;
	__u32 flags;
	__u32 scope;
	__u32 policy;
	__s32 pid;
	__u32 pci_seg;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u16 reserved;
	__u32 irq;
	__s32 cpu;
	__u32 interval_us;
	/* ABI 0.5 */
	__aligned_u64 cpus[PISTEER_AFFINITY_WORDS];
};

#define PISTEER_POLICY_SIZE_VER0	40
#define PISTEER_POLICY_SIZE_VER1	168	/* ABI 0.5: cpus */

/**
 * define PISTEER_IOC_SET_POLICY - set or remove a steering policy
 *
 * Argument: struct pisteer_policy.  Errors: -EPERM, -EFAULT, -E2BIG,
 * -EINVAL (unknown scope, policy or flags, non-zero reserved, a STATIC
 * CPU that is not online, @pid not positive, @interval_us above 10 s,
 * @cpus naming a CPU that is not online, or @cpus set for a policy other
 * than housekeeping or auto),
 * -ENOSPC (too many policies), -ENOENT (removing a policy that is not set),
 * -ESRCH (ABI 0.7: setting a VM policy for a pid no process has).
 * On error nothing changes.
 */
#define PISTEER_IOC_SET_POLICY	_IO(PISTEER_IOC_MAGIC, 0x02)

/* Latency sampling (ABI 0.5) */

/* struct pisteer_lat_ctl.op */
#define PISTEER_LAT_ENABLE	1	/* start sampling */
#define PISTEER_LAT_DISABLE	2	/* stop sampling and drop the samples */
#define PISTEER_LAT_RESET	3	/* zero the samples, keep sampling */

/* struct pisteer_lat_ctl.scope */
#define PISTEER_LAT_SCOPE_ALL	0	/* every VM (DISABLE: all sampling) */
#define PISTEER_LAT_SCOPE_VM	1	/* the VMs held by @pid */

/**
 * struct pisteer_lat_ctl - argument of %PISTEER_IOC_LAT_CTL
 * @size: as for every pisteer struct
 * @flags: must be zero
 * @op: PISTEER_LAT_*
 * @scope: PISTEER_LAT_SCOPE_*
 * @pid: with %PISTEER_LAT_SCOPE_VM, the process holding the VM(s)
 * @reserved: must be zero
 *
 * What is measured, per passthrough vector: the host delivery latency,
 * from the entry of the host IRQ handler (VFIO's vfio_msihandler) to the
 * next VM entry of the vector's target vCPU (the vendor's vcpu_run, the
 * point where KVM enters the guest with the interrupt injected or posted).
 * It includes the irqfd wakeup, the kick of the vCPU and, when the vCPU was
 * halted or preempted, its wakeup and scheduling.  When an interrupt finds
 * its vCPU with a measurement already pending (of this or another vector),
 * it is not measured but counted in &struct pisteer_lat_vector.coalesced.
 * Vectors whose MSI names no single vCPU are not measured.
 *
 * While nothing is enabled the module registers no probe: the interrupt
 * and VM-entry paths run exactly as without it.  Enabling registers two
 * kprobes (vfio_msihandler and svm_vcpu_run or vmx_vcpu_run); the last
 * disable unregisters them.  Sampling applies to vectors that appear later
 * too, from the first scan that sees them (a rescan follows KVM's and
 * VFIO's changes by about 20 ms; listing the vectors scans at once).  A
 * vector's samples stay readable after it went away, until a reset or
 * disable of its VM.
 */
struct pisteer_lat_ctl {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 scope;
	__s32 pid;
	__u32 reserved;
};

#define PISTEER_LAT_CTL_SIZE_VER0	24

/**
 * define PISTEER_IOC_LAT_CTL - enable, disable or reset latency sampling
 *
 * Argument: struct pisteer_lat_ctl.  Errors: -EPERM, -EFAULT, -E2BIG,
 * -EINVAL (unknown op, scope or flags, non-zero reserved, @pid not positive
 * with %PISTEER_LAT_SCOPE_VM or not zero with %PISTEER_LAT_SCOPE_ALL),
 * -ENOENT (disabling or resetting a VM that is not sampled on its own),
 * -ENOSPC (too many VMs enabled one by one), -ENODEV (enabling: VFIO's
 * vfio-pci-core or KVM's kvm_amd/kvm_intel is not loaded, nothing to
 * probe), -ENOMEM.  On error nothing changes.
 */
#define PISTEER_IOC_LAT_CTL	_IO(PISTEER_IOC_MAGIC, 0x03)

/* Log2 buckets: bucket 0 holds 0 and 1 ns, bucket k [2^k, 2^(k+1)) ns. */
#define PISTEER_LAT_BUCKETS	64

/* struct pisteer_lat_vector.flags */
#define PISTEER_LAT_F_GONE	_BITUL(0)	/* the vector no longer exists */

/**
 * struct pisteer_lat_vector - the latency samples of one vector
 * @host_irq: host IRQ of the vector
 * @pci_seg: PCI segment of the device
 * @pci_bus: bus
 * @pci_devfn: devfn
 * @irq_type: %PISTEER_IRQ_MSI or %PISTEER_IRQ_MSIX
 * @reserved: zero
 * @index: MSI/MSI-X index
 * @vm_pid: process holding the VM
 * @vm_fd: the VM's file descriptor in it
 * @vcpu: the target vCPU the samples were taken for (the last one)
 * @flags: PISTEER_LAT_F_*
 * @count: number of samples
 * @coalesced: interrupts not sampled: their vCPU had one pending already
 * @sum_ns: sum of the samples
 * @min_ns: smallest sample (0 when @count is 0)
 * @max_ns: largest sample
 * @hist: @hist[k]: samples in bucket k (see %PISTEER_LAT_BUCKETS)
 *
 * Counters are updated lock-free as interrupts come: read while sampling
 * runs, @count and the sum of @hist may differ by the samples in flight.
 */
struct pisteer_lat_vector {
	__u32 host_irq;
	__u32 pci_seg;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u8 irq_type;
	__u8 reserved;
	__u32 index;
	__s32 vm_pid;
	__u32 vm_fd;
	__s32 vcpu;
	__u32 flags;
	__aligned_u64 count;
	__aligned_u64 coalesced;
	__aligned_u64 sum_ns;
	__aligned_u64 min_ns;
	__aligned_u64 max_ns;
	__aligned_u64 hist[PISTEER_LAT_BUCKETS];
};

#define PISTEER_LAT_VECTOR_SIZE_VER0	584

/* struct pisteer_lat_read.state */
#define PISTEER_LAT_S_ALL	_BITUL(0)	/* sampling every VM */
#define PISTEER_LAT_S_PROBES	_BITUL(1)	/* the probes are registered */

/**
 * struct pisteer_lat_read - argument of %PISTEER_IOC_LAT_READ
 * @size: as for every pisteer struct
 * @flags: PISTEER_LIST_F_*: the filters to apply, as for
 *	%PISTEER_IOC_LIST_VECTORS
 * @pid: with %PISTEER_LIST_F_PID, only vectors of VMs held by @pid
 * @pci_seg: with %PISTEER_LIST_F_PCI, only this device: segment,
 * @pci_bus: bus
 * @pci_devfn: and devfn
 * @reserved: must be zero
 * @entry_size: in: sizeof(struct pisteer_lat_vector) as the caller knows it
 *	(at least %PISTEER_LAT_VECTOR_SIZE_VER0); out: the module's
 * @count: in: room in @entries; out: how many vectors matched
 * @state: out: PISTEER_LAT_S_*
 * @nr_vms: out: how many VM pids are sampled one by one
 * @dropped: out: vectors not sampled because the module's table was full
 * @reserved2: must be zero
 * @entries: user pointer to @count entries of @entry_size bytes
 *
 * As for %PISTEER_IOC_LIST_VECTORS, -ENOSPC with @count set to the number
 * needed when @count is too small.
 */
struct pisteer_lat_read {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__u32 pci_seg;
	__u8 pci_bus;
	__u8 pci_devfn;
	__u16 reserved;
	__u32 entry_size;
	__u32 count;
	__u32 state;
	__u32 nr_vms;
	__u32 dropped;
	__u32 reserved2;
	__aligned_u64 entries;
};

#define PISTEER_LAT_READ_SIZE_VER0	56

/**
 * define PISTEER_IOC_LAT_READ - read the latency samples
 *
 * Argument: struct pisteer_lat_read.  Errors: -EPERM, -EFAULT, -E2BIG,
 * -EINVAL (unknown flags, non-zero reserved fields, @entry_size below
 * %PISTEER_LAT_VECTOR_SIZE_VER0 or above 4096), -ENOSPC, -ENOMEM.
 */
#define PISTEER_IOC_LAT_READ	_IO(PISTEER_IOC_MAGIC, 0x04)

#endif /* _UAPI_LINUX_PISTEER_H */
