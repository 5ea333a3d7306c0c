// SPDX-License-Identifier: GPL-2.0
/*
 * irq_bench: device interrupt -> guest handler round trip of a passthrough
 * 82574L, under several host configurations in one run.
 *
 * One KVM VM with two vCPUs, their threads pinned 1:1 to host CPUs 0 and 1
 * (the VMM thread on CPU 0); the device's MSI-X vector 0 is routed to
 * vCPU 1 (halted between interrupts).  For each phase given on the command
 * line, a shell command sets the host up ({pid} stands for this process:
 * the VM), the host IRQ's effective CPU is checked against the phase's
 * expectation, then W warm-up and N measured round trips are taken: an
 * ICS write raises the interrupt, the VMM spins until the guest handler
 * has counted it.  Per phase it reports min/p50/p99/p99.9/max and the VM
 * exits of each vCPU per 1000 interrupts (KVM's binary stats), and at the
 * end the ratios asked for as --ratio A/B, as text and as JSON (-o).
 *
 * With -s the vCPUs spin (run guest code) between interrupts instead of
 * halting: the busy-polling vCPUs of an MPI job.  The VMM thread then
 * shares CPU 0 with vCPU 0.
 *
 * usage: irq_bench [-s] [-n N] [-w W] [-g GAP_US] [-o FILE]
 *                  --phase NAME:EXPECT_CPU:COMMAND ... [--ratio A/B ...]
 * EXPECT_CPU is a CPU number, or '-' for no expectation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../lib/hostctl.h"
#include "../lib/kvmstats.h"
#include "../lib/procirq.h"
#include "../lib/ptvm.h"
#include "../lib/stats.h"

#define MAX_PHASES	8
#define MAX_RATIOS	8
#define GUEST_VECTOR	0x40
#define TARGET_VCPU	1
#define EITR_US		130

struct phase {
	struct stats st;
	double exits_per_k[2];
	double irq_exits_per_k[2];
	long long host_irqs;		/* host IRQs taken while measuring */
	const char *cmd;
	char name[32];
	int expect_cpu;			/* -1: any */
	int effective_cpu;		/* seen before measuring, -1 unknown */
};

static struct phase phases[MAX_PHASES];
static int nr_phases;
static char ratios[MAX_RATIOS][2][32];
static int nr_ratios;

static int effective_cpu(int irq)
{
	char path[64];
	int cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/irq/%d/effective_affinity_list", irq);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &cpu) != 1)
		cpu = -1;
	fclose(f);
	return cpu;
}

static int run_cmd(const char *tmpl)
{
	char cmd[1024], *at;
	size_t off = 0;

	cmd[0] = '\0';
	while ((at = strstr(tmpl, "{pid}")) && off < sizeof(cmd)) {
		off += snprintf(cmd + off, sizeof(cmd) - off, "%.*s%d",
				(int)(at - tmpl), tmpl, (int)getpid());
		tmpl = at + 5;
	}
	if (off < sizeof(cmd))
		snprintf(cmd + off, sizeof(cmd) - off, "%s", tmpl);
	fprintf(stderr, "irq_bench: $ %s\n", cmd);
	return system(cmd);
}

static int read_exits(struct kvmstats *st[2], const char *name, uint64_t out[2])
{
	int i;

	for (i = 0; i < 2; i++)
		if (kvmstats_read(st[i], name, &out[i]))
			return -1;
	return 0;
}

static int measure(struct ptvm *vm, struct ptvm_dev *dev, struct kvmstats *st[2],
		   const char *irq_name, int n, int warm, unsigned int gap_us,
		   struct phase *ph)
{
	uint64_t *rtt = calloc(n, sizeof(*rtt)), exits0[2], exits1[2], irqx0[2], irqx1[2];
	long long irqs0, irqs1;
	int i, irq = -1;

	if (!rtt)
		return -1;
	for (i = 0; i < warm; i++) {
		uint64_t ns;

		if (e1000e_raise_wait(dev, vm, 0, GUEST_VECTOR, 2000, &ns))
			goto fail;
		ptvm_sleep_us(gap_us);
	}
	irqs0 = procirq_count(irq_name, &irq);
	if (read_exits(st, "exits", exits0) || read_exits(st, "irq_exits", irqx0))
		goto fail;
	for (i = 0; i < n; i++) {
		if (e1000e_raise_wait(dev, vm, 0, GUEST_VECTOR, 2000, &rtt[i]))
			goto fail;
		ptvm_sleep_us(gap_us);
	}
	if (read_exits(st, "exits", exits1) || read_exits(st, "irq_exits", irqx1))
		goto fail;
	irqs1 = procirq_count(irq_name, &irq);
	ph->host_irqs = irqs1 - irqs0;
	for (i = 0; i < 2; i++) {
		ph->exits_per_k[i] = 1000.0 * (double)(exits1[i] - exits0[i]) / n;
		ph->irq_exits_per_k[i] = 1000.0 * (double)(irqx1[i] - irqx0[i]) / n;
	}
	ph->st = stats_summary(rtt, n);
	free(rtt);
	return 0;
fail:
	fprintf(stderr, "irq_bench: %s: %s\n", ph->name, ptvm_strerror());
	free(rtt);
	return -1;
}

static struct phase *find_phase(const char *name)
{
	int i;

	for (i = 0; i < nr_phases; i++)
		if (!strcmp(phases[i].name, name))
			return &phases[i];
	return NULL;
}

static json_object *phase_json(const struct phase *ph)
{
	json_object *o = json_object_new_object(), *e = json_object_new_array(),
		    *ie = json_object_new_array();
	int i;

	json_object_object_add(o, "name", json_object_new_string(ph->name));
	json_object_object_add(o, "host_irq_effective_cpu",
			       json_object_new_int(ph->effective_cpu));
	json_object_object_add(o, "iterations", json_object_new_int(ph->st.n));
	json_object_object_add(o, "host_irqs", json_object_new_int64(ph->host_irqs));
	json_object_object_add(o, "min_us", json_object_new_double(ph->st.min_us));
	json_object_object_add(o, "p50_us", json_object_new_double(ph->st.p50_us));
	json_object_object_add(o, "p99_us", json_object_new_double(ph->st.p99_us));
	json_object_object_add(o, "p999_us", json_object_new_double(ph->st.p999_us));
	json_object_object_add(o, "max_us", json_object_new_double(ph->st.max_us));
	for (i = 0; i < 2; i++) {
		json_object_array_add(e, json_object_new_double(ph->exits_per_k[i]));
		json_object_array_add(ie, json_object_new_double(ph->irq_exits_per_k[i]));
	}
	json_object_object_add(o, "vm_exits_per_1000_irqs_by_vcpu", e);
	json_object_object_add(o, "irq_exits_per_1000_irqs_by_vcpu", ie);
	return o;
}

static void report(const char *out_path, int n, int warm, bool spin)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array(),
		    *rat = json_object_new_array();
	struct utsname u;
	int i;

	printf("\n%-16s %4s %8s %9s %9s %9s %9s %9s  %s\n", "config", "cpu", "n",
	       "min_us", "p50_us", "p99_us", "p99.9_us", "max_us",
	       "VM exits/1000 IRQs (vCPU0 vCPU1; of them external-IRQ exits)");
	for (i = 0; i < nr_phases; i++) {
		const struct phase *ph = &phases[i];

		printf("%-16s %4d %8d %9.1f %9.1f %9.1f %9.1f %9.1f  %7.0f %7.0f  (%5.0f %5.0f)\n",
		       ph->name, ph->effective_cpu, ph->st.n, ph->st.min_us,
		       ph->st.p50_us, ph->st.p99_us, ph->st.p999_us, ph->st.max_us,
		       ph->exits_per_k[0], ph->exits_per_k[1],
		       ph->irq_exits_per_k[0], ph->irq_exits_per_k[1]);
		json_object_array_add(arr, phase_json(ph));
	}
	printf("\n");
	for (i = 0; i < nr_ratios; i++) {
		const struct phase *a = find_phase(ratios[i][0]), *b = find_phase(ratios[i][1]);
		json_object *r;

		if (!a || !b || b->st.p50_us <= 0 || b->st.p99_us <= 0)
			continue;
		printf("ratio %s/%s: p50 %.2f  p99 %.2f\n", a->name, b->name,
		       a->st.p50_us / b->st.p50_us, a->st.p99_us / b->st.p99_us);
		r = json_object_new_object();
		json_object_object_add(r, "a", json_object_new_string(a->name));
		json_object_object_add(r, "b", json_object_new_string(b->name));
		json_object_object_add(r, "p50", json_object_new_double(a->st.p50_us / b->st.p50_us));
		json_object_object_add(r, "p99", json_object_new_double(a->st.p99_us / b->st.p99_us));
		json_object_array_add(rat, r);
	}
	uname(&u);
	json_object_object_add(root, "kernel", json_object_new_string(u.release));
	json_object_object_add(root, "iterations", json_object_new_int(n));
	json_object_object_add(root, "warmup", json_object_new_int(warm));
	json_object_object_add(root, "target_vcpu", json_object_new_int(TARGET_VCPU));
	json_object_object_add(root, "vcpus_between_interrupts",
			       json_object_new_string(spin ? "spin" : "halt"));
	json_object_object_add(root, "configs", arr);
	json_object_object_add(root, "ratios", rat);
	if (out_path && json_object_to_file_ext(out_path, root, JSON_C_TO_STRING_PRETTY))
		fprintf(stderr, "irq_bench: cannot write %s\n", out_path);
	json_object_put(root);
}

static int add_phase(const char *arg)
{
	const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	struct phase *ph;

	if (!c1 || !c2 || c1 == arg || (size_t)(c1 - arg) >= sizeof(ph->name) ||
	    nr_phases == MAX_PHASES)
		return -1;
	ph = &phases[nr_phases++];
	snprintf(ph->name, sizeof(ph->name), "%.*s", (int)(c1 - arg), arg);
	ph->expect_cpu = c1[1] == '-' ? -1 : atoi(c1 + 1);
	ph->cmd = c2 + 1;
	return 0;
}

static int add_ratio(const char *arg)
{
	const char *slash = strchr(arg, '/');

	if (!slash || nr_ratios == MAX_RATIOS || slash - arg >= 32 || strlen(slash + 1) >= 32)
		return -1;
	snprintf(ratios[nr_ratios][0], 32, "%.*s", (int)(slash - arg), arg);
	snprintf(ratios[nr_ratios][1], 32, "%s", slash + 1);
	nr_ratios++;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "phase", required_argument, NULL, 'p' },
		{ "ratio", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int n = 10000, warm = 1000, c, i, rc = 1;
	unsigned int gap_us = 300;
	bool spin = false;
	const char *out = NULL;
	struct kvmstats *st[2] = { NULL, NULL };
	char bdfs[4][16], irq_name[64];
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm;

	while ((c = getopt_long(argc, argv, "sn:w:g:o:", opts, NULL)) != -1) {
		switch (c) {
		case 's': spin = true; break;
		case 'n': n = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'g': gap_us = (unsigned int)atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'p':
			if (add_phase(optarg)) {
				fprintf(stderr, "irq_bench: bad --phase '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (add_ratio(optarg)) {
				fprintf(stderr, "irq_bench: bad --ratio '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (n < 1 || warm < 0 || !nr_phases) {
		fprintf(stderr, "irq_bench: need N >= 1 and at least one --phase\n");
		return 2;
	}
	if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 4) < 1) {
		fprintf(stderr, "irq_bench: no 82574L bound to vfio-pci\n");
		return 1;
	}
	vm = ptvm_create(2);
	if (!vm) {
		fprintf(stderr, "irq_bench: %s\n", ptvm_strerror());
		return 1;
	}
	ptvm_set_wait_mode(vm, spin ? PTVM_WAIT_SPIN : PTVM_WAIT_HALT);
	for (i = 0; i < 1000 && (ptvm_vcpu_tid(vm, 0) <= 0 ||
				 ptvm_vcpu_tid(vm, TARGET_VCPU) <= 0); i++)
		usleep(1000);
	if (ptvm_vcpu_tid(vm, 0) <= 0 || ptvm_vcpu_tid(vm, TARGET_VCPU) <= 0) {
		fprintf(stderr, "irq_bench: vCPU threads did not start\n");
		goto out;
	}
	if (host_pin_thread(0, 0) || host_pin_thread(ptvm_vcpu_tid(vm, 0), 0) ||
	    host_pin_thread(ptvm_vcpu_tid(vm, TARGET_VCPU), 1)) {
		perror("irq_bench: sched_setaffinity");
		goto out;
	}
	dev = e1000e_assign(vm, bdfs[0], 32, EITR_US, NULL);
	if (!dev || ptvm_route_msi(vm, 32, TARGET_VCPU, GUEST_VECTOR)) {
		fprintf(stderr, "irq_bench: %s\n", ptvm_strerror());
		goto out;
	}
	for (i = 0; i < 2; i++) {
		st[i] = kvmstats_open(ptvm_vcpu_stats_fd(vm, i));
		if (!st[i]) {
			perror("irq_bench: vCPU statistics (KVM_GET_STATS_FD)");
			goto out;
		}
	}
	snprintf(irq_name, sizeof(irq_name), "vfio-msix[0](%s)", bdfs[0]);
	printf("irq_bench: VM pid %d, %s vector 0 -> vCPU %d (CPU 1), vCPU 0 and the VMM on CPU 0;"
	       " vCPUs %s between interrupts; %d warm-up + %d measured round trips per config,"
	       " %u us apart\n", (int)getpid(), bdfs[0], TARGET_VCPU,
	       spin ? "spin" : "halt", warm, n, gap_us);
	fflush(stdout);
	for (i = 0; i < nr_phases; i++) {
		struct phase *ph = &phases[i];
		int irq = -1;

		if (run_cmd(ph->cmd)) {
			fprintf(stderr, "irq_bench: %s: set-up command failed\n", ph->name);
			goto out;
		}
		usleep(200000);
		procirq_count(irq_name, &irq);
		ph->effective_cpu = effective_cpu(irq);
		if (ph->expect_cpu >= 0 && ph->effective_cpu != ph->expect_cpu) {
			fprintf(stderr, "irq_bench: %s: host IRQ %d on CPU %d, expected %d\n",
				ph->name, irq, ph->effective_cpu, ph->expect_cpu);
			goto out;
		}
		if (measure(vm, dev, st, irq_name, n, warm, gap_us, ph))
			goto out;
		printf("irq_bench: %s done: host IRQ %d on CPU %d, p50 %.1f us\n",
		       ph->name, irq, ph->effective_cpu, ph->st.p50_us);
		fflush(stdout);
	}
	report(out, n, warm, spin);
	rc = 0;
out:
	for (i = 0; i < 2; i++)
		kvmstats_close(st[i]);
	if (dev)
		ptdev_close(dev);
	ptvm_destroy(vm);
	return rc;
}
