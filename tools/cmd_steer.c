// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer steer: set where the host IRQs of passthrough vectors go.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/cpus.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer steer (--vm PID | --device BDF | --irq N) [POLICY]\n"
		"                     [--interval-us N] [--cpus LIST]\n"
		"\n"
		"Set the steering policy of every passthrough vector of a VM, of a\n"
		"device, or of one host IRQ (the most specific policy wins).  It holds\n"
		"for vectors that appear later, until replaced.\n"
		"\n"
		"POLICY (default: auto):\n"
		"  auto          per vector: posted vectors are left alone; without\n"
		"                APICv/AVIC on the host, follow; with APICv but the vector\n"
		"                remapped, housekeeping (pisteer status shows the choice)\n"
		"  follow        host IRQ on the CPU of its target vCPU: the CPU the vCPU\n"
		"                thread is pinned to, else the one it last ran on; follows\n"
		"                route changes and thread moves\n"
		"  housekeeping  host IRQ on a housekeeping CPU (--cpus, else the kernel's):\n"
		"                one on the device's NUMA node first, not the target vCPU's\n"
		"                CPU while another is left\n"
		"  static CPU    host IRQ on CPU (an online CPU)\n"
		"  off           pisteer hands off: the affinity before pisteer is restored\n"
		"  none          remove this scope's policy (restores too); its vectors\n"
		"                then have the module's default policy, if one is set\n"
		"                (pisteer config)\n"
		"\n"
		"  --vm PID         every passthrough vector of the VMs of process PID\n"
		"  --device BDF     every vector of this PCI device (0000:3b:00.1 or 3b:00.1)\n"
		"  --irq N          the vector of host IRQ N\n"
		"  --interval-us N  at most one move per IRQ per N us (default 10000)\n"
		"  --cpus LIST      housekeeping CPUs for housekeeping and auto, e.g. 0-3,8\n"
		"                   (online CPUs only)\n"
		"\n"
		"Posted vectors are left alone: posting ignores host IRQ affinity.\n");
}

/* The operands: POLICY [CPU].  How many it took, or -1 after saying why. */
static int parse_policy(const struct cmd_operands *ops, struct pisteer_policy *p)
{
	const char *w = ops->n ? ops->v[0] : "auto";
	char *end;
	long cpu;

	if (!strcmp(w, "auto")) {
		p->policy = PISTEER_POLICY_AUTO;
	} else if (!strcmp(w, "housekeeping")) {
		p->policy = PISTEER_POLICY_HOUSEKEEPING;
	} else if (!strcmp(w, "follow")) {
		p->policy = PISTEER_POLICY_FOLLOW;
	} else if (!strcmp(w, "off")) {
		p->policy = PISTEER_POLICY_OFF;
	} else if (!strcmp(w, "none")) {
		p->policy = PISTEER_POLICY_NONE;
	} else if (!strcmp(w, "static")) {
		if (ops->n < 2) {
			fprintf(stderr, "pisteer steer: static needs a CPU\n");
			return -1;
		}
		errno = 0;
		cpu = strtol(ops->v[1], &end, 10);
		if (errno || *end || end == ops->v[1] || cpu < 0 || cpu > 0x7fffffff) {
			fprintf(stderr, "pisteer steer: static takes a CPU number, not '%s'\n",
				ops->v[1]);
			return -1;
		}
		p->policy = PISTEER_POLICY_STATIC;
		p->cpu = (int)cpu;
		return 2;
	} else {
		fprintf(stderr, "pisteer steer: unknown policy '%s' (auto, follow, housekeeping, static CPU, off, none)\n",
			w);
		return -1;
	}
	return ops->n ? 1 : 0;
}

static long parse_number(const char *what, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max) {
		fprintf(stderr, "pisteer steer: %s takes a number up to %ld, not '%s'\n",
			what, max, s);
		return -1;
	}
	return v;
}

/* "0-3,8" into a CPU bitmask of PISTEER_AFFINITY_WORDS words: 0 or -1. */
int steer_parse_cpus(const char *s, __u64 *words)
{
	struct pst_cpus set;
	char why[128];

	_Static_assert(sizeof(set.w) == PISTEER_AFFINITY_WORDS * sizeof(*words),
		       "a CPU list and the policy's mask are the same size");
	if (pst_cpus_parse(s, false, &set, why, sizeof(why)))
		return -1;
	memcpy(words, set.w, sizeof(set.w));
	return 0;
}

struct steer_args {
	struct pisteer_policy p;
	int scopes;
	int has_cpus;
};

/* The options, and the operands into @ops: 0, 1 for --help, or an exit status. */
static int parse_opts(int argc, char **argv, struct steer_args *a, struct cmd_operands *ops)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "irq", required_argument, NULL, 'i' },
		{ "interval-us", required_argument, NULL, 't' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct pst_bdf bdf;
	int opt;
	long n;

	while ((opt = cmd_getopt(argc, argv, "v:d:i:t:c:h", opts, ops)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid("steer", optarg, &a->p.pid))
				return PST_EXIT_USAGE;
			a->p.scope = PISTEER_SCOPE_VM;
			a->scopes++;
			break;
		case 'd':
			if (cmd_opt_bdf("steer", optarg, &bdf))
				return PST_EXIT_USAGE;
			a->p.scope = PISTEER_SCOPE_DEVICE;
			a->p.pci_seg = bdf.seg;
			a->p.pci_bus = (__u8)bdf.bus;
			a->p.pci_devfn = (__u8)bdf.devfn;
			a->scopes++;
			break;
		case 'i':
			n = parse_number("--irq", optarg, 0x7fffffff);
			if (n < 0)
				return PST_EXIT_USAGE;
			a->p.scope = PISTEER_SCOPE_IRQ;
			a->p.irq = (unsigned int)n;
			a->scopes++;
			break;
		case 't':
			n = parse_number("--interval-us", optarg, 10000000);
			if (n < 0)
				return PST_EXIT_USAGE;
			a->p.interval_us = (unsigned int)n;
			break;
		case 'c':
			if (steer_parse_cpus(optarg, a->p.cpus)) {
				fprintf(stderr, "pisteer steer: --cpus takes a CPU list like 0-3,8 (CPUs below %d), not '%s'\n",
					PISTEER_AFFINITY_WORDS * 64, optarg);
				return PST_EXIT_USAGE;
			}
			a->has_cpus = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	return 0;
}

int cmd_steer(int argc, char **argv)
{
	struct steer_args a = { .p = { .size = sizeof(a.p) } };
	struct pisteer_policy *pp = &a.p;
	struct cmd_operands ops = { 0 };
	int fd, used, ret, err;

	ret = parse_opts(argc, argv, &a, &ops);
	if (ret)
		return ret == 1 ? PST_EXIT_OK : ret;
	used = parse_policy(&ops, pp);
	if (used < 0)
		return PST_EXIT_USAGE;
	if (cmd_operands_max("steer", &ops, used))
		return PST_EXIT_USAGE;
	if (a.scopes != 1) {
		fprintf(stderr, "pisteer steer: name exactly one of --vm, --device, --irq\n");
		return PST_EXIT_USAGE;
	}
	if (a.has_cpus && pp->policy != PISTEER_POLICY_HOUSEKEEPING &&
	    pp->policy != PISTEER_POLICY_AUTO) {
		fprintf(stderr, "pisteer steer: --cpus goes with housekeeping or auto only\n");
		return PST_EXIT_USAGE;
	}

	fd = pst_dev_open_checked(NULL);
	if (fd < 0)
		return pst_exit_for(-fd);
	err = -pst_dev_set_policy(fd, pp);
	if (err) {
		if (err == EINVAL && pp->policy == PISTEER_POLICY_STATIC)
			fprintf(stderr, "pisteer steer: CPU %d is not an online CPU\n", pp->cpu);
		else if (err == EINVAL && a.has_cpus)
			fprintf(stderr, "pisteer steer: --cpus names a CPU that is not online\n");
		else if (err == EINVAL && pp->policy >= PISTEER_POLICY_HOUSEKEEPING)
			fprintf(stderr, "pisteer steer: %s: the loaded module does not know this policy\n",
				strerror(err));
		else if (err == ENOENT)
			fprintf(stderr, "pisteer steer: no policy is set for that scope%s\n",
				pp->scope == PISTEER_SCOPE_VM ?
				" (off keeps the module's default policy off a VM)" : "");
		else
			fprintf(stderr, "pisteer steer: %s%s\n", strerror(err),
				err == ENOTTY ? " (the loaded module cannot steer)" : "");
		close(fd);
		return pst_exit_for(err == ENOENT ? EIO : err);
	}
	close(fd);
	return PST_EXIT_OK;
}
