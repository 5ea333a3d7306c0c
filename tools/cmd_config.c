// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer config: apply /etc/pisteer/pisteer.conf, the settings that make
 * steering zero-touch: the module's default policy and housekeeping CPUs
 * (its parameters under /sys/module/pisteer/parameters/) and latency
 * sampling (through the ioctl layer).  pisteer.service runs it at boot.
 *
 * The whole file is checked before anything is written; a write the
 * module refuses puts back what was written before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/cpus.h"
#include "lib/pisteer_dev.h"

#define CONFIG_DEFAULT_FILE	"/etc/pisteer/pisteer.conf"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer config (apply | check) [--file FILE]\n"
		"\n"
		"apply: check FILE (default " CONFIG_DEFAULT_FILE ") whole, then\n"
		"set the module's default policy and housekeeping CPUs (its parameters\n"
		"default_policy and housekeeping_cpus) and turn latency sampling on or\n"
		"off, as it says.  On any error nothing is changed.  check: only check.\n"
		"\n"
		"FILE holds shell-like KEY=value lines ('#' starts a comment; values may\n"
		"be quoted); a key that is not there leaves that setting as it is:\n"
		"  DEFAULT_POLICY=none|auto|follow|housekeeping\n"
		"                    the policy of every vector no pisteer steer names,\n"
		"                    for VMs running now and started later (none: not steered)\n"
		"  HOUSEKEEPING_CPUS=LIST\n"
		"                    CPUs for the default's housekeeping, e.g. 0-1,8\n"
		"                    (empty: the kernel's housekeeping CPUs)\n"
		"  LATENCY_SAMPLING=yes|no\n"
		"                    latency sampling of every VM (pisteer lat)\n"
		"  HOOK_POLICY=auto|follow|housekeeping|off|none\n"
		"                    the policy the libvirt hook sets for each domain it\n"
		"                    starts (none: it sets none; unset: DEFAULT_POLICY, or\n"
		"                    auto when that is none); apply does not use it\n"
		"\n"
		"  --file FILE   the file to apply or check\n"
		"\n"
		"PISTEER_SYSFS (default /sys) is where the module's parameters are looked\n"
		"for.\n");
}

static const char *const policy_words[] = { "none", "auto", "follow", "housekeeping" };
static const char *const hook_words[] = { "auto", "follow", "housekeeping", "off", "none" };

static int word_in(const char *w, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, words[i]))
			return (int)i;
	return -1;
}

/*
 * One value: unquoted (no blanks, quotes, $, `, \), or in single or double
 * quotes (none of those inside double quotes either); then only blanks
 * and a comment.  Into @out; NULL, or what is wrong.
 */
static const char *parse_value(const char *p, char *out, size_t len)
{
	size_t n = 0;
	char q = 0;

	if (*p == '\'' || *p == '"')
		q = *p++;
	for (; *p && (q ? *p != q : *p != ' ' && *p != '\t'); p++) {
		if (!q && (*p == '\'' || *p == '"'))
			return "a quote inside an unquoted value";
		if (q != '\'' && (*p == '$' || *p == '`' || *p == '\\'))
			return "$, ` and \\ are not supported (no expansion is done)";
		if (n + 1 >= len)
			return "value too long";
		out[n++] = *p;
	}
	out[n] = '\0';
	if (q) {
		if (*p != q)
			return "unterminated quote";
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != '#')
		return "more than one value (quote a value with blanks)";
	return NULL;
}

static int fail(char *err, size_t errlen, const char *name, unsigned int line,
		const char *fmt, const char *arg)
{
	char what[256];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(err, errlen, "%s:%u: %s", name, line, what);
	return -EINVAL;
}

/* One KEY=value line (@p stripped of leading blanks) into @c. */
static int parse_line(char *p, struct config_settings *c, const char *name,
		      unsigned int line, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"DEFAULT_POLICY", "HOUSEKEEPING_CPUS", "LATENCY_SAMPLING", "HOOK_POLICY",
	};
	char value[256], why[128];
	const char *bad;
	char *eq = strchr(p, '=');
	int k, i;

	if (!eq || eq == p)
		return fail(err, errlen, name, line, "not KEY=value: '%s'", p);
	if (eq[-1] == ' ' || eq[-1] == '\t' || eq[1] == ' ' || eq[1] == '\t')
		return fail(err, errlen, name, line, "%s",
			    "no blanks around '=' (KEY=value, as in a shell)");
	*eq = '\0';
	k = word_in(p, keys, sizeof(keys) / sizeof(keys[0]));
	if (k < 0)
		return fail(err, errlen, name, line,
			    "unknown key '%s' (DEFAULT_POLICY, HOUSEKEEPING_CPUS, LATENCY_SAMPLING, HOOK_POLICY)",
			    p);
	if (c->line[k])
		return fail(err, errlen, name, line, "%s is set twice", p);
	bad = parse_value(eq + 1, value, sizeof(value));
	if (bad)
		return fail(err, errlen, name, line, "%s", bad);
	switch (k) {
	case 0:
		i = word_in(value, policy_words, sizeof(policy_words) / sizeof(policy_words[0]));
		if (i < 0)
			return fail(err, errlen, name, line,
				    "DEFAULT_POLICY: '%s' is not none, auto, follow or housekeeping",
				    value);
		snprintf(c->default_policy, sizeof(c->default_policy), "%s", value);
		break;
	case 1:
		if (pst_cpus_parse(value, true, &c->cpus, why, sizeof(why))) {
			snprintf(value + strlen(value), sizeof(value) - strlen(value), "': %s", why);
			return fail(err, errlen, name, line,
				    "HOUSEKEEPING_CPUS: not a CPU list like 0-1,8: '%s", value);
		}
		break;
	case 2:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return fail(err, errlen, name, line,
				    "LATENCY_SAMPLING: '%s' is not yes or no", value);
		c->sampling = !strcmp(value, "yes");
		break;
	default:
		i = word_in(value, hook_words, sizeof(hook_words) / sizeof(hook_words[0]));
		if (i < 0)
			return fail(err, errlen, name, line,
				    "HOOK_POLICY: '%s' is not auto, follow, housekeeping, off or none",
				    value);
		snprintf(c->hook_policy, sizeof(c->hook_policy), "%s", value);
		break;
	}
	c->line[k] = line;
	return 0;
}

int config_parse(FILE *f, const char *name, struct config_settings *c, char *err,
		 size_t errlen)
{
	char buf[1024], *p, *end;
	unsigned int line = 0;
	int ret;

	memset(c, 0, sizeof(*c));
	c->sampling = -1;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		end = buf + strlen(buf);
		if (end > buf && end[-1] != '\n' && !feof(f))
			return fail(err, errlen, name, line, "%s", "line too long");
		while (end > buf && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' ||
				     end[-1] == '\r'))
			*--end = '\0';
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == '#')
			continue;
		ret = parse_line(p, c, name, line, err, errlen);
		if (ret)
			return ret;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* /sys/module/pisteer/parameters/NAME, under $PISTEER_SYSFS. */
static void param_path(const char *param, char *buf, size_t len)
{
	const char *sys = getenv("PISTEER_SYSFS");

	snprintf(buf, len, "%s/module/pisteer/parameters/%s", sys && *sys ? sys : "/sys",
		 param);
}

/* Read a parameter (its newline dropped): 0 or -errno. */
static int param_read(const char *param, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	param_path(param, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static int param_write(const char *param, const char *value)
{
	char path[512], line[512];
	ssize_t n;
	int fd, len;

	param_path(param, path, sizeof(path));
	len = snprintf(line, sizeof(line), "%s\n", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, (size_t)len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	return n == len ? 0 : -EIO;
}

/* The module parameters as they were, to put back after a failure. */
struct saved_params {
	char policy[32];
	char cpus[512];
	bool policy_written, cpus_written;
};

static void restore(const struct saved_params *s)
{
	if (s->policy_written && param_write("default_policy", s->policy))
		fprintf(stderr, "pisteer config: could not put default_policy back to '%s'\n",
			s->policy);
	if (s->cpus_written && param_write("housekeeping_cpus", s->cpus))
		fprintf(stderr, "pisteer config: could not put housekeeping_cpus back to '%s'\n",
			s->cpus);
}

static int set_sampling(int on)
{
	struct pisteer_lat_ctl c = {
		.size = sizeof(c),
		.op = on ? PISTEER_LAT_ENABLE : PISTEER_LAT_DISABLE,
		.scope = PISTEER_LAT_SCOPE_ALL,
	};
	int fd, err;

	fd = pst_dev_open_checked(NULL);
	if (fd < 0)
		return fd;
	err = pst_dev_lat_ctl(fd, &c);
	close(fd);
	if (err == -ENODEV)
		fprintf(stderr, "pisteer config: LATENCY_SAMPLING=yes: nothing to probe: vfio-pci and kvm_amd or kvm_intel are not loaded\n");
	else if (err)
		fprintf(stderr, "pisteer config: LATENCY_SAMPLING: %s\n", strerror(-err));
	return err;
}

/* Write what @c sets; on a failure put back what was written. */
static int apply(const struct config_settings *c, const char *name)
{
	struct saved_params s = { 0 };
	char cpus[PST_MAX_CPUS * 5] = "";
	int err;

	if (c->line[0] || c->line[1]) {
		err = param_read("default_policy", s.policy, sizeof(s.policy));
		if (!err)
			err = param_read("housekeeping_cpus", s.cpus, sizeof(s.cpus));
		if (err == -ENOENT) {
			fprintf(stderr, "pisteer config: the pisteer module is not loaded, or has no default_policy parameter (ABI below 0.9)\n");
			return PST_EXIT_NO_MODULE;
		}
		if (err) {
			fprintf(stderr, "pisteer config: reading the module's parameters: %s\n",
				strerror(-err));
			return pst_exit_for(-err);
		}
	}
	/* The CPUs first: a housekeeping default starts on the right ones. */
	if (c->line[1]) {
		pst_cpus_format(&c->cpus, cpus, sizeof(cpus));
		err = param_write("housekeeping_cpus", strcmp(cpus, "-") != 0 ? cpus : "");
		if (err) {
			fprintf(stderr, "pisteer config: %s:%u: HOUSEKEEPING_CPUS=%s: the module refused it: %s\n",
				name, c->line[1], cpus, err == -EINVAL ?
				"a CPU this host does not have" : strerror(-err));
			return pst_exit_for(-err);
		}
		s.cpus_written = true;
	}
	if (c->line[0]) {
		err = param_write("default_policy", c->default_policy);
		if (err) {
			fprintf(stderr, "pisteer config: %s:%u: DEFAULT_POLICY=%s: the module refused it: %s\n",
				name, c->line[0], c->default_policy, strerror(-err));
			restore(&s);
			return pst_exit_for(-err);
		}
		s.policy_written = true;
	}
	if (c->sampling >= 0) {
		err = set_sampling(c->sampling);
		if (err) {
			restore(&s);
			return pst_exit_for(-err == ENODEV ? EIO : -err);
		}
	}
	printf("pisteer config: applied %s", name);
	if (c->line[0])
		printf("; default policy %s", c->default_policy);
	if (c->line[1])
		printf("; housekeeping CPUs %s", strcmp(cpus, "-") != 0 ? cpus : "the kernel's");
	if (c->sampling >= 0)
		printf("; latency sampling %s", c->sampling ? "on" : "off");
	printf("\n");
	return PST_EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *file = CONFIG_DEFAULT_FILE;
	struct cmd_operands ops = { 0 };
	struct config_settings c;
	char err[512];
	int opt, ret;
	FILE *f;

	while ((opt = cmd_getopt(argc, argv, "f:h", opts, &ops)) != -1) {
		switch (opt) {
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return PST_EXIT_OK;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	if (ops.n && cmd_is_help(ops.v[0])) {
		usage(stdout);
		return PST_EXIT_OK;
	}
	if (!ops.n || (strcmp(ops.v[0], "apply") != 0 && strcmp(ops.v[0], "check") != 0)) {
		fprintf(stderr, ops.n ? "pisteer config: unknown operation '%s' (apply, check)\n" :
			"pisteer config: apply or check?%s\n", ops.n ? ops.v[0] : "");
		return PST_EXIT_USAGE;
	}
	if (cmd_operands_max("config", &ops, 1))
		return PST_EXIT_USAGE;
	f = fopen(file, "re");
	if (!f) {
		fprintf(stderr, "pisteer config: %s: %s\n", file, strerror(errno));
		return PST_EXIT_FAIL;
	}
	ret = config_parse(f, file, &c, err, sizeof(err));
	fclose(f);
	if (ret) {
		fprintf(stderr, "pisteer config: %s; nothing applied\n", err);
		return PST_EXIT_FAIL;
	}
	if (!strcmp(ops.v[0], "check")) {
		printf("pisteer config: %s is good\n", file);
		return PST_EXIT_OK;
	}
	return apply(&c, file);
}
