// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer steer: set where the host IRQs of passthrough vectors go.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer steer (--vm PID | --device BDF | --irq N) POLICY [--interval-us N]\n"
		"\n"
		"Set the steering policy of every passthrough vector of a VM, of a\n"
		"device, or of one host IRQ (the most specific policy wins).  It holds\n"
		"for vectors that appear later, until replaced.\n"
		"\n"
		"POLICY:\n"
		"  follow      host IRQ on the CPU of its target vCPU: the CPU the vCPU\n"
		"              thread is pinned to, else the one it last ran on; follows\n"
		"              route changes and thread moves\n"
		"  static CPU  host IRQ on CPU (an online CPU)\n"
		"  off         pisteer hands off: the affinity before pisteer is restored\n"
		"  none        remove this scope's policy (restores too)\n"
		"\n"
		"  --interval-us N  at most one move per IRQ per N us (default 10000)\n"
		"\n"
		"Posted vectors are left alone: posting ignores host IRQ affinity.\n");
}

static int parse_policy(int argc, char **argv, int i, struct pisteer_policy *p)
{
	char *end;
	long cpu;

	if (i >= argc) {
		fprintf(stderr, "pisteer steer: no policy given (follow, static CPU, off, none)\n");
		return -1;
	}
	if (!strcmp(argv[i], "follow")) {
		p->policy = PISTEER_POLICY_FOLLOW;
	} else if (!strcmp(argv[i], "off")) {
		p->policy = PISTEER_POLICY_OFF;
	} else if (!strcmp(argv[i], "none")) {
		p->policy = PISTEER_POLICY_NONE;
	} else if (!strcmp(argv[i], "static")) {
		if (++i >= argc) {
			fprintf(stderr, "pisteer steer: static needs a CPU\n");
			return -1;
		}
		errno = 0;
		cpu = strtol(argv[i], &end, 10);
		if (errno || *end || end == argv[i] || cpu < 0 || cpu > 0x7fffffff) {
			fprintf(stderr, "pisteer steer: static takes a CPU number, not '%s'\n",
				argv[i]);
			return -1;
		}
		p->policy = PISTEER_POLICY_STATIC;
		p->cpu = (int)cpu;
	} else {
		fprintf(stderr, "pisteer steer: unknown policy '%s' (follow, static CPU, off, none)\n",
			argv[i]);
		return -1;
	}
	return i + 1;
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

int cmd_steer(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "irq", required_argument, NULL, 'i' },
		{ "interval-us", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct pisteer_policy p = { .size = sizeof(p) };
	int opt, fd, next, scopes = 0;
	struct pst_bdf bdf;
	long n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+v:d:i:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid("steer", optarg, &p.pid))
				return PST_EXIT_USAGE;
			p.scope = PISTEER_SCOPE_VM;
			scopes++;
			break;
		case 'd':
			if (cmd_opt_bdf("steer", optarg, &bdf))
				return PST_EXIT_USAGE;
			p.scope = PISTEER_SCOPE_DEVICE;
			p.pci_seg = bdf.seg;
			p.pci_bus = (__u8)bdf.bus;
			p.pci_devfn = (__u8)bdf.devfn;
			scopes++;
			break;
		case 'i':
			n = parse_number("--irq", optarg, 0x7fffffff);
			if (n < 0)
				return PST_EXIT_USAGE;
			p.scope = PISTEER_SCOPE_IRQ;
			p.irq = (unsigned int)n;
			scopes++;
			break;
		case 't':
			n = parse_number("--interval-us", optarg, 10000000);
			if (n < 0)
				return PST_EXIT_USAGE;
			p.interval_us = (unsigned int)n;
			break;
		case 'h':
			usage(stdout);
			return PST_EXIT_OK;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	if (scopes != 1) {
		fprintf(stderr, "pisteer steer: name exactly one of --vm, --device, --irq\n");
		return PST_EXIT_USAGE;
	}
	next = parse_policy(argc, argv, optind, &p);
	if (next < 0 || cmd_no_operands("steer", argc, argv, next))
		return PST_EXIT_USAGE;

	fd = pst_dev_open();
	if (fd < 0)
		return pst_exit_for(-fd);
	if (ioctl(fd, PISTEER_IOC_SET_POLICY, &p) < 0) {
		int err = errno;

		if (err == EINVAL && p.policy == PISTEER_POLICY_STATIC)
			fprintf(stderr, "pisteer steer: CPU %d is not an online CPU\n", p.cpu);
		else if (err == ENOENT)
			fprintf(stderr, "pisteer steer: no policy is set for that scope\n");
		else
			fprintf(stderr, "pisteer steer: %s%s\n", strerror(err),
				err == ENOTTY ? " (the loaded module cannot steer)" : "");
		close(fd);
		return pst_exit_for(err == ENOENT ? EIO : err);
	}
	close(fd);
	return PST_EXIT_OK;
}
