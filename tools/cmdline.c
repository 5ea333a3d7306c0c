// SPDX-License-Identifier: GPL-2.0
/*
 * The command line every pisteer command parses alike: options before,
 * between or after the operands, as GNU tools and perftest take them.
 */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "lib/pisteer_dev.h"

/* "-3", "-10": a number below zero, never an option of ours. */
static bool negative_number(const char *s)
{
	if (s[0] != '-' || !s[1])
		return false;
	for (s++; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void add(struct cmd_operands *ops, const char *arg)
{
	if (ops->n < CMD_MAX_OPERANDS)
		ops->v[ops->n] = arg;
	ops->n++;
}

int cmd_getopt(int argc, char **argv, const char *optstring,
	       const struct option *longopts, struct cmd_operands *ops)
{
	char spec[64];
	int opt;

	/* '-': each operand comes back in place, as option 1. */
	snprintf(spec, sizeof(spec), "-%s", optstring);
	if (!ops->started) {
		/*
		 * glibc takes the ordering from the optstring only when it
		 * starts over (optind 0): start over on an empty vector, so
		 * that the scan of @argv begins at argv[1] with nothing of an
		 * earlier scan left.
		 */
		char *none[] = { argv[0], NULL };

		optind = 0;
		getopt_long(1, none, spec, longopts, NULL);
		ops->started = true;
	}
	for (;;) {
		/* Between two arguments optind is the next one, never inside one. */
		if (optind < argc && negative_number(argv[optind])) {
			add(ops, argv[optind++]);
			continue;
		}
		opt = getopt_long(argc, argv, spec, longopts, NULL);
		if (opt == 1) {
			add(ops, optarg);
			continue;
		}
		if (opt == -1)	/* what follows "--" */
			while (optind < argc)
				add(ops, argv[optind++]);
		return opt;
	}
}

int cmd_operands_max(const char *cmd, const struct cmd_operands *ops, int max)
{
	if (ops->n <= max)
		return 0;
	fprintf(stderr, "pisteer %s: unexpected argument '%s'\n", cmd, ops->v[max]);
	return PST_EXIT_USAGE;
}

int cmd_filter_opts(const char *cmd, int argc, char **argv, void (*usage)(FILE *out),
		    struct pst_filter *f, bool *json)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	int opt;

	while ((opt = cmd_getopt(argc, argv, "v:d:jh", opts, &ops)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid(cmd, optarg, &f->pid))
				return PST_EXIT_USAGE;
			break;
		case 'd':
			if (cmd_opt_bdf(cmd, optarg, &f->bdf))
				return PST_EXIT_USAGE;
			f->has_bdf = true;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	return cmd_operands_max(cmd, &ops, 0);
}
