// SPDX-License-Identifier: GPL-2.0
/*
 * mech_bench: what steering saves, counted instead of timed.  For 1000
 * passthrough interrupts: the VM exits of the target vCPU and of the other
 * vCPU, the host IPIs and the host IRQs per CPU, in four host
 * configurations in one VM's life.
 *
 * Layout (3 host CPUs at least, one thread pinned to each):
 *   CPU 0  housekeeping: this process's main thread (the VMM), which also
 *          raises the interrupts (ICS writes to the 82574L)
 *   CPU 1  vCPU 0, spinning in the guest: the other vCPU
 *   CPU 2  vCPU 1, spinning in the guest: the target of MSI-X vector 0
 * Configurations, in this order:
 *   no-module     pisteer.ko not loaded: the IRQ where the kernel put it
 *   follow        pisteer steer --vm PID follow: the IRQ on CPU 2
 *   adversarial   pisteer steer --vm PID static 1: the other vCPU's CPU
 *   housekeeping  pisteer steer --vm PID housekeeping --cpus 0
 * Per configuration: W warm-up and N measured interrupts, one at a time
 * (raise, busy-wait until the guest handler has counted it, an optional
 * gap), then a quiet window as long in which the VMM busy-waits and sleeps
 * the same way but raises nothing.  What the quiet window counts (timer
 * ticks, other host work) is subtracted.  Per 1000
 * interrupts (host IRQs the vector took): exits and external-interrupt
 * exits of each vCPU (KVM's binary stats), RES and CAL IPIs per receiving
 * CPU (/proc/interrupts), and the vector's host IRQs per CPU.  It prints
 * a table and ratios and writes JSON (-o).
 *
 * A benchmark, not a test: it fails only when it cannot measure (set-up,
 * a lost interrupt, a vCPU not running guest code, an IRQ not on the CPU
 * its configuration names; the figures are still printed and written).
 * It loads and unloads pisteer.ko itself: run it with the module unused.
 *
 * usage: mech_bench -m PISTEER_KO -p PISTEER_CLI [-n N] [-w W] [-g GAP_US]
 *                   [-o FILE]
 * (defaults: N 2000 interrupts, W 200 warm-up, GAP_US 0: back to back)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../lib/hostctl.h"
#include "../lib/kvmstats.h"
#include "../lib/procirq.h"
#include "../lib/ptvm.h"

#define NR_VCPUS	2
#define OTHER		0	/* vCPU 0, on CPU 1 */
#define TARGET		1	/* vCPU 1, on CPU 2 */
#define HK_CPU		0
#define NR_LAYOUT_CPUS	3
#define GSI_BASE	32
#define VEC_MEASURED	0	/* device vector routed to TARGET */
#define VEC_WAKE	1	/* device vector routed to OTHER */
#define GUEST_VECTOR	0x40	/* + device vector */
#define EITR_US		0	/* no throttling: no duplicate messages */
#define MAXC		PROCIRQ_MAX_CPUS

static const int vcpu_cpu[NR_VCPUS] = { 1, 2 };

enum config { C_NO_MODULE, C_FOLLOW, C_ADVERSARIAL, C_HOUSEKEEPING, NR_CONFIGS };

static const struct config_def {
	const char *name;
	const char *policy;	/* pisteer steer POLICY; NULL: module not loaded */
	int expect_cpu;		/* where the host IRQ must be; -1: anywhere */
} defs[NR_CONFIGS] = {
	[C_NO_MODULE] = { "no-module", NULL, -1 },
	[C_FOLLOW] = { "follow", "follow", 2 },
	[C_ADVERSARIAL] = { "adversarial", "static 1", 1 },
	[C_HOUSEKEEPING] = { "housekeeping", "housekeeping --cpus 0", HK_CPU },
};

/* What the emulated host distorts: printed and written with the figures. */
static const char *const emulator_notes[] = {
	"No AVIC/APICv (QEMU TCG, nested SVM): every interrupt is remapped, never posted, and an injection into a vCPU running on another CPU is a reschedule IPI that makes that vCPU exit. With APICv that IPI would be a posted-interrupt notification taken without an exit (what housekeeping relies on), and with IOMMU posting there would be no host IRQ to steer. These are the counts of a host without posting: the CPU that takes the host IRQ is the CPU whose guest is interrupted.",
	"The guest stub reads its APIC ID and writes EOI through the emulated xAPIC MMIO page: about 2-3 of the target's exits per interrupt are that, in every configuration; a Linux guest with x2APIC and APICv would not take them.",
	"The 3 emulated CPUs share the build machine's cores with each other and with other work: a 'running' vCPU may be descheduled by the real host at any time. The counts (exits, IPIs, IRQs) are the emulated host's own and do not depend on that; times are not reported.",
	"QEMU emulates the 82574L in the thread of the CPU that writes its ICS register (CPU 0 here): the interrupt source is on the housekeeping CPU in every configuration.",
	"Timer ticks (HZ=250; without an invariant TSC, which TCG lacks, sched_clock is unstable and nohz_full cannot stop them) interrupt the spinning vCPUs whether or not interrupts are raised. The quiet window's counts are subtracted; a tick that lands while the vCPU is already out of guest mode for an interrupt costs no exit of its own, so the net figures of a vCPU that the interrupts hit are low by up to the quiet window's figure (raw and quiet figures are in the JSON), and small negative figures are noise. Interrupts are raised back to back to keep the ticks' share small.",
	"QEMU 7.2's 82574L can send a duplicate MSI-X message after a throttled one: host IRQs above the interrupts raised are counted as duplicates, and the figures are per host IRQ taken.",
};

struct snap {
	uint64_t exits[NR_VCPUS], irq_exits[NR_VCPUS];
	uint32_t spins[NR_VCPUS];
	uint32_t arrivals[NR_VCPUS];	/* of the measured vector */
	long long res[MAXC], cal[MAXC], vec[MAXC];
	uint64_t t_ns;
};

/* The difference of two snapshots. */
struct window {
	double exits[NR_VCPUS], irq_exits[NR_VCPUS];
	double spins[NR_VCPUS], arrivals[NR_VCPUS];
	double res[MAXC], cal[MAXC], vec[MAXC];
	double ms;
};

struct result {
	bool measured;
	bool placement_ok;
	int irq;
	int effective_cpu;
	char affinity[64];		/* smp_affinity_list */
	char setup[160];
	long long triggers;
	double host_irqs;		/* the vector's, in the measured window */
	struct window irqw, quiet;	/* quiet: scaled to irqw's length */
};

struct ctx {
	struct ptvm *vm;
	struct ptvm_dev *dev;
	struct kvmstats *st[NR_VCPUS];
	char irq_name[64];
	const char *ko, *cli;
	int ncpus;
	int n, warm;
	unsigned int gap_us;
	double rtt_ns;			/* mean round trip of the last window */
};

static struct result res[NR_CONFIGS];


/* pisteer steer --vm <this process> @policy, logged in @r->setup. */
static int steer(const struct ctx *c, const char *policy, struct result *r)
{
	char cmd[512];
	int ret;

	snprintf(cmd, sizeof(cmd), "%s steer --vm %d %s", c->cli, (int)getpid(), policy);
	if (r)
		snprintf(r->setup, sizeof(r->setup), "pisteer steer --vm %d %s",
			 (int)getpid(), policy);
	fprintf(stderr, "mech_bench: $ %s\n", cmd);
	ret = system(cmd);
	if (ret) {
		fprintf(stderr, "mech_bench: '%s' failed (status %d)\n", cmd, ret);
		return -1;
	}
	return 0;
}

/* --- the host IRQ --------------------------------------------------- */

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Where the measured vector's host IRQ is now: irq, effective CPU, affinity. */
static void placement(const struct ctx *c, struct result *r)
{
	char path[96], buf[64];
	struct procirq pi;

	r->irq = procirq_read(c->irq_name, &pi) ? -1 : pi.irq;
	r->effective_cpu = -1;
	r->affinity[0] = '\0';
	if (r->irq < 0)
		return;
	snprintf(path, sizeof(path), "/proc/irq/%d/effective_affinity_list", r->irq);
	read_line(path, buf, sizeof(buf));
	if (buf[0] && !strpbrk(buf, ",-"))
		r->effective_cpu = atoi(buf);
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", r->irq);
	read_line(path, r->affinity, sizeof(r->affinity));
}

/* --- measuring ------------------------------------------------------ */

static int snapshot(const struct ctx *c, struct snap *s)
{
	struct procirq rr, cr, vr;
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < NR_VCPUS; i++) {
		if (kvmstats_read(c->st[i], "exits", &s->exits[i]) ||
		    kvmstats_read(c->st[i], "irq_exits", &s->irq_exits[i])) {
			fprintf(stderr, "mech_bench: KVM stats of vCPU %d unreadable\n", i);
			return -1;
		}
		s->spins[i] = ptvm_spins(c->vm, i);
		s->arrivals[i] = ptvm_count(c->vm, i, GUEST_VECTOR + VEC_MEASURED);
	}
	if (procirq_read_row("RES", &rr) || procirq_read_row("CAL", &cr) ||
	    procirq_read(c->irq_name, &vr)) {
		fprintf(stderr, "mech_bench: /proc/interrupts has no RES, CAL or %s row\n",
			c->irq_name);
		return -1;
	}
	for (i = 0; i < c->ncpus; i++) {
		s->res[i] = rr.percpu[i];
		s->cal[i] = cr.percpu[i];
		s->vec[i] = vr.percpu[i];
	}
	s->t_ns = ptvm_now_ns();
	return 0;
}

static void diff(const struct ctx *c, const struct snap *a, const struct snap *b,
		 struct window *w)
{
	int i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < NR_VCPUS; i++) {
		w->exits[i] = (double)(b->exits[i] - a->exits[i]);
		w->irq_exits[i] = (double)(b->irq_exits[i] - a->irq_exits[i]);
		w->spins[i] = (double)(uint32_t)(b->spins[i] - a->spins[i]);
		w->arrivals[i] = (double)(uint32_t)(b->arrivals[i] - a->arrivals[i]);
	}
	for (i = 0; i < c->ncpus; i++) {
		w->res[i] = (double)(b->res[i] - a->res[i]);
		w->cal[i] = (double)(b->cal[i] - a->cal[i]);
		w->vec[i] = (double)(b->vec[i] - a->vec[i]);
	}
	w->ms = (double)(b->t_ns - a->t_ns) / 1e6;
}

/* Scale every count of @w by @f (the quiet window to the measured one's length). */
static void scale(const struct ctx *c, struct window *w, double f)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		w->exits[i] *= f;
		w->irq_exits[i] *= f;
		w->spins[i] *= f;
		w->arrivals[i] *= f;
	}
	for (i = 0; i < c->ncpus; i++) {
		w->res[i] *= f;
		w->cal[i] *= f;
		w->vec[i] *= f;
	}
}

static int check_vcpus(const struct ctx *c, const struct window *w, const char *what)
{
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		if (ptvm_vcpu_failure(c->vm, i)) {
			fprintf(stderr, "mech_bench: vCPU %d: %s\n", i, ptvm_vcpu_failure(c->vm, i));
			return -1;
		}
		if (w && w->spins[i] <= 0) {
			fprintf(stderr, "mech_bench: %s: vCPU %d ran no guest code (not spinning)\n",
				what, i);
			return -1;
		}
	}
	return 0;
}

/*
 * Put both vCPUs into the spin loop: a halted vCPU reads the mode after an
 * interrupt, so each gets one (device vector 1 goes to vCPU 0).
 */
static int start_spinning(const struct ctx *c)
{
	uint32_t before[NR_VCPUS];
	uint64_t ns;
	int i;

	ptvm_set_wait_mode(c->vm, PTVM_WAIT_SPIN);
	if (e1000e_raise_wait(c->dev, c->vm, VEC_WAKE, GUEST_VECTOR + VEC_WAKE, 2000, &ns) ||
	    e1000e_raise_wait(c->dev, c->vm, VEC_MEASURED, GUEST_VECTOR + VEC_MEASURED,
			      2000, &ns)) {
		fprintf(stderr, "mech_bench: waking the vCPUs: %s\n", ptvm_strerror());
		return -1;
	}
	for (i = 0; i < NR_VCPUS; i++)
		before[i] = ptvm_spins(c->vm, i);
	ptvm_sleep_us(100000);
	for (i = 0; i < NR_VCPUS; i++)
		if (ptvm_spins(c->vm, i) == before[i]) {
			fprintf(stderr, "mech_bench: vCPU %d does not spin\n", i);
			return -1;
		}
	return check_vcpus(c, NULL, "start");
}

/* Busy-wait until @end, sleeping the gap every mean round trip, as measure() does. */
static void quiet_wait(const struct ctx *c, uint64_t end)
{
	uint64_t step = (uint64_t)c->rtt_ns, next = ptvm_now_ns() + step;

	while (ptvm_now_ns() < end) {
		if (c->gap_us && ptvm_now_ns() >= next) {
			ptvm_sleep_us(c->gap_us);
			next = ptvm_now_ns() + step;
		}
		__builtin_ia32_pause();
	}
}

static int measure(struct ctx *c, struct result *r)
{
	struct snap a, b;
	struct window q;
	uint64_t ns;
	int i;

	for (i = 0; i < c->warm; i++) {
		if (e1000e_raise_wait(c->dev, c->vm, VEC_MEASURED,
				      GUEST_VECTOR + VEC_MEASURED, 2000, &ns))
			goto lost;
		ptvm_sleep_us(c->gap_us);
	}
	ptvm_sleep_us(20000);	/* a late duplicate of the warm-up lands now */
	if (snapshot(c, &a))
		return -1;
	for (i = 0; i < c->n; i++) {
		if (e1000e_raise_wait(c->dev, c->vm, VEC_MEASURED,
				      GUEST_VECTOR + VEC_MEASURED, 2000, &ns))
			goto lost;
		ptvm_sleep_us(c->gap_us);
	}
	if (snapshot(c, &b))
		return -1;
	diff(c, &a, &b, &r->irqw);
	c->rtt_ns = r->irqw.ms * 1e6 / c->n - c->gap_us * 1000.0;
	if (c->rtt_ns < 1000)
		c->rtt_ns = 1000;
	r->triggers = c->n;
	r->host_irqs = 0;
	for (i = 0; i < c->ncpus; i++)
		r->host_irqs += r->irqw.vec[i];
	if (check_vcpus(c, &r->irqw, defs[r - res].name))
		return -1;
	if (r->host_irqs < c->n || r->irqw.arrivals[OTHER] > 0) {
		fprintf(stderr, "mech_bench: %s: %d raised, %.0f host IRQs, %.0f arrivals on the other vCPU\n",
			defs[r - res].name, c->n, r->host_irqs, r->irqw.arrivals[OTHER]);
		return -1;
	}

	/*
	 * The quiet window: as long, the VMM thread as busy (an idle CPU 0
	 * would take wake-ups as IPIs that a busy one does not), nothing raised.
	 */
	if (snapshot(c, &a))
		return -1;
	quiet_wait(c, a.t_ns + (uint64_t)(r->irqw.ms * 1e6));
	if (snapshot(c, &b))
		return -1;
	diff(c, &a, &b, &q);
	if (check_vcpus(c, &q, defs[r - res].name))
		return -1;
	scale(c, &q, q.ms > 0 ? r->irqw.ms / q.ms : 0);
	r->quiet = q;
	r->measured = true;
	return 0;
lost:
	fprintf(stderr, "mech_bench: %s: %s\n", defs[r - res].name, ptvm_strerror());
	return -1;
}

static int run_config(struct ctx *c, enum config k)
{
	struct result *r = &res[k];
	const struct config_def *d = &defs[k];

	if (!d->policy) {
		if (host_module_unload())
			return -1;
		snprintf(r->setup, sizeof(r->setup), "rmmod pisteer");
	} else {
		if (access("/dev/pisteer", F_OK)) {
			int mfd = host_module_load(c->ko);

			if (mfd < 0)
				return -1;
			close(mfd);
		}
		if (steer(c, d->policy, r))
			return -1;
	}
	ptvm_sleep_us(300000);
	placement(c, r);
	r->placement_ok = d->expect_cpu < 0 || r->effective_cpu == d->expect_cpu;
	if (!r->placement_ok)
		fprintf(stderr, "mech_bench: %s: host IRQ %d on CPU %d (affinity %s), expected CPU %d: its figures do not show this configuration\n",
			d->name, r->irq, r->effective_cpu, r->affinity, d->expect_cpu);
	if (measure(c, r))
		return -1;
	printf("mech_bench: %s done: host IRQ %d on CPU %d (affinity %s), %.0f host IRQs in %.0f ms\n",
	       d->name, r->irq, r->effective_cpu, r->affinity, r->host_irqs, r->irqw.ms);
	fflush(stdout);
	return 0;
}

/* --- figures -------------------------------------------------------- */

/* Per 1000 interrupts, net of the quiet window. */
static double per_k(const struct result *r, double v, double quiet)
{
	return r->host_irqs > 0 ? 1000.0 * (v - quiet) / r->host_irqs : 0;
}

static double exits_k(const struct result *r, int vcpu)
{
	return per_k(r, r->irqw.exits[vcpu], r->quiet.exits[vcpu]);
}

static double irq_exits_k(const struct result *r, int vcpu)
{
	return per_k(r, r->irqw.irq_exits[vcpu], r->quiet.irq_exits[vcpu]);
}

static double ipis_k(const struct ctx *c, const struct result *r, int cpu)
{
	double v = 0, q = 0;
	int i;

	for (i = 0; i < c->ncpus; i++)
		if (cpu < 0 || cpu == i) {
			v += r->irqw.res[i] + r->irqw.cal[i];
			q += r->quiet.res[i] + r->quiet.cal[i];
		}
	return per_k(r, v, q);
}

static double irqs_k(const struct result *r, int cpu)
{
	return per_k(r, r->irqw.vec[cpu], 0);
}

/* a / b when b is at least 1 per 1000 (else there is no meaningful ratio). */
static bool ratio(double a, double b, double *out)
{
	if (b < 1.0)
		return false;
	*out = a / b;
	return true;
}

static void print_ratio(const char *what, double a, double b)
{
	double q;

	if (ratio(a, b, &q))
		printf("    %-28s %8.1f vs %8.1f   x%.2f\n", what, a, b, q);
	else
		printf("    %-28s %8.1f vs %8.1f   (no ratio: below 1 per 1000)\n", what, a, b);
}

static void print_report(const struct ctx *c)
{
	size_t i;
	int k, cpu;

	printf("\nPer 1000 interrupts (host IRQs of %s), net of a quiet window as long:\n\n",
	       c->irq_name);
	printf("%-13s %4s %4s %-9s  %-19s %-19s\n", "", "host", "on", "",
	       "VM exits", "of them ext. IRQ");
	printf("%-13s %4s %4s %-9s  %9s %9s %9s %9s\n", "config", "IRQ", "CPU",
	       "affinity", "target", "other", "target", "other");
	for (k = 0; k < NR_CONFIGS; k++) {
		const struct result *r = &res[k];

		if (!r->measured) {
			printf("%-13s (not measured)\n", defs[k].name);
			continue;
		}
		printf("%-13s %4d %4d%s %-9s  %9.1f %9.1f %9.1f %9.1f\n", defs[k].name,
		       r->irq, r->effective_cpu, r->placement_ok ? " " : "!", r->affinity,
		       exits_k(r, TARGET), exits_k(r, OTHER),
		       irq_exits_k(r, TARGET), irq_exits_k(r, OTHER));
	}
	printf("\n%-13s %9s", "config", "IPIs");
	for (cpu = 0; cpu < c->ncpus; cpu++)
		printf("  CPU%-4d", cpu);
	printf("   host IRQs by CPU:");
	for (cpu = 0; cpu < c->ncpus; cpu++)
		printf(" CPU%-4d", cpu);
	printf("\n");
	for (k = 0; k < NR_CONFIGS; k++) {
		const struct result *r = &res[k];

		if (!r->measured)
			continue;
		printf("%-13s %9.1f", defs[k].name, ipis_k(c, r, -1));
		for (cpu = 0; cpu < c->ncpus; cpu++)
			printf("  %7.1f", ipis_k(c, r, cpu));
		printf("   %17s", "");
		for (cpu = 0; cpu < c->ncpus; cpu++)
			printf(" %7.1f", irqs_k(r, cpu));
		printf("\n");
	}
	printf("(IPIs: RES + CAL, counted on the CPU that received them; the target vCPU is\n"
	       " vCPU %d on CPU %d, the other vCPU %d on CPU %d, the VMM and the ICS writes on CPU %d)\n",
	       TARGET, vcpu_cpu[TARGET], OTHER, vcpu_cpu[OTHER], HK_CPU);
	for (k = 0; k < NR_CONFIGS; k++) {
		const struct result *r = &res[k];
		double dup = r->host_irqs - (double)r->triggers;

		if (r->measured && (dup > 0 || r->irqw.arrivals[TARGET] > r->host_irqs))
			printf("%s: %lld raised, %.0f host IRQs, %.0f guest arrivals (emulator duplicates)\n",
			       defs[k].name, r->triggers, r->host_irqs, r->irqw.arrivals[TARGET]);
	}

	printf("\nRatios against follow (per 1000 interrupts):\n");
	for (k = 0; k < NR_CONFIGS; k++) {
		const struct result *a = &res[k], *b = &res[C_FOLLOW];

		if (k == C_FOLLOW || !a->measured || !b->measured)
			continue;
		printf("  %s vs follow:\n", defs[k].name);
		print_ratio("exits of the other vCPU", exits_k(a, OTHER), exits_k(b, OTHER));
		print_ratio("exits of the target vCPU", exits_k(a, TARGET), exits_k(b, TARGET));
		print_ratio("exits, both vCPUs", exits_k(a, OTHER) + exits_k(a, TARGET),
			    exits_k(b, OTHER) + exits_k(b, TARGET));
		print_ratio("host IPIs", ipis_k(c, a, -1), ipis_k(c, b, -1));
	}
	printf("\nWhat the emulator distorts:\n");
	for (i = 0; i < sizeof(emulator_notes) / sizeof(emulator_notes[0]); i++)
		printf("  - %s\n", emulator_notes[i]);
}

static json_object *jnum(double v)
{
	return json_object_new_double(v);
}

static json_object *jratio(double a, double b)
{
	double q;

	return ratio(a, b, &q) ? json_object_new_double(q) : NULL;
}

static json_object *config_json(const struct ctx *c, enum config k)
{
	const struct result *r = &res[k];
	json_object *o = json_object_new_object(), *vs = json_object_new_array(),
		    *ipi = json_object_new_object(), *a;
	int i;

	json_object_object_add(o, "name", json_object_new_string(defs[k].name));
	json_object_object_add(o, "setup", json_object_new_string(r->setup));
	json_object_object_add(o, "host_irq", json_object_new_int(r->irq));
	json_object_object_add(o, "expected_cpu", defs[k].expect_cpu < 0 ? NULL :
			       json_object_new_int(defs[k].expect_cpu));
	json_object_object_add(o, "effective_cpu", json_object_new_int(r->effective_cpu));
	json_object_object_add(o, "smp_affinity_list", json_object_new_string(r->affinity));
	json_object_object_add(o, "placement_ok", json_object_new_boolean(r->placement_ok));
	json_object_object_add(o, "interrupts_raised", json_object_new_int64(r->triggers));
	json_object_object_add(o, "host_irqs", json_object_new_int64((long long)r->host_irqs));
	json_object_object_add(o, "guest_arrivals",
			       json_object_new_int64((long long)r->irqw.arrivals[TARGET]));
	json_object_object_add(o, "window_ms", jnum(r->irqw.ms));
	for (i = 0; i < NR_VCPUS; i++) {
		json_object *v = json_object_new_object();

		json_object_object_add(v, "vcpu", json_object_new_int(i));
		json_object_object_add(v, "host_cpu", json_object_new_int(vcpu_cpu[i]));
		json_object_object_add(v, "target", json_object_new_boolean(i == TARGET));
		json_object_object_add(v, "exits_per_1000_irqs", jnum(exits_k(r, i)));
		json_object_object_add(v, "irq_exits_per_1000_irqs", jnum(irq_exits_k(r, i)));
		json_object_object_add(v, "raw_exits_per_1000_irqs",
				       jnum(per_k(r, r->irqw.exits[i], 0)));
		json_object_object_add(v, "quiet_exits_per_1000_irqs",
				       jnum(per_k(r, r->quiet.exits[i], 0)));
		json_object_array_add(vs, v);
	}
	json_object_object_add(o, "vcpus", vs);
	json_object_object_add(ipi, "total", jnum(ipis_k(c, r, -1)));
	a = json_object_new_array();
	for (i = 0; i < c->ncpus; i++)
		json_object_array_add(a, jnum(per_k(r, r->irqw.res[i], r->quiet.res[i])));
	json_object_object_add(ipi, "res_by_cpu", a);
	a = json_object_new_array();
	for (i = 0; i < c->ncpus; i++)
		json_object_array_add(a, jnum(per_k(r, r->irqw.cal[i], r->quiet.cal[i])));
	json_object_object_add(ipi, "cal_by_cpu", a);
	a = json_object_new_array();
	for (i = 0; i < c->ncpus; i++)
		json_object_array_add(a, jnum(per_k(r, r->quiet.res[i] + r->quiet.cal[i], 0)));
	json_object_object_add(ipi, "quiet_by_cpu", a);
	json_object_object_add(o, "ipis_per_1000_irqs", ipi);
	a = json_object_new_array();
	for (i = 0; i < c->ncpus; i++)
		json_object_array_add(a, jnum(irqs_k(r, i)));
	json_object_object_add(o, "host_irqs_per_1000_irqs_by_cpu", a);
	return o;
}

static int write_json(const struct ctx *c, const char *path)
{
	json_object *root = json_object_new_object(), *cfgs = json_object_new_array(),
		    *rat = json_object_new_object(), *notes = json_object_new_array(),
		    *lay = json_object_new_object(), *o;
	const struct result *b = &res[C_FOLLOW];
	struct utsname u;
	char name[64];
	size_t i;
	int k, ret;

	uname(&u);
	json_object_object_add(root, "kernel", json_object_new_string(u.release));
	json_object_object_add(root, "host_cpus", json_object_new_int(c->ncpus));
	json_object_object_add(lay, "housekeeping_cpu", json_object_new_int(HK_CPU));
	json_object_object_add(lay, "vmm_cpu", json_object_new_int(HK_CPU));
	json_object_object_add(lay, "interrupt_source_cpu", json_object_new_int(HK_CPU));
	json_object_object_add(lay, "target_vcpu", json_object_new_int(TARGET));
	json_object_object_add(lay, "vcpu_guest_state", json_object_new_string("spin"));
	json_object_object_add(root, "layout", lay);
	json_object_object_add(root, "device", json_object_new_string(ptdev_bdf(c->dev)));
	json_object_object_add(root, "interrupts_per_config", json_object_new_int(c->n));
	json_object_object_add(root, "warmup", json_object_new_int(c->warm));
	json_object_object_add(root, "gap_us", json_object_new_int((int)c->gap_us));
	json_object_object_add(root, "per_1000_irqs_net_of_quiet_window",
			       json_object_new_boolean(true));
	for (k = 0; k < NR_CONFIGS; k++)
		if (res[k].measured)
			json_object_array_add(cfgs, config_json(c, k));
	json_object_object_add(root, "configurations", cfgs);
	for (k = 0; k < NR_CONFIGS; k++) {
		const struct result *a = &res[k];

		if (k == C_FOLLOW || !a->measured || !b->measured)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "other_vcpu_exits",
				       jratio(exits_k(a, OTHER), exits_k(b, OTHER)));
		json_object_object_add(o, "other_vcpu_exits_saved_per_1000_irqs",
				       jnum(exits_k(a, OTHER) - exits_k(b, OTHER)));
		json_object_object_add(o, "target_vcpu_exits",
				       jratio(exits_k(a, TARGET), exits_k(b, TARGET)));
		json_object_object_add(o, "total_exits",
				       jratio(exits_k(a, OTHER) + exits_k(a, TARGET),
					      exits_k(b, OTHER) + exits_k(b, TARGET)));
		json_object_object_add(o, "ipis", jratio(ipis_k(c, a, -1), ipis_k(c, b, -1)));
		json_object_object_add(o, "ipis_saved_per_1000_irqs",
				       jnum(ipis_k(c, a, -1) - ipis_k(c, b, -1)));
		snprintf(name, sizeof(name), "%s/follow", defs[k].name);
		json_object_object_add(rat, name, o);
	}
	json_object_object_add(root, "ratios", rat);
	for (i = 0; i < sizeof(emulator_notes) / sizeof(emulator_notes[0]); i++)
		json_object_array_add(notes, json_object_new_string(emulator_notes[i]));
	json_object_object_add(root, "emulator_notes", notes);
	ret = json_object_to_file_ext(path, root, JSON_C_TO_STRING_PRETTY);
	json_object_put(root);
	return ret;
}

/* --- main ----------------------------------------------------------- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -m PISTEER_KO -p PISTEER_CLI [-n N] [-w W] [-g GAP_US] [-o FILE]\n",
		prog);
}

static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int setup(struct ctx *c)
{
	char bdfs[4][16];
	int i;

	c->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (c->ncpus < NR_LAYOUT_CPUS || c->ncpus > MAXC) {
		fprintf(stderr, "mech_bench: needs %d to %d online CPUs, has %d (in the rig: vm-run --cpus 3)\n",
			NR_LAYOUT_CPUS, MAXC, c->ncpus);
		return -1;
	}
	if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 4) < 1) {
		fprintf(stderr, "mech_bench: no 82574L bound to vfio-pci\n");
		return -1;
	}
	if (host_module_unload())
		return -1;
	if (host_pin_thread(0, HK_CPU)) {
		perror("mech_bench: pinning the VMM thread");
		return -1;
	}
	c->vm = ptvm_create(NR_VCPUS);
	if (!c->vm) {
		fprintf(stderr, "mech_bench: %s\n", ptvm_strerror());
		return -1;
	}
	for (i = 0; i < NR_VCPUS; i++) {
		c->st[i] = kvmstats_open(ptvm_vcpu_stats_fd(c->vm, i));
		if (!c->st[i] || ptvm_vcpu_tid(c->vm, i) <= 0 ||
		    host_pin_thread(ptvm_vcpu_tid(c->vm, i), vcpu_cpu[i])) {
			fprintf(stderr, "mech_bench: vCPU %d: stats or pinning: %s\n", i,
				strerror(errno));
			return -1;
		}
	}
	c->dev = e1000e_assign(c->vm, bdfs[0], GSI_BASE, EITR_US, NULL);
	if (!c->dev ||
	    ptvm_route_msi(c->vm, GSI_BASE + VEC_MEASURED, TARGET, GUEST_VECTOR + VEC_MEASURED) ||
	    ptvm_route_msi(c->vm, GSI_BASE + VEC_WAKE, OTHER, GUEST_VECTOR + VEC_WAKE)) {
		fprintf(stderr, "mech_bench: %s\n", ptvm_strerror());
		return -1;
	}
	snprintf(c->irq_name, sizeof(c->irq_name), "vfio-msix[%d](%s)", VEC_MEASURED, bdfs[0]);
	return start_spinning(c);
}

int main(int argc, char **argv)
{
	struct ctx c = { .n = 2000, .warm = 200, .gap_us = 0 };
	const char *json = NULL;
	bool placed = true;
	int opt, i, rc = 1;
	long v;

	while ((opt = getopt(argc, argv, "m:p:n:w:g:o:")) != -1) {
		switch (opt) {
		case 'm':
			c.ko = optarg;
			break;
		case 'p':
			c.cli = optarg;
			break;
		case 'n':
			if (number(optarg, 100, 1000000, &v))
				goto bad;
			c.n = (int)v;
			break;
		case 'w':
			if (number(optarg, 0, 100000, &v))
				goto bad;
			c.warm = (int)v;
			break;
		case 'g':
			if (number(optarg, 0, 100000, &v))
				goto bad;
			c.gap_us = (unsigned int)v;
			break;
		case 'o':
			json = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (!c.ko || !c.cli || optind != argc)
		goto bad;
	if (access(c.ko, R_OK) || access(c.cli, X_OK)) {
		fprintf(stderr, "mech_bench: %s or %s: %s\n", c.ko, c.cli, strerror(errno));
		return 1;
	}
	if (setup(&c))
		goto out;
	printf("mech_bench: VM pid %d, %s MSI-X %d -> vCPU %d (CPU %d), vCPU %d on CPU %d, both spinning in the guest;"
	       " the VMM and the interrupt source on CPU %d; %d warm-up + %d interrupts per config, %u us apart\n",
	       (int)getpid(), ptdev_bdf(c.dev), VEC_MEASURED, TARGET, vcpu_cpu[TARGET], OTHER,
	       vcpu_cpu[OTHER], HK_CPU, c.warm, c.n, c.gap_us);
	fflush(stdout);
	for (i = 0; i < NR_CONFIGS; i++) {
		if (run_config(&c, i))
			goto out;
		placed = placed && res[i].placement_ok;
	}
	print_report(&c);
	if (json && write_json(&c, json)) {
		fprintf(stderr, "mech_bench: cannot write %s\n", json);
		goto out;
	}
	rc = placed ? 0 : 1;
	if (!placed)
		fprintf(stderr, "mech_bench: a host IRQ was not where its configuration puts it (marked !)\n");
out:
	if (access("/dev/pisteer", F_OK) == 0 && c.vm)
		steer(&c, "off", NULL);
	for (i = 0; i < NR_VCPUS; i++)
		kvmstats_close(c.st[i]);
	if (c.dev) {
		e1000e_irq_teardown(c.dev);
		ptdev_close(c.dev);
	}
	ptvm_destroy(c.vm);
	host_module_unload();
	return rc;
bad:
	usage(argv[0]);
	return 2;
}
