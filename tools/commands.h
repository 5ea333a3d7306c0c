/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pisteer subcommands: one file each, registered in pisteer.c.
 * Each gets argv from its own name on and returns an exit status
 * (enum pst_exit).
 */
#ifndef PISTEER_COMMANDS_H
#define PISTEER_COMMANDS_H

#include <getopt.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct pisteer_version;

struct pst_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* The operands of a command, in order, whatever options came between. */
#define CMD_MAX_OPERANDS 8
struct cmd_operands {
	const char *v[CMD_MAX_OPERANDS];	/* the first CMD_MAX_OPERANDS */
	int n;					/* how many were given */
	bool started;
};

/*
 * getopt_long() as every command calls it, with @ops zeroed before the
 * first call: options may come before, between and after the operands
 * (POSIXLY_CORRECT or not), "--" ends the options, and an argument that
 * is a negative number ("-3") is an operand, not an option.  Returns what
 * getopt_long() returns for options and -1 at the end; operands are not
 * returned but collected in @ops, in order.
 */
int cmd_getopt(int argc, char **argv, const char *optstring,
	       const struct option *longopts, struct cmd_operands *ops);

/*
 * After cmd_getopt(): at most @max operands (@max < CMD_MAX_OPERANDS).
 * 0, or 2 after naming the first one too many on stderr.
 */
int cmd_operands_max(const char *cmd, const struct cmd_operands *ops, int max);

/* "--help", "-h" or "help": the word that asks a command for its usage. */
static inline int cmd_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

struct pst_bdf;

/*
 * The --vm PID and --device BDF options several commands take: 0, or -1
 * after telling on stderr what is wrong with @arg.
 */
int cmd_opt_pid(const char *cmd, const char *arg, int *pid);
int cmd_opt_bdf(const char *cmd, const char *arg, struct pst_bdf *bdf);

struct pst_filter;

/*
 * The command line of status and check: [--vm PID] [--device BDF] [--json]
 * into @f and @json, no operands.  0, 1 after printing @usage for --help,
 * or 2 after saying what is wrong.
 */
int cmd_filter_opts(const char *cmd, int argc, char **argv, void (*usage)(FILE *out),
		    struct pst_filter *f, bool *json);

int cmd_version(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_steer(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_isolate(int argc, char **argv);
int cmd_guest(int argc, char **argv);
int cmd_lat(int argc, char **argv);
int cmd_config(int argc, char **argv);

#include "lib/cpus.h"

/*
 * pisteer config: the settings of /etc/pisteer/pisteer.conf.  @line[k]:
 * the line key k was set on (0: not set), k = DEFAULT_POLICY,
 * HOUSEKEEPING_CPUS, LATENCY_SAMPLING, HOOK_POLICY.
 */
struct config_settings {
	unsigned int line[4];
	char default_policy[16];
	struct pst_cpus cpus;
	int sampling;			/* 1 yes, 0 no, -1 not set */
	char hook_policy[16];
};

/*
 * Parse a whole file: 0, or -EINVAL with "NAME:LINE: what is wrong" in
 * @err (-EIO for a read error).
 */
int config_parse(FILE *f, const char *name, struct config_settings *c, char *err,
		 size_t errlen);

struct pisteer_lat_read;
struct pisteer_lat_vector;
/* pisteer lat's reports and its --interval difference (unit-tested). */
void lat_print_text(const struct pisteer_lat_read *h,
		    const struct pisteer_lat_vector *v, unsigned int n);
char *lat_to_json(const struct pisteer_lat_read *h,
		  const struct pisteer_lat_vector *v, unsigned int n, int pretty);
void lat_delta(struct pisteer_lat_vector *now, unsigned int n,
	       const struct pisteer_lat_vector *before, unsigned int nb);

/* pisteer steer --cpus: "0-3,8" into PISTEER_AFFINITY_WORDS words; 0 or -1. */
int steer_parse_cpus(const char *s, __u64 *words);
int cmd_rdma_lat(int argc, char **argv);

struct pisteer_vector;
/* The JSON of pisteer status: a malloc'ed array document, or NULL. */
char *status_to_json(const struct pisteer_vector *v, unsigned int n);

/* pisteer status --format: table, json, prom or openmetrics; -1 for anything else. */
enum { STATUS_FMT_TABLE, STATUS_FMT_JSON, STATUS_FMT_PROM, STATUS_FMT_OPENMETRICS };
int status_parse_format(const char *s);
/* The --format word of @format, NULL for none. */
const char *status_format_name(int format);
/* A label value (both formats), quoted, \\ " and newline escaped. */
void prom_label_value(FILE *out, const char *s);

/*
 * The metrics of pisteer status into @out: @format STATUS_FMT_PROM, the
 * Prometheus text format 0.0.4 (node_exporter's textfile collector), or
 * STATUS_FMT_OPENMETRICS, OpenMetrics text ending in "# EOF".  Same
 * samples in both.  @irq_counts (NULL: none known) has one count per
 * vector, UINT64_MAX where unknown; @lat the latency samples (pisteer
 * lat), matched to the vectors.  0, or -1 when writing failed or
 * @format is neither.
 */
int status_to_metrics(FILE *out, int format, const struct pisteer_vector *v,
		      unsigned int n, const uint64_t *irq_counts,
		      const struct pisteer_lat_vector *lat, unsigned int nlat);

/* Reports of cmd_version, split out so unit tests can check them. */
void version_print_text(FILE *out, const struct pisteer_version *ver);
/* Returns a malloc'ed JSON document, or NULL on allocation failure. */
char *version_to_json(const struct pisteer_version *ver, int module_err);

#endif
