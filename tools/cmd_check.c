// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer check: the pre-flight an operator runs before an MPI job.  Each
 * thing that must hold for the passthrough interrupts to take their
 * shortest path is one KTAP line (or one JSON object) with, when it does
 * not hold, the command that fixes it.  Exit 0 only when none failed.
 *
 * Host lines first (module, IOMMU and interrupt remapping, posting in the
 * IOMMU and in KVM, host posted MSI), then per VM (vCPU pinning, emulator
 * threads, NUMA, posting), per vector (posted, or steered as this host
 * wants), and last what protects the vCPUs' CPUs (irqbalance, isolcpus,
 * nohz_full).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/cpus.h"
#include "lib/hostfacts.h"
#include "lib/irqs.h"
#include "lib/pisteer_dev.h"
#include "lib/topo.h"
#include "lib/vmproc.h"

enum chk_status { CHK_OK, CHK_FAIL, CHK_SKIP };

static const char *const status_name[] = { "ok", "fail", "skip" };

struct chk {
	const char *name;
	int vm;			/* 0: not about one VM */
	int irq;		/* -1: not about one vector */
	enum chk_status st;
	char detail[640];
	char fix[512];
};

struct chks {
	struct chk *v;
	unsigned int n, cap;
};

/* What check read of the host, once. */
struct host {
	struct pisteer_version ver;
	struct pisteer_vector *vecs;
	unsigned int nr_vecs;
	struct pst_iommu iommu;
	struct pst_kvm_apicv kvm;
	char kvm_fix[128];
	char cmdline[4096];
	struct pst_topo topo;
	bool topo_ok;
	struct pst_cpus vcpu_cpus;	/* of the VMs whose vCPUs are pinned */
	unsigned int nr_vms, nr_unpinned;
	int owner[PST_MAX_CPUS];	/* VM pid whose vCPU holds the CPU */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer check [--vm PID] [--device BDF] [--json]\n"
		"\n"
		"The pre-flight before an MPI job: one KTAP line per thing that must hold\n"
		"for the passthrough interrupts to take their shortest path, 'ok' or 'not\n"
		"ok' with '# fix: COMMAND', or '# SKIP' with why where the host cannot\n"
		"tell; a plan first and a count last.  Exit 0 only when nothing failed.\n"
		"\n"
		"  --vm PID       only the VM held by process PID (the QEMU pid), even\n"
		"                 one without passthrough vectors\n"
		"  --device BDF   only the VMs and vectors of this PCI device\n"
		"  --json         a JSON object instead: checks (name, vm, irq, status\n"
		"                 ok/fail/skip, detail, fix) and the counts\n"
		"\n"
		"Host: the module and its probes; the IOMMU with interrupt remapping; the\n"
		"IOMMU can post (VT-d PI, AMD GASup, not intremap=nopost); KVM's APICv/AVIC\n"
		"(kvm_intel enable_apicv, kvm_amd avic); host posted MSI (intremap=posted_msi,\n"
		"noted).  Per VM: vCPU threads each pinned to a CPU of its own, emulator\n"
		"threads off those CPUs, devices on the vCPUs' NUMA node, vectors posted\n"
		"(else the module's reason).  Per vector: posted, or steered by the policy\n"
		"this host wants (follow without APICv/AVIC, else housekeeping; auto\n"
		"chooses either).  Then irqbalance stopped or banning the vCPUs' CPUs, and\n"
		"the vCPUs' CPUs in isolcpus= and nohz_full=.\n"
		"\n"
		"Exit status: 0 every check holds, 1 one failed, 2 bad command line (also\n"
		"--vm of a process that is gone or holds no KVM VM), 3 module not loaded,\n"
		"4 not root, 5 module of another ABI.\n");
}

static struct chk *add(struct chks *l, const char *name, int vm, int irq,
		       enum chk_status st, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static struct chk *add(struct chks *l, const char *name, int vm, int irq,
		       enum chk_status st, const char *fix, const char *fmt, ...)
{
	struct chk *c;
	va_list ap;

	if (l->n == l->cap) {
		c = realloc(l->v, (l->cap + 32) * sizeof(*c));
		if (!c) {
			fprintf(stderr, "pisteer check: out of memory\n");
			exit(PST_EXIT_FAIL);
		}
		l->v = c;
		l->cap += 32;
	}
	c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->vm = vm;
	c->irq = irq;
	c->st = st;
	snprintf(c->fix, sizeof(c->fix), "%s", st == CHK_FAIL && fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return c;
}

static void cpulist(const struct pst_cpus *s, char *buf, size_t len)
{
	pst_cpus_format(s, buf, len);
}

/* Host lines */

static void check_module(struct chks *l, const struct host *h)
{
	const struct pisteer_version *v = &h->ver;
	int err = v->host_err[PISTEER_HOST_EVENT_PROBES];
	char missed[64] = "";

	if (v->probes_missed)
		snprintf(missed, sizeof(missed), "; %llu probe hits missed",
			 (unsigned long long)v->probes_missed);
	if (!v->kernel[0])
		add(l, "module", 0, -1, CHK_SKIP, NULL,
		    "pisteer.ko %s (ABI %u.%u) does not report its probes (ABI < 0.7)",
		    v->release, v->abi_major, v->abi_minor);
	else if (err)
		add(l, "module", 0, -1, CHK_FAIL,
		    "modprobe kvm vfio-pci (the probes register when these load)",
		    "pisteer.ko %s on %s: rescans on KVM/VFIO changes off: %s%s", v->release,
		    v->kernel, pst_host_feature_why(err), missed);
	else
		add(l, "module", 0, -1, CHK_OK, NULL,
		    "pisteer.ko %s (ABI %u.%u) on %s: rescans on KVM/VFIO changes active%s",
		    v->release, v->abi_major, v->abi_minor, v->kernel, missed);
}

/* The kernel parameter that turns the IOMMU on, for this host's vendor. */
static const char *iommu_param(const struct host *h)
{
	char vendor[32];

	if (h->iommu.amd)
		return "amd_iommu=on";
	if (h->iommu.intel)
		return "intel_iommu=on";
	pst_cpu_vendor(vendor, sizeof(vendor));
	return strcmp(vendor, "AuthenticAMD") ? "intel_iommu=on" : "amd_iommu=on";
}

static void check_iommu(struct chks *l, const struct host *h)
{
	struct pst_irq *irqs;
	unsigned int ir = 0, i;
	char *percpu, fix[256];
	int n;

	if (!h->iommu.nr) {
		snprintf(fix, sizeof(fix),
			 "add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot",
			 iommu_param(h));
		add(l, "iommu", 0, -1, CHK_FAIL, fix,
		    "no IOMMU in /sys/class/iommu: no interrupt remapping, no posting");
		return;
	}
	n = pst_irqs_read(&irqs, &percpu);
	for (i = 0; n > 0 && i < (unsigned int)n; i++)
		ir += !strncmp(irqs[i].name, "IR-", 3);
	if (n > 0) {
		free(irqs);
		free(percpu);
	}
	for (i = 0; i < h->nr_vecs; i++)
		ir += !!(h->vecs[i].flags & (PISTEER_VEC_F_IR_INTEL | PISTEER_VEC_F_IR_AMD));
	if (ir) {
		add(l, "iommu", 0, -1, CHK_OK, NULL,
		    "%s (%s), interrupt remapping on: IRQs on IR- chips in /proc/interrupts",
		    h->iommu.names, h->iommu.intel ? "VT-d" : h->iommu.amd ? "AMD-Vi" : "IOMMU");
		return;
	}
	if (pst_cmdline_has(h->cmdline, "intremap", "off") ||
	    pst_cmdline_has(h->cmdline, "nointremap", NULL))
		snprintf(fix, sizeof(fix),
			 "remove intremap=off/nointremap from the kernel command line (/etc/default/grub), update-grub, reboot");
	else
		snprintf(fix, sizeof(fix),
			 "enable interrupt remapping (VT-d/AMD-Vi) in the firmware setup, reboot");
	add(l, "iommu", 0, -1, CHK_FAIL, fix,
	    "%s present but interrupt remapping off: no IRQ on an IR- chip", h->iommu.names);
}

/* What makes the IOMMU post, or why nothing does. */
static void iommu_post_fix(const struct host *h, char *buf, size_t len)
{
	if (strstr(h->iommu.post_why, "command line"))
		snprintf(buf, len, "remove %s from the kernel command line (/etc/default/grub), update-grub, reboot",
			 h->iommu.intel ? "intremap=nopost" : "amd_iommu_intr=legacy");
	else
		snprintf(buf, len,
			 "none in software: this IOMMU cannot post; steer instead: pisteer steer --vm PID auto");
}

static void check_iommu_posting(struct chks *l, const struct host *h)
{
	char fix[256];

	if (!h->iommu.nr) {
		add(l, "iommu_posting", 0, -1, CHK_SKIP, NULL, "no IOMMU");
		return;
	}
	if (h->iommu.can_post < 0) {
		add(l, "iommu_posting", 0, -1, CHK_SKIP, NULL, "cannot tell: %s",
		    h->iommu.post_why);
		return;
	}
	iommu_post_fix(h, fix, sizeof(fix));
	add(l, "iommu_posting", 0, -1, h->iommu.can_post ? CHK_OK : CHK_FAIL, fix,
	    "the IOMMU %s post interrupts into vCPUs (IRQ_POSTING_CAP): %s",
	    h->iommu.can_post ? "can" : "cannot", h->iommu.post_why);
}

static void check_kvm(struct chks *l, const struct host *h)
{
	const struct pst_kvm_apicv *k = &h->kvm;

	if (!k->module)
		add(l, "kvm_apicv", 0, -1, CHK_SKIP, NULL,
		    "no KVM vendor module loaded (kvm_intel, kvm_amd)");
	else if (k->on < 0)
		add(l, "kvm_apicv", 0, -1, CHK_SKIP, NULL, "%s %s unreadable", k->module,
		    k->param);
	else
		add(l, "kvm_apicv", 0, -1, k->on ? CHK_OK : CHK_FAIL, h->kvm_fix,
		    "%s %s=%s: %s", k->module, k->param, k->value, k->on ?
		    "KVM can take posted interrupts" :
		    "KVM injects every interrupt with an exit (stop the VMs to reload it)");
}

static void check_posted_msi(struct chks *l, const struct host *h)
{
	bool on = pst_cmdline_has(h->cmdline, "intremap", "posted_msi");

	if (!h->iommu.intel)
		add(l, "posted_msi", 0, -1, CHK_SKIP, NULL,
		    "host posted MSI is VT-d's (intremap=posted_msi): no VT-d here");
	else
		add(l, "posted_msi", 0, -1, CHK_OK, NULL,
		    "noted: host posted MSI %s (intremap=posted_msi, 6.10+: host device interrupts coalesced through a posted descriptor)",
		    on ? "on" : "off");
}

/* Per VM */

struct vmchk {
	int pid;
	struct pst_thread *th;
	unsigned int nr, nv;	/* threads, vCPU threads (first) */
	bool from_module;	/* vCPUs as the module names them: targets only */
	bool pinned;
	struct pst_cpus cpus;	/* where its vCPUs may run */
	char why[512];
};

/* The VM's threads: by QEMU's names, else the vCPUs the module knows. */
static int vm_threads(const struct host *h, struct vmchk *vm)
{
	struct pst_vcpu_tid t[64];
	unsigned int i, j, n = 0;
	int rc;

	rc = pst_vm_threads(vm->pid, NULL, 0, &vm->th, &vm->nr, vm->why, sizeof(vm->why));
	if (rc != -ENOENT)
		goto out;
	for (i = 0; i < h->nr_vecs && n < 64; i++) {
		const struct pisteer_vector *v = &h->vecs[i];

		if (v->vm_pid != vm->pid || v->vcpu < 0 || v->vcpu_tid <= 0)
			continue;
		for (j = 0; j < n && t[j].index != v->vcpu; j++)
			;
		if (j == n)
			t[n++] = (struct pst_vcpu_tid){ .index = v->vcpu, .tid = v->vcpu_tid };
	}
	if (!n)
		return rc;
	rc = pst_vm_threads(vm->pid, t, n, &vm->th, &vm->nr, vm->why, sizeof(vm->why));
	vm->from_module = !rc;
out:
	for (vm->nv = 0; !rc && vm->nv < vm->nr && vm->th[vm->nv].vcpu >= 0;)
		vm->nv++;
	return rc;
}

static void check_pinning(struct chks *l, struct host *h, struct vmchk *vm)
{
	char ok[512] = "", bad[512] = "", list[256], fix[64];
	struct pst_cpus aff;
	unsigned int i;
	int c;

	snprintf(fix, sizeof(fix), "pisteer pin --vm %d", vm->pid);
	pst_cpus_zero(&vm->cpus);
	vm->pinned = true;
	for (i = 0; i < vm->nv; i++) {
		if (pst_cpus_get_affinity(vm->th[i].tid, &aff))
			continue;	/* gone: not this check's business */
		pst_cpus_or(&vm->cpus, &vm->cpus, &aff);
		c = pst_cpus_first(&aff);
		if (pst_cpus_count(&aff) != 1) {
			cpulist(&aff, list, sizeof(list));
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 "%svCPU %d may run on CPUs %s", bad[0] ? "; " : "",
				 vm->th[i].vcpu, list);
			vm->pinned = false;
		} else if (h->owner[c]) {
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 "%svCPU %d on CPU %d, which a vCPU of VM %d holds too",
				 bad[0] ? "; " : "", vm->th[i].vcpu, c, h->owner[c]);
			vm->pinned = false;
		} else {
			h->owner[c] = vm->pid;
			snprintf(ok + strlen(ok), sizeof(ok) - strlen(ok), "%svCPU %d on CPU %d",
				 ok[0] ? ", " : "", vm->th[i].vcpu, c);
		}
	}
	if (vm->pinned)
		add(l, "vcpu_pinning", vm->pid, -1, CHK_OK, NULL, "%u vCPU threads pinned 1:1: %s%s",
		    vm->nv, ok, vm->from_module ? " (the vectors' target vCPUs: unnamed threads)" : "");
	else
		add(l, "vcpu_pinning", vm->pid, -1, CHK_FAIL, fix, "%s", bad);
}

static void check_emulator(struct chks *l, const struct vmchk *vm)
{
	char bad[512] = "", list[256], fix[64];
	struct pst_cpus aff;
	unsigned int i, n = 0;

	if (vm->from_module) {
		add(l, "emulator_threads", vm->pid, -1, CHK_SKIP, NULL,
		    "vCPU threads unnamed (QEMU names them with -name ...,debug-threads=on): emulator threads unknown");
		return;
	}
	if (!vm->pinned) {
		add(l, "emulator_threads", vm->pid, -1, CHK_SKIP, NULL,
		    "the vCPUs are not pinned: no CPUs of theirs to keep free");
		return;
	}
	for (i = vm->nv; i < vm->nr; i++) {
		if (pst_cpus_get_affinity(vm->th[i].tid, &aff) ||
		    !pst_cpus_intersects(&aff, &vm->cpus))
			continue;
		if (n++ < 4) {
			cpulist(&aff, list, sizeof(list));
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%sthread %d (%s) on CPUs %s",
				 bad[0] ? ", " : "", vm->th[i].tid, vm->th[i].comm, list);
		}
	}
	cpulist(&vm->cpus, list, sizeof(list));
	snprintf(fix, sizeof(fix), "pisteer pin --vm %d", vm->pid);
	if (n)
		add(l, "emulator_threads", vm->pid, -1, CHK_FAIL, fix,
		    "%u of %u emulator threads may run on the vCPUs' CPUs %s: %s%s", n,
		    vm->nr - vm->nv, list, bad, n > 4 ? ", ..." : "");
	else
		add(l, "emulator_threads", vm->pid, -1, CHK_OK, NULL,
		    "%u emulator threads off the vCPUs' CPUs %s", vm->nr - vm->nv, list);
}

static void check_numa(struct chks *l, const struct host *h, const struct vmchk *vm)
{
	char bdf[16], seen[256] = "", bad[512] = "", list[256], fix[64];
	unsigned int i, nodes = 0, c, devs = 0;
	bool node_seen[PST_MAX_CPUS] = { false };
	int node;

	for (c = 0; h->topo_ok && c < h->topo.nr_cpus; c++) {
		node = h->topo.cpu[c].node;
		if (h->topo.cpu[c].present && node >= 0 && !node_seen[node]) {
			node_seen[node] = true;
			nodes++;
		}
	}
	for (i = 0; i < h->nr_vecs; i++) {
		const struct pisteer_vector *v = &h->vecs[i];

		if (v->vm_pid != vm->pid)
			continue;
		pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
		if (strstr(seen, bdf) || strlen(seen) + 14 > sizeof(seen))
			continue;
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s",
			 seen[0] ? " " : "", bdf);
		devs++;
		node = pst_pci_numa_node(bdf);
		for (c = 0; node >= 0 && c < h->topo.nr_cpus; c++) {
			if (pst_cpus_test(&vm->cpus, c) && h->topo.cpu[c].node != node) {
				snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
					 "%s%s on node %d, vCPU CPU %u on node %d", bad[0] ? "; " : "",
					 bdf, node, c, h->topo.cpu[c].node);
				break;
			}
		}
	}
	snprintf(fix, sizeof(fix), "pisteer pin --vm %d", vm->pid);
	cpulist(&vm->cpus, list, sizeof(list));
	if (!devs)
		add(l, "numa", vm->pid, -1, CHK_SKIP, NULL, "no passthrough device");
	else if (!h->topo_ok)
		add(l, "numa", vm->pid, -1, CHK_SKIP, NULL, "the CPU topology is unreadable");
	else if (nodes <= 1)
		add(l, "numa", vm->pid, -1, CHK_OK, NULL, "one NUMA node: %s local", seen);
	else if (bad[0])
		add(l, "numa", vm->pid, -1, CHK_FAIL, fix, "%s", bad);
	else
		add(l, "numa", vm->pid, -1, CHK_OK, NULL,
		    "%s on the NUMA node of the vCPUs' CPUs %s (or without a node)", seen, list);
}

/* The command that removes the reason a vector is remapped. */
static void reason_fix(const struct host *h, unsigned int reason, int pid, char *buf, size_t len)
{
	switch (reason) {
	case PISTEER_REASON_NO_APICV:
	case PISTEER_REASON_APICV_UNKNOWN:
		snprintf(buf, len, "%s", h->kvm_fix);
		break;
	case PISTEER_REASON_APICV_INHIBITED:
		snprintf(buf, len, "echo 1 > /sys/kernel/tracing/events/kvm/kvm_apicv_inhibit_changed/enable; cat /sys/kernel/tracing/trace_pipe (names the inhibit to remove)");
		break;
	case PISTEER_REASON_IOMMU_NO_POSTING:
		iommu_post_fix(h, buf, len);
		break;
	case PISTEER_REASON_NOT_PAIRED:
		if (h->kvm.on == 0)
			snprintf(buf, len, "%s", h->kvm_fix);
		else
			iommu_post_fix(h, buf, len);
		break;
	case PISTEER_REASON_NOT_SINGLE_DEST:
		snprintf(buf, len, "in the guest: pisteer guest attach DEV && pisteer guest spread DEV");
		break;
	case PISTEER_REASON_TARGET_UNKNOWN:
		snprintf(buf, len, "give the guest x2APIC (QEMU -cpu ...,+x2apic): its destinations are then known");
		break;
	case PISTEER_REASON_NOT_MSI_ROUTE:
	case PISTEER_REASON_NOT_POSTABLE:
		snprintf(buf, len, "in the guest: fixed or lowest-priority MSI delivery (the drivers' default)");
		break;
	default:
		snprintf(buf, len, "pisteer status --vm %d (the module does not know the mode yet)", pid);
	}
}

static void check_posting(struct chks *l, const struct host *h, const struct vmchk *vm)
{
	unsigned int count[16] = { 0 }, i, n = 0, posted = 0, top = 0, r;
	char why[384] = "", fix[512], param[64] = "";

	for (i = 0; i < h->nr_vecs; i++) {
		const struct pisteer_vector *v = &h->vecs[i];

		if (v->vm_pid != vm->pid)
			continue;
		n++;
		if (v->mode == PISTEER_MODE_POSTED) {
			posted++;
			continue;
		}
		r = v->reason < 16 ? v->reason : 0;
		count[r]++;
		if (count[r] > count[top] || !count[top])
			top = r;
	}
	if (!n) {
		add(l, "posting", vm->pid, -1, CHK_SKIP, NULL, "no passthrough vector");
		return;
	}
	if (posted == n) {
		add(l, "posting", vm->pid, -1, CHK_OK, NULL, "%u of %u vectors posted", n, n);
		return;
	}
	for (r = 0; r < 16; r++)
		if (count[r])
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s (%u)",
				 why[0] ? ", " : "", r ? pst_reason_name(r) : "mode unknown",
				 count[r]);
	/* The parameter behind "no APICv/AVIC", as the host has it. */
	if (top == PISTEER_REASON_NO_APICV && h->kvm.module)
		snprintf(param, sizeof(param), " [%s %s=%s]", h->kvm.module, h->kvm.param,
			 h->kvm.value);
	reason_fix(h, top, vm->pid, fix, sizeof(fix));
	add(l, "posting", vm->pid, -1, CHK_FAIL, fix, "%u of %u vectors not posted: %s%s",
	    n - posted, n, why, param);
}

/* Per vector: posted, or steered the way this host wants. */
static void check_steering(struct chks *l, const struct host *h, const struct pisteer_vector *v)
{
	unsigned int want = PISTEER_POLICY_FOLLOW;
	char what[96], bdf[16], fix[64];

	pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
	snprintf(what, sizeof(what), "%s %s %u", bdf,
		 v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi", v->index);
	if (v->mode == PISTEER_MODE_POSTED) {
		add(l, "steering", v->vm_pid, (int)v->host_irq, CHK_OK, NULL,
		    "%s posted: host IRQ affinity does not matter", what);
		return;
	}
	/* What auto would choose: follow when the injection exits anyway. */
	if (v->reason != PISTEER_REASON_NO_APICV && h->kvm.on == 1)
		want = PISTEER_POLICY_HOUSEKEEPING;
	snprintf(fix, sizeof(fix), "pisteer steer --vm %d %s", v->vm_pid, pst_policy_name(want));
	if (v->policy == PISTEER_POLICY_AUTO)
		add(l, "steering", v->vm_pid, (int)v->host_irq, CHK_OK, NULL,
		    "%s %s, auto chose %s: %s", what, pst_mode_name(v->mode),
		    v->policy_applied ? pst_policy_name(v->policy_applied) : "nothing",
		    pst_why_text(v->policy_why));
	else if (v->policy == want)
		add(l, "steering", v->vm_pid, (int)v->host_irq, CHK_OK, NULL,
		    "%s %s, steered: %s, host IRQ on CPU %d", what, pst_mode_name(v->mode),
		    pst_policy_name(v->policy), v->steer_cpu);
	else if (v->policy == PISTEER_POLICY_NONE || v->policy == PISTEER_POLICY_OFF)
		add(l, "steering", v->vm_pid, (int)v->host_irq, CHK_FAIL, fix,
		    "%s %s and not steered (policy %s): the host IRQ stays where it is",
		    what, pst_mode_name(v->mode), pst_policy_name(v->policy));
	else
		add(l, "steering", v->vm_pid, (int)v->host_irq, CHK_FAIL, fix,
		    "%s %s, policy %s; this host wants %s", what, pst_mode_name(v->mode),
		    pst_policy_name(v->policy), pst_policy_name(want));
}

/* What protects the vCPUs' CPUs */

/* 0, or 1 after adding a skip: nothing to check the CPUs of. */
static int no_cpus(struct chks *l, const struct host *h, const char *name)
{
	if (!h->nr_vms)
		add(l, name, 0, -1, CHK_SKIP, NULL, "no VM to check");
	else if (h->nr_unpinned)
		add(l, name, 0, -1, CHK_SKIP, NULL,
		    "%u VM%s with unpinned vCPUs: the CPUs to protect are not fixed",
		    h->nr_unpinned, h->nr_unpinned > 1 ? "s" : "");
	else if (pst_cpus_first(&h->vcpu_cpus) < 0)
		add(l, name, 0, -1, CHK_SKIP, NULL, "no vCPU thread found");
	else
		return 0;
	return 1;
}

static void check_irqbalance(struct chks *l, const struct host *h)
{
	struct pst_irqbalance ib;
	char want[128], have[128], fix[512];
	struct pst_cpus miss;
	unsigned int i, unbanned = 0;

	pst_irqbalance_read("/etc/default/irqbalance", &ib);
	if (!ib.pid) {
		add(l, "irqbalance", 0, -1, CHK_OK, NULL, "not running");
		return;
	}
	if (no_cpus(l, h, "irqbalance"))
		return;
	cpulist(&h->vcpu_cpus, want, sizeof(want));
	if (ib.has_banned && pst_cpus_subset(&h->vcpu_cpus, &ib.banned)) {
		cpulist(&ib.banned, have, sizeof(have));
		add(l, "irqbalance", 0, -1, CHK_OK, NULL,
		    "running (pid %d), bans CPUs %s: the vCPUs' CPUs %s", ib.pid, have, want);
		return;
	}
	for (i = 0; i < h->nr_vecs; i++)
		unbanned += h->vecs[i].mode != PISTEER_MODE_POSTED &&
			    !pst_irqbalance_bans_irq(&ib, h->vecs[i].host_irq);
	if (h->nr_vecs && !unbanned) {
		add(l, "irqbalance", 0, -1, CHK_OK, NULL,
		    "running (pid %d), bans every passthrough IRQ (--banirq)", ib.pid);
		return;
	}
	pst_cpus_zero(&miss);
	if (ib.has_banned)
		pst_cpus_andnot(&miss, &h->vcpu_cpus, &ib.banned);
	cpulist(ib.has_banned ? &miss : &h->vcpu_cpus, have, sizeof(have));
	if (ib.file_has_banned && pst_cpus_subset(&h->vcpu_cpus, &ib.file_banned))
		snprintf(fix, sizeof(fix), "systemctl restart irqbalance");
	else
		snprintf(fix, sizeof(fix),
			 "echo 'IRQBALANCE_BANNED_CPULIST=%s' >> /etc/default/irqbalance && systemctl restart irqbalance (or: systemctl stop irqbalance)",
			 want);
	add(l, "irqbalance", 0, -1, CHK_FAIL, fix,
	    "running (pid %d) and free to move IRQs onto the vCPUs' CPUs %s", ib.pid, have);
}

static void check_isolation(struct chks *l, const struct host *h, const char *name,
			    const char *file, const char *param)
{
	char path[96], want[128], have[128], fix[512];
	struct pst_cpus set, miss;
	int rc;

	if (no_cpus(l, h, name))
		return;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/%s", file);
	rc = pst_cpus_read_file(path, &set);
	if (rc) {
		add(l, name, 0, -1, CHK_SKIP, NULL, "%s: %s%s", path, strerror(-rc),
		    rc == -ENOENT ? " (a kernel without it)" : "");
		return;
	}
	cpulist(&h->vcpu_cpus, want, sizeof(want));
	pst_cpus_andnot(&miss, &h->vcpu_cpus, &set);
	cpulist(&set, have, sizeof(have));
	snprintf(fix, sizeof(fix),
		 "add %s%s to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot", param, want);
	if (pst_cpus_first(&miss) < 0) {
		add(l, name, 0, -1, CHK_OK, NULL, "the vCPUs' CPUs %s are in %s (%s)", want, file, have);
		return;
	}
	cpulist(&miss, want, sizeof(want));
	add(l, name, 0, -1, CHK_FAIL, fix, "vCPUs' CPUs %s not in %s (%s)", want, file,
	    pst_cpus_first(&set) < 0 ? "none" : have);
}

/* Output */

static void counts(const struct chks *l, unsigned int *n)
{
	unsigned int i;

	n[CHK_OK] = n[CHK_FAIL] = n[CHK_SKIP] = 0;
	for (i = 0; i < l->n; i++)
		n[l->v[i].st]++;
}

static void print_ktap(const struct chks *l)
{
	unsigned int i, n[3];
	const struct chk *c;
	char who[48];

	printf("KTAP version 1\n1..%u\n", l->n);
	for (i = 0; i < l->n; i++) {
		c = &l->v[i];
		who[0] = '\0';
		if (c->vm && c->irq >= 0)
			snprintf(who, sizeof(who), " (vm %d, irq %d)", c->vm, c->irq);
		else if (c->vm)
			snprintf(who, sizeof(who), " (vm %d)", c->vm);
		if (c->st == CHK_SKIP)
			printf("ok %u - %s%s # SKIP %s\n", i + 1, c->name, who, c->detail);
		else if (c->st == CHK_OK)
			printf("ok %u - %s%s: %s\n", i + 1, c->name, who, c->detail);
		else
			printf("not ok %u - %s%s: %s # fix: %s\n", i + 1, c->name, who, c->detail,
			       c->fix);
	}
	counts(l, n);
	printf("# pisteer check: %u ok, %u failed, %u skipped\n", n[CHK_OK], n[CHK_FAIL],
	       n[CHK_SKIP]);
}

static int print_json(const struct chks *l)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array(), *o;
	const struct chk *c;
	unsigned int i, n[3];

	if (!root || !arr)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		c = &l->v[i];
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "vm", c->vm ? json_object_new_int(c->vm) : NULL);
		json_object_object_add(o, "irq", c->irq >= 0 ? json_object_new_int(c->irq) : NULL);
		json_object_object_add(o, "status", json_object_new_string(status_name[c->st]));
		json_object_object_add(o, "detail", json_object_new_string(c->detail));
		json_object_object_add(o, "fix", c->fix[0] ? json_object_new_string(c->fix) : NULL);
		json_object_array_add(arr, o);
	}
	counts(l, n);
	json_object_object_add(root, "checks", arr);
	json_object_object_add(root, "ok", json_object_new_int((int)n[CHK_OK]));
	json_object_object_add(root, "failed", json_object_new_int((int)n[CHK_FAIL]));
	json_object_object_add(root, "skipped", json_object_new_int((int)n[CHK_SKIP]));
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

/* Options */

struct check_opts {
	struct pst_filter filter;
	bool json;
};

/* 0, 1 after --help, or an exit status after saying what is wrong. */
static int parse_opts(int argc, char **argv, struct check_opts *o)
{
	char bdf[16], path[64];
	int rc;

	rc = cmd_filter_opts("check", argc, argv, usage, &o->filter, &o->json);
	if (rc)
		return rc;
	if (o->filter.pid) {
		rc = pst_proc_holds_vm(o->filter.pid);
		if (rc == -ESRCH) {
			fprintf(stderr, "pisteer check: --vm %d: no such process (has it exited?)\n",
				o->filter.pid);
			return PST_EXIT_USAGE;
		}
		if (rc == 0) {
			fprintf(stderr, "pisteer check: --vm %d: that process holds no KVM VM (no kvm-vm file descriptor): give the QEMU pid\n",
				o->filter.pid);
			return PST_EXIT_USAGE;
		}
	}
	if (o->filter.has_bdf) {
		pst_format_bdf(o->filter.bdf.seg, o->filter.bdf.bus, o->filter.bdf.devfn, bdf,
			       sizeof(bdf));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
		if (access(path, F_OK)) {
			fprintf(stderr, "pisteer check: --device %s: no such PCI device\n", bdf);
			return PST_EXIT_USAGE;
		}
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The VMs to check: --vm's, else those of the listed vectors.  How many. */
static unsigned int vm_pids(const struct host *h, int only, int *pids, unsigned int max)
{
	unsigned int i, j, n = 0;

	if (only) {
		pids[0] = only;
		return 1;
	}
	for (i = 0; i < h->nr_vecs && n < max; i++) {
		for (j = 0; j < n && pids[j] != h->vecs[i].vm_pid; j++)
			;
		if (j == n)
			pids[n++] = h->vecs[i].vm_pid;
	}
	qsort(pids, n, sizeof(*pids), by_pid);
	return n;
}

static void check_vms(struct chks *l, struct host *h, int only)
{
	int pids[64];
	unsigned int n, i, j;

	n = vm_pids(h, only, pids, 64);
	for (i = 0; i < n; i++) {
		struct vmchk vm = { .pid = pids[i] };

		h->nr_vms++;
		if (vm_threads(h, &vm)) {
			add(l, "vcpu_pinning", vm.pid, -1, CHK_SKIP, NULL, "%s", vm.why);
			h->nr_unpinned++;
		} else {
			check_pinning(l, h, &vm);
			if (vm.pinned)
				pst_cpus_or(&h->vcpu_cpus, &h->vcpu_cpus, &vm.cpus);
			else
				h->nr_unpinned++;
			check_emulator(l, &vm);
			check_numa(l, h, &vm);
		}
		check_posting(l, h, &vm);
		for (j = 0; j < h->nr_vecs; j++)
			if (h->vecs[j].vm_pid == vm.pid)
				check_steering(l, h, &h->vecs[j]);
		free(vm.th);
	}
}

int cmd_check(int argc, char **argv)
{
	static struct host h;
	struct check_opts o = { 0 };
	struct chks l = { 0 };
	unsigned int n[3];
	int rc, fd;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc == 1 ? PST_EXIT_OK : rc;
	fd = pst_dev_open_checked(&h.ver);
	if (fd < 0)
		return pst_exit_for(-fd);
	rc = -pst_list_vectors(fd, &o.filter, &h.vecs, &h.nr_vecs);
	close(fd);
	if (rc) {
		fprintf(stderr, "pisteer check: listing vectors: %s\n", strerror(rc));
		return pst_exit_for(rc);
	}
	pst_iommu_read(&h.iommu);
	pst_kvm_apicv_read(&h.kvm);
	pst_kvm_apicv_fix(&h.kvm, h.kvm_fix, sizeof(h.kvm_fix));
	pst_cmdline_read(h.cmdline, sizeof(h.cmdline));
	h.topo_ok = !pst_topo_load(&h.topo);

	check_module(&l, &h);
	check_iommu(&l, &h);
	check_iommu_posting(&l, &h);
	check_kvm(&l, &h);
	check_posted_msi(&l, &h);
	check_vms(&l, &h, o.filter.pid);
	check_irqbalance(&l, &h);
	check_isolation(&l, &h, "isolcpus", "isolated", "isolcpus=managed_irq,domain,");
	check_isolation(&l, &h, "nohz_full", "nohz_full", "nohz_full=");

	if (o.json) {
		if (print_json(&l)) {
			fprintf(stderr, "pisteer check: out of memory\n");
			rc = PST_EXIT_FAIL;
		}
	} else {
		print_ktap(&l);
	}
	counts(&l, n);
	free(l.v);
	free(h.vecs);
	return rc ? rc : n[CHK_FAIL] ? PST_EXIT_FAIL : PST_EXIT_OK;
}
