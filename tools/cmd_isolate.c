// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer isolate: move every host IRQ that can move off the CPUs the
 * vCPUs run on, except the pinned VMs' own passthrough vectors; --undo
 * puts each back where it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/irqs.h"
#include "lib/pisteer_dev.h"
#include "lib/state.h"
#include "lib/topo.h"
#include "lib/vmproc.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer isolate --cpus LIST [--housekeeping LIST] [--dry-run]\n"
		"       pisteer isolate --undo\n"
		"\n"
		"Move every movable host IRQ whose affinity includes a CPU of LIST to\n"
		"the housekeeping CPUs, except the passthrough vectors of the VMs that\n"
		"'pisteer pin' pinned.  IRQs the kernel will not move (managed, per-CPU)\n"
		"are listed with the reason.  A running irqbalance would move IRQs back:\n"
		"isolate says how to ban the CPUs from it.\n"
		"\n"
		"  --cpus LIST          the CPUs to clear of IRQs (the vCPUs' CPUs)\n"
		"  --housekeeping LIST  where the IRQs go (default: every other online CPU)\n"
		"  --dry-run            print what would move, change nothing\n"
		"  --undo               put back the affinity of every IRQ isolate moved\n"
		"\n"
		"State: $PISTEER_STATE_DIR (default /run/pisteer), isolate.json.\n");
}

static int parse_list(const char *opt, const char *arg, struct pst_cpus *set)
{
	char why[128];

	if (!pst_cpus_parse(arg, false, set, why, sizeof(why)))
		return 0;
	fprintf(stderr, "pisteer isolate: %s takes a CPU list like 2-5,8, not '%s': %s\n",
		opt, arg, why);
	return -1;
}

/* Why the kernel would not move an IRQ (what the write returned). */
static const char *refusal(int rc)
{
	switch (rc) {
	case -EPERM:	/* 6.12 */
	case -EIO:	/* 6.1 */
		/* irq_can_set_affinity_usr(): managed, per-CPU, or no chip support */
		return "the kernel does not let it move: kernel-managed, per-CPU or no affinity control";
	case -ENOSPC:
		return "no interrupt vector free on the housekeeping CPUs";
	default:
		return strerror(-rc);
	}
}

static void mark(bool *keep, unsigned int irq)
{
	if (irq < 65536)
		keep[irq] = true;
}

/*
 * The host IRQs to leave alone: passthrough vectors of VMs with a pin
 * state.  Without the module their owner is unknown: every IRQ named
 * vfio-* is kept then.  Returns how many VMs are pinned.
 */
static int pinned_vectors(bool *keep, bool *all_vfio)
{
	struct pisteer_vector *v;
	struct pst_pin_state st;
	struct pst_filter f = { 0 };
	unsigned int nv, j;
	char path[512];
	int *pids, n, i, fd, vms = 0;

	*all_vfio = false;
	n = pst_pin_state_list(&pids);
	if (n <= 0)
		return 0;
	fd = pst_dev_open_quiet();
	for (i = 0; i < n; i++) {
		pst_pin_state_path(pids[i], path, sizeof(path));
		if (pst_pin_state_load(path, &st))
			continue;
		if (st.start && st.start == pst_proc_start(st.pid)) {
			vms++;
			f.pid = st.pid;
			if (fd >= 0 && !pst_list_vectors(fd, &f, &v, &nv)) {
				for (j = 0; j < nv; j++)
					mark(keep, v[j].host_irq);
				free(v);
			} else {
				*all_vfio = true;
			}
		}
		pst_pin_state_free(&st);
	}
	if (fd >= 0)
		close(fd);
	free(pids);
	return vms;
}

static void irqbalance_hint(const struct pst_cpus *cpus, bool undo)
{
	int pid = pst_find_process("irqbalance");
	char l[256];

	if (!pid)
		return;
	pst_cpus_format(cpus, l, sizeof(l));
	if (undo)
		printf("irqbalance (pid %d) is running: if you banned CPUs %s from it, remove IRQBALANCE_BANNED_CPULIST from /etc/default/irqbalance and restart it\n",
		       pid, l);
	else
		printf("warning: irqbalance (pid %d) is running and will move IRQs back onto CPUs %s: ban them with IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance, then 'systemctl restart irqbalance'\n",
		       pid, l, l);
}

static int undo(void)
{
	struct pst_isolate_state st;
	unsigned int i, ok = 0, gone = 0;
	char path[512], l[256];
	int rc, bad = 0;

	pst_isolate_state_path(path, sizeof(path));
	rc = pst_isolate_state_load(path, &st);
	if (rc) {
		fprintf(stderr, "pisteer isolate: %s: %s\n", path,
			rc == -ENOENT ? "nothing to undo (no isolate state)" :
			rc == -EINVAL ? "not an isolate state file: left alone" :
			strerror(-rc));
		return PST_EXIT_FAIL;
	}
	for (i = 0; i < st.nr; i++) {
		rc = pst_irq_set_affinity(st.irq[i].irq, &st.irq[i].prev);
		if (rc == -ENOENT) {
			printf("IRQ %u is gone: nothing to restore\n", st.irq[i].irq);
			gone++;
		} else if (rc) {
			pst_cpus_format(&st.irq[i].prev, l, sizeof(l));
			fprintf(stderr, "pisteer isolate: IRQ %u: cannot restore CPUs %s: %s\n",
				st.irq[i].irq, l, strerror(-rc));
			bad = 1;
		} else {
			ok++;
		}
	}
	if (bad) {
		fprintf(stderr, "pisteer isolate: %s kept for another --undo\n", path);
	} else {
		unlink(path);
		printf("%u IRQs restored%s\n", ok, gone ? " (the others are gone)" : "");
	}
	irqbalance_hint(&st.cpus, true);
	free(st.irq);
	return bad ? PST_EXIT_FAIL : 0;
}

struct isolate_opts {
	struct pst_cpus cpus, housekeeping;
	bool has_cpus, has_hk, dry_run, undo;
};

/* 0, 1 when --help was shown, -1 after saying what is wrong. */
static int parse_opts(int argc, char **argv, struct isolate_opts *o)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "housekeeping", required_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "undo", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	int opt;

	while ((opt = cmd_getopt(argc, argv, "h", opts, &ops)) != -1) {
		switch (opt) {
		case 'c':
			if (parse_list("--cpus", optarg, &o->cpus))
				return -1;
			o->has_cpus = true;
			break;
		case 'k':
			if (parse_list("--housekeeping", optarg, &o->housekeeping))
				return -1;
			o->has_hk = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'u':
			o->undo = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (cmd_operands_max("isolate", &ops, 0))
		return -1;
	if (o->undo && (o->has_cpus || o->has_hk || o->dry_run)) {
		fprintf(stderr, "pisteer isolate: --undo takes no other option\n");
		return -1;
	}
	if (!o->undo && !o->has_cpus) {
		fprintf(stderr, "pisteer isolate: --cpus LIST is required\n");
		return -1;
	}
	return 0;
}

/* Online, disjoint, and somewhere left for the IRQs.  0 or an exit status. */
static int check_sets(struct isolate_opts *o)
{
	static struct pst_topo topo;
	struct pst_cpus online, bad;
	char l[256];

	if (pst_topo_load(&topo))
		return PST_EXIT_FAIL;
	pst_topo_online(&topo, &online);
	pst_cpus_andnot(&bad, &o->cpus, &online);
	if (pst_cpus_first(&bad) >= 0) {
		pst_cpus_format(&bad, l, sizeof(l));
		fprintf(stderr, "pisteer isolate: --cpus names CPUs that are not online: %s\n", l);
		return PST_EXIT_USAGE;
	}
	if (!o->has_hk) {
		pst_cpus_andnot(&o->housekeeping, &online, &o->cpus);
	} else {
		pst_cpus_andnot(&bad, &o->housekeeping, &online);
		if (pst_cpus_first(&bad) >= 0) {
			pst_cpus_format(&bad, l, sizeof(l));
			fprintf(stderr, "pisteer isolate: --housekeeping names CPUs that are not online: %s\n",
				l);
			return PST_EXIT_USAGE;
		}
		pst_cpus_and(&bad, &o->housekeeping, &o->cpus);
		if (pst_cpus_first(&bad) >= 0) {
			pst_cpus_format(&bad, l, sizeof(l));
			fprintf(stderr, "pisteer isolate: --cpus and --housekeeping overlap: %s\n", l);
			return PST_EXIT_USAGE;
		}
	}
	if (pst_cpus_first(&o->housekeeping) < 0) {
		fprintf(stderr, "pisteer isolate: no online CPU is left for the IRQs: --cpus names them all\n");
		return PST_EXIT_USAGE;
	}
	return 0;
}

int cmd_isolate(int argc, char **argv)
{
	static bool keep[65536];
	struct isolate_opts o = { 0 };
	struct pst_isolate_state st = { 0 };
	struct pst_irq *irqs;
	char *percpu, path[512], was[256], now[256];
	bool all_vfio;
	int n, i, rc, vms;
	unsigned int moved = 0;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc > 0 ? PST_EXIT_OK : PST_EXIT_USAGE;
	if (o.undo) {
		if (geteuid() != 0) {
			fprintf(stderr, "pisteer isolate: moving host IRQs needs root\n");
			return PST_EXIT_PERM;
		}
		return undo();
	}
	if (!o.dry_run && geteuid() != 0) {
		fprintf(stderr, "pisteer isolate: moving host IRQs needs root\n");
		return PST_EXIT_PERM;
	}
	rc = check_sets(&o);
	if (rc)
		return rc;
	pst_isolate_state_path(path, sizeof(path));
	if (!access(path, F_OK)) {
		fprintf(stderr, "pisteer isolate: already isolated (%s): 'pisteer isolate --undo' first\n",
			path);
		return PST_EXIT_FAIL;
	}
	vms = pinned_vectors(keep, &all_vfio);
	n = pst_irqs_read(&irqs, &percpu);
	if (n < 0) {
		fprintf(stderr, "pisteer isolate: /proc/irq: %s\n", strerror(-n));
		return PST_EXIT_FAIL;
	}
	st.cpus = o.cpus;
	st.housekeeping = o.housekeeping;
	st.irq = calloc((size_t)n + 1, sizeof(*st.irq));
	if (!st.irq) {
		free(irqs);
		free(percpu);
		return PST_EXIT_FAIL;
	}
	/* The plan, saved before anything moves: a crash leaves an undo. */
	for (i = 0; i < n; i++) {
		if (!irqs[i].has_affinity || !pst_cpus_intersects(&irqs[i].affinity, &o.cpus))
			continue;
		if (keep[irqs[i].irq] || (all_vfio && strstr(irqs[i].name, "vfio-")))
			continue;
		st.irq[st.nr].irq = irqs[i].irq;
		st.irq[st.nr].prev = irqs[i].affinity;
		st.irq[st.nr].set = o.housekeeping;
		st.nr++;
	}
	if (!o.dry_run && st.nr && pst_isolate_state_save(&st)) {
		rc = PST_EXIT_FAIL;
		goto out;
	}
	pst_cpus_format(&o.cpus, was, sizeof(was));
	pst_cpus_format(&o.housekeeping, now, sizeof(now));
	printf("isolating CPUs %s; IRQs go to CPUs %s%s\n", was, now,
	       o.dry_run ? " (dry run: nothing changed)" : "");
	printf("%-6s %-12s %-12s %s\n", "IRQ", "BEFORE", "AFTER", "NAME");
	for (i = 0; i < n; i++) {
		unsigned int k;

		if (!irqs[i].has_affinity || !pst_cpus_intersects(&irqs[i].affinity, &o.cpus))
			continue;
		pst_cpus_format(&irqs[i].affinity, was, sizeof(was));
		if (keep[irqs[i].irq] || (all_vfio && strstr(irqs[i].name, "vfio-"))) {
			printf("%-6u %-12s %-12s %s (kept: a pinned VM's passthrough vector)\n",
			       irqs[i].irq, was, was, irqs[i].name);
			continue;
		}
		for (k = 0; k < st.nr && st.irq[k].irq != irqs[i].irq; k++)
			;
		rc = o.dry_run ? 0 : pst_irq_set_affinity(irqs[i].irq, &o.housekeeping);
		if (rc) {
			printf("%-6u %-12s %-12s %s (not movable: %s)\n", irqs[i].irq, was, was,
			       irqs[i].name,
			       refusal(rc));
			/* Not moved: nothing to undo for it. */
			st.irq[k] = st.irq[--st.nr];
			continue;
		}
		pst_cpus_format(&o.housekeeping, now, sizeof(now));
		printf("%-6u %-12s %-12s %s\n", irqs[i].irq, was, now, irqs[i].name);
		moved++;
	}
	rc = 0;
	if (percpu[0])
		printf("per-CPU interrupts, not movable: %s\n", percpu);
	if (vms)
		printf("%d pinned VM%s: %s passthrough vectors kept%s\n", vms, vms > 1 ? "s" : "",
		       vms > 1 ? "their" : "its",
		       all_vfio ? " (module not loaded: every vfio-* IRQ kept)" : "");
	if (!o.dry_run) {
		if (st.nr && pst_isolate_state_save(&st))
			rc = PST_EXIT_FAIL;
		else if (!st.nr)
			unlink(path);
		printf("%u IRQs moved\n", moved);
	}
	irqbalance_hint(&o.cpus, false);
out:
	free(st.irq);
	free(irqs);
	free(percpu);
	return rc;
}
