// SPDX-License-Identifier: GPL-2.0
/*
 * passthrough_multi: two VMs, two assigned devices, at once.
 *
 * VM A has 4 vCPUs and owns the first 82574L, its five vectors spread over
 * all four vCPUs; VM B has 1 vCPU and owns the second 82574L.  Interrupts
 * are raised on both devices, interleaved: each must arrive in its own VM
 * on the routed vCPU, never in the other VM.  Then VM A's routes rotate by
 * one vCPU at run time and the check repeats.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/ktap.h"
#include "../lib/procirq.h"
#include "../lib/ptvm.h"

#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	40
#define GUEST_VEC(i)	(0x50 + (i))
#define EITR_US		2000
#define SPACING_US	5000
#define ARRIVAL_MS	5000

struct guest {
	const char *name;
	struct ptvm *vm;
	struct ptvm_dev *dev;
	int nr_vcpus;
	int route[NR_VEC];			/* vCPU of each vector */
	uint32_t before[PTVM_MAX_VCPUS][NR_VEC];
	long long host_before[NR_VEC];
};

static int per_vector = 5;

static long long host_count(struct guest *g, int v)
{
	char name[64];

	snprintf(name, sizeof(name), "vfio-msix[%d](%s)", v, ptdev_bdf(g->dev));
	return procirq_count(name, NULL);
}

static bool setup(struct guest *g, const char *bdf, int nr_vcpus)
{
	int v;

	g->nr_vcpus = nr_vcpus;
	g->vm = ptvm_create(nr_vcpus);
	g->dev = g->vm ? e1000e_assign(g->vm, bdf, GSI_BASE, EITR_US, NULL) : NULL;
	if (!g->dev) {
		ktap_diag("%s: %s", g->name, ptvm_strerror());
		return false;
	}
	for (v = 0; v < NR_VEC; v++)
		g->route[v] = v % nr_vcpus;
	return true;
}

static bool apply_routes(struct guest *g)
{
	int v;

	for (v = 0; v < NR_VEC; v++) {
		if (ptvm_route_msi(g->vm, GSI_BASE + v, g->route[v], GUEST_VEC(v))) {
			ktap_diag("%s: %s", g->name, ptvm_strerror());
			return false;
		}
	}
	return true;
}

static void snapshot(struct guest *g)
{
	int c, v;

	for (v = 0; v < NR_VEC; v++) {
		g->host_before[v] = host_count(g, v);
		for (c = 0; c < g->nr_vcpus; c++)
			g->before[c][v] = ptvm_count(g->vm, c, GUEST_VEC(v));
	}
}

/* Every message the device sent since snapshot() is on the routed vCPU. */
static bool check(struct guest *g)
{
	bool ok = true;
	int c, v;

	for (v = 0; v < NR_VEC; v++) {
		long long sent = host_count(g, v) - g->host_before[v];

		if (g->host_before[v] < 0 || sent < per_vector) {
			ktap_diag("%s vector %d: raised %d, host took %lld", g->name,
				  v, per_vector, sent);
			ok = false;
		}
		for (c = 0; c < g->nr_vcpus; c++) {
			long long got = (long long)ptvm_count(g->vm, c, GUEST_VEC(v)) -
					g->before[c][v];
			long long want = c == g->route[v] ? sent : 0;
			long long dups = 0;

			if (!ptvm_arrivals_ok(got, sent, c == g->route[v], &dups)) {
				ktap_diag("%s vector %d vCPU %d: %lld arrivals, expected %lld",
					  g->name, v, c, got, want);
				ok = false;
			} else if (dups) {
				ktap_diag("%s vector %d vCPU %d: %lld arrivals for %lld host IRQs (delivered twice)",
					  g->name, v, c, got, sent);
			}
		}
	}
	return ok;
}

/* Raise every vector of both devices per_vector times, interleaved. */
static bool raise_both(struct guest *a, struct guest *b)
{
	struct guest *gs[2] = { a, b };
	uint64_t rtt;
	int r, v, i;

	for (r = 0; r < per_vector; r++) {
		for (v = 0; v < NR_VEC; v++) {
			for (i = 0; i < 2; i++) {
				if (e1000e_raise_wait(gs[i]->dev, gs[i]->vm, v,
						      GUEST_VEC(v), ARRIVAL_MS, &rtt)) {
					ktap_diag("%s: %s", gs[i]->name, ptvm_strerror());
					return false;
				}
			}
			ptvm_sleep_us(SPACING_US);
		}
	}
	ptvm_sleep_us(50000);
	return true;
}

static bool round_trip(struct guest *a, struct guest *b)
{
	bool ok;

	if (!apply_routes(a) || !apply_routes(b))
		return false;
	snapshot(a);
	snapshot(b);
	ok = raise_both(a, b);
	ok = check(a) && ok;
	return check(b) && ok;
}

int main(int argc, char **argv)
{
	struct guest a = { .name = "VM A" }, b = { .name = "VM B" };
	char bdfs[8][16];
	bool ok;
	int v;

	if (argc == 3 && !strcmp(argv[1], "-n"))
		per_vector = atoi(argv[2]);
	if (per_vector < 1 || per_vector > 10000 || (argc != 1 && argc != 3)) {
		fprintf(stderr, "usage: %s [-n COUNT]\n", argv[0]);
		return 2;
	}

	ktap_plan(3);
	if (access("/dev/kvm", R_OK | W_OK))
		ktap_skip_rest("no /dev/kvm");
	if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 8) < 2)
		ktap_skip_rest("fewer than two 82574Ls bound to vfio-pci");

	ok = setup(&a, bdfs[0], 4) && setup(&b, bdfs[1], 1);
	if (!ktap_result(ok, "VM A (4 vCPUs) owns %s, VM B (1 vCPU) owns %s, both running",
			 bdfs[0], bdfs[1]))
		ktap_skip_rest("setup failed");

	ktap_result(round_trip(&a, &b),
		    "interleaved interrupts: each in its own VM, on its routed vCPU (A: vector i -> vCPU i%%4)");

	for (v = 0; v < NR_VEC; v++)
		a.route[v] = (a.route[v] + 1) % a.nr_vcpus;
	ktap_result(round_trip(&a, &b),
		    "VM A's routes rotated at run time: still only where routed, VM B unaffected");

	e1000e_irq_teardown(a.dev);
	e1000e_irq_teardown(b.dev);
	ptdev_close(a.dev);
	ptdev_close(b.dev);
	ptvm_destroy(a.vm);
	ptvm_destroy(b.vm);
	ktap_finish();
}
