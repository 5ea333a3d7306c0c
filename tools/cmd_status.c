// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer status: one row per passthrough vector, as the module sees it now.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "lib/irqs.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer status [--vm PID] [--device BDF] [--json]\n"
		"                      [--format table|json|prom|openmetrics] [--output FILE]\n"
		"\n"
		"One row per passthrough vector: a VFIO MSI/MSI-X vector of a device\n"
		"whose eventfd feeds a KVM irqfd.  Read from the module when called.\n"
		"\n"
		"  --vm PID       only VMs held by process PID (the QEMU pid)\n"
		"  --device BDF   only this PCI device (0000:3b:00.1 or 3b:00.1)\n"
		"  --json         a JSON array of objects instead of the table\n"
		"  --format FMT   table (the default), json (as --json), prom: the Prometheus\n"
		"                 text format 0.0.4 that node_exporter's textfile collector\n"
		"                 reads, or openmetrics: the same samples as OpenMetrics\n"
		"                 text (info type, # UNIT, # EOF).  Per vector:\n"
		"                 pisteer_vector_info (1; labels mode, reason, policy),\n"
		"                 pisteer_vector_posted, pisteer_steer_moves_total,\n"
		"                 pisteer_steer_overrides_total, pisteer_irq_interrupts_total\n"
		"                 (/proc/interrupts) and, while pisteer lat samples it,\n"
		"                 the pisteer_delivery_latency_seconds histogram\n"
		"  --output FILE  with --format prom or openmetrics: write FILE whole, as a\n"
		"                 temporary file .FILE.XXXXXX in its directory (mode 0644)\n"
		"                 renamed over it; a FILE that cannot be written: exit 1\n"
		"\n"
		"Columns: VM (pid-fd, as KVM names it in debugfs), DEVICE, VEC (MSI-X or\n"
		"MSI index), IRQ (host IRQ), GSI, GVEC (guest vector), VCPU (target vCPU;\n"
		"- when the MSI names no single vCPU), PCPU (host CPU of that vCPU: the one\n"
		"its thread is pinned to, else the one it last ran on), AFFINITY (host IRQ\n"
		"affinity, effective CPU in brackets), STEER (the steering policy in force,\n"
		"see pisteer steer; auto=X: auto chose X, why is said below the table;\n"
		"default:X: no policy was set for it, X is the module's default_policy), MODE\n"
		"(posted or remapped, with the reason).  A mode marked * was read off\n"
		"host state: no posted/remapped transition of the IRTE was observed.\n");
}

/* ", NDST ok" and the like: what the posted-interrupt state says. */
static void pi_summary(const struct pisteer_vector *v, char *buf, size_t len)
{
	const char *what = v->pi_flags & PISTEER_PI_F_AMD ? "dest" : "NDST";

	buf[0] = '\0';
	if (v->mode != PISTEER_MODE_POSTED)
		return;
	if (v->pi_flags & PISTEER_PI_F_AMD && v->pi_flags & PISTEER_PI_F_GA_SEEN)
		snprintf(buf, len, ", %s",
			 v->pi_flags & PISTEER_PI_F_IS_RUNNING ? "IsRun" : "not running");
	if (!(v->pi_flags & PISTEER_PI_F_READ))
		return;
	snprintf(buf + strlen(buf), len - strlen(buf), ", %s %s%s%s", what,
		 v->pi_flags & PISTEER_PI_F_NDST_MATCH ? "ok" : "!= vCPU's CPU",
		 v->pi_flags & PISTEER_PI_F_SN ? ", SN" : "",
		 v->pi_flags & PISTEER_PI_F_ON ? ", ON" : "");
}

/*
 * Steered IRQs someone else moved, and irqbalance, which would keep doing
 * it: the ban it needs.
 */
static void print_overrides(const struct pisteer_vector *v, unsigned int n)
{
	char bans[512] = "";
	unsigned int i, moved = 0;
	size_t len = 0;
	int pid;

	for (i = 0; i < n; i++) {
		if (v[i].steer_overridden) {
			printf("IRQ %u: moved off CPU %d by someone else %u times; pisteer applied its policy again each time\n",
			       v[i].host_irq, v[i].steer_cpu, v[i].steer_overridden);
			moved++;
		}
		if (v[i].steer_cpu >= 0 && len < sizeof(bans) - 16)
			len += snprintf(bans + len, sizeof(bans) - len, "%s--banirq=%u",
					len ? " " : "", v[i].host_irq);
	}
	pid = len ? pst_find_process("irqbalance") : -1;
	if (pid > 0)
		printf("irqbalance (pid %d) is running and may move the steered IRQs: ban them with IRQBALANCE_ARGS=\"%s\" in /etc/default/irqbalance, then 'systemctl restart irqbalance'\n",
		       pid, bans);
	else if (moved)
		printf("(an admin, irqbalance or a CPU going offline moved them: pisteer owns these IRQs' affinity while a policy holds)\n");
}

static void print_table(const struct pisteer_vector *v, unsigned int n)
{
	char bdf[16], aff[64], affcol[80], vm[32], vcpu[16], pcpu[16], mode[128];
	char pi[64], steer[40];
	unsigned int whys = 0, i, unknown_target = 0;
	const char *dflt;
	const struct pisteer_vector *v0 = v;

	printf("%-12s %-12s %-7s %5s %5s %5s %5s %5s %-14s %-17s %s\n", "VM", "DEVICE",
	       "VEC", "IRQ", "GSI", "GVEC", "VCPU", "PCPU", "AFFINITY", "STEER", "MODE");
	for (i = 0; i < n; i++, v++) {
		pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
		pst_format_cpulist(v->irq_affinity, PISTEER_AFFINITY_WORDS, aff,
				   sizeof(aff));
		if (v->irq_effective_cpu >= 0)
			snprintf(affcol, sizeof(affcol), "%s [%d]", aff,
				 v->irq_effective_cpu);
		else
			snprintf(affcol, sizeof(affcol), "%s", aff);
		snprintf(vm, sizeof(vm), "%d-%u", v->vm_pid, v->vm_fd);
		snprintf(vcpu, sizeof(vcpu), v->vcpu >= 0 ? "%d" : "-", v->vcpu);
		if (v->unknown & PISTEER_UNK_TARGET) {
			snprintf(vcpu, sizeof(vcpu), "?");
			unknown_target = v->target_why;
		}
		/* Pinned: where it will run; else where it last ran. */
		snprintf(pcpu, sizeof(pcpu), "%d", v->vcpu_pinned_cpu >= 0 ?
			 v->vcpu_pinned_cpu : v->vcpu_pcpu);
		if (v->vcpu_pinned_cpu < 0 && v->vcpu_pcpu < 0)
			snprintf(pcpu, sizeof(pcpu), "-");
		pi_summary(v, pi, sizeof(pi));
		snprintf(mode, sizeof(mode), "%s%s%s%s%s%s", pst_mode_name(v->mode),
			 v->flags & PISTEER_VEC_F_MODE_INFERRED ? "*" : "",
			 v->reason ? " (" : "", pst_reason_name(v->reason),
			 v->reason ? ")" : "", pi);
		dflt = v->flags & PISTEER_VEC_F_POLICY_DEFAULT ? "default:" : "";
		if (v->policy == PISTEER_POLICY_AUTO) {
			snprintf(steer, sizeof(steer), "%sauto=%s", dflt,
				 v->policy_applied ? pst_policy_name(v->policy_applied) : "-");
			if (v->policy_why < 32)
				whys |= 1U << v->policy_why;
		} else if (v->policy) {
			snprintf(steer, sizeof(steer), "%s%s", dflt, pst_policy_name(v->policy));
		} else {
			snprintf(steer, sizeof(steer), "-");
		}
		printf("%-12s %-12s %-4s%-3u %5u %5u  0x%02x %5s %5s %-14s %-17s %s\n",
		       vm, bdf, v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi",
		       v->index, v->host_irq, v->gsi, v->guest_vector, vcpu, pcpu,
		       affcol, steer, mode);
	}
	/* One line per reason auto had, in the order of the table. */
	for (i = 0, v = v0; i < n; i++, v++) {
		if (v->policy != PISTEER_POLICY_AUTO || v->policy_why >= 32 ||
		    !(whys & (1U << v->policy_why)))
			continue;
		whys &= ~(1U << v->policy_why);
		printf("auto=%s: %s\n",
		       v->policy_applied ? pst_policy_name(v->policy_applied) : "-",
		       pst_why_text(v->policy_why));
	}
	if (unknown_target)
		printf("VCPU ?: the module cannot tell the target (%s)\n",
		       pst_target_unknown_text(unknown_target));
	print_overrides(v0, n);
}

/* AMD: GA tag, guest mode and, once KVM updated the IRTE, IsRun and dest. */
static void amd_to_json(json_object *o, const struct pisteer_vector *v)
{
	json_object_object_add(o, "ga_tag", json_object_new_int64(v->pi_ga_tag));
	json_object_object_add(o, "guest_mode", json_object_new_boolean(
		!!(v->pi_flags & PISTEER_PI_F_GUEST_MODE)));
	if (!(v->pi_flags & PISTEER_PI_F_GA_SEEN))
		return;
	json_object_object_add(o, "is_running", json_object_new_boolean(
		!!(v->pi_flags & PISTEER_PI_F_IS_RUNNING)));
	if (!(v->pi_flags & PISTEER_PI_F_READ))
		return;
	json_object_object_add(o, "dest_apic_id", json_object_new_int64(v->pi_ndst));
	json_object_object_add(o, "dest_expected",
			       json_object_new_int64(v->pi_ndst_expected));
	json_object_object_add(o, "dest_match", json_object_new_boolean(
		!!(v->pi_flags & PISTEER_PI_F_NDST_MATCH)));
}

/* The IRTE observation and posted-interrupt state, or null when none. */
static json_object *pi_to_json(const struct pisteer_vector *v)
{
	json_object *o;

	if (!(v->pi_flags & PISTEER_PI_F_OBSERVED))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "verified_on_this_host", json_object_new_boolean(0));
	json_object_object_add(o, "confirmed", json_object_new_boolean(
		!!(v->pi_flags & PISTEER_PI_F_CONFIRMED)));
	json_object_object_add(o, "iommu", json_object_new_string(
		v->pi_flags & PISTEER_PI_F_AMD ? "amd" :
		v->pi_flags & PISTEER_PI_F_INTEL ? "intel" : "none"));
	json_object_object_add(o, "pi_addr_known", json_object_new_boolean(
		!!(v->pi_flags & PISTEER_PI_F_ADDR_KNOWN)));
	if (v->pi_flags & PISTEER_PI_F_INTEL && v->pi_flags & PISTEER_PI_F_READ) {
		json_object_object_add(o, "ndst", json_object_new_int64(v->pi_ndst));
		json_object_object_add(o, "ndst_expected",
				       json_object_new_int64(v->pi_ndst_expected));
		json_object_object_add(o, "ndst_match", json_object_new_boolean(
			!!(v->pi_flags & PISTEER_PI_F_NDST_MATCH)));
		json_object_object_add(o, "on", json_object_new_boolean(
			!!(v->pi_flags & PISTEER_PI_F_ON)));
		json_object_object_add(o, "sn", json_object_new_boolean(
			!!(v->pi_flags & PISTEER_PI_F_SN)));
	}
	if (v->pi_flags & PISTEER_PI_F_AMD)
		amd_to_json(o, v);
	return o;
}

char *status_to_json(const struct pisteer_vector *v, unsigned int n)
{
	json_object *arr = json_object_new_array(), *o;
	char bdf[16], aff[4096], vm[32];
	unsigned int i;
	char *doc;

	if (!arr)
		return NULL;
	for (i = 0; i < n; i++, v++) {
		o = json_object_new_object();
		pst_format_bdf(v->pci_seg, v->pci_bus, v->pci_devfn, bdf, sizeof(bdf));
		pst_format_cpulist(v->irq_affinity, PISTEER_AFFINITY_WORDS, aff,
				   sizeof(aff));
		snprintf(vm, sizeof(vm), "%d-%u", v->vm_pid, v->vm_fd);
		json_object_object_add(o, "vm", json_object_new_string(vm));
		json_object_object_add(o, "vm_pid", json_object_new_int(v->vm_pid));
		json_object_object_add(o, "vm_start", json_object_new_uint64(v->vm_start));
		json_object_object_add(o, "device", json_object_new_string(bdf));
		json_object_object_add(o, "irq_type", json_object_new_string(
			v->irq_type == PISTEER_IRQ_MSIX ? "msix" : "msi"));
		json_object_object_add(o, "index", json_object_new_int64(v->index));
		json_object_object_add(o, "host_irq", json_object_new_int64(v->host_irq));
		json_object_object_add(o, "gsi", json_object_new_int64(v->gsi));
		json_object_object_add(o, "guest_vector", json_object_new_int(v->guest_vector));
		json_object_object_add(o, "dest_id", json_object_new_int64(v->dest_id));
		json_object_object_add(o, "dest_logical", json_object_new_boolean(
			!!(v->flags & PISTEER_VEC_F_DEST_LOGICAL)));
		json_object_object_add(o, "delivery_mode", json_object_new_int(v->delivery_mode));
		json_object_object_add(o, "vcpu", v->vcpu >= 0 ?
				       json_object_new_int(v->vcpu) : NULL);
		json_object_object_add(o, "vcpu_unknown", v->unknown & PISTEER_UNK_TARGET ?
				       json_object_new_string(pst_target_unknown_text(v->target_why)) :
				       NULL);
		json_object_object_add(o, "target_how", pst_target_how_name(v->target_how) ?
				       json_object_new_string(pst_target_how_name(v->target_how)) :
				       NULL);
		json_object_object_add(o, "apicv_unknown", json_object_new_boolean(
			!!(v->unknown & PISTEER_UNK_APICV)));
		json_object_object_add(o, "vcpu_tid", v->vcpu_tid > 0 ?
				       json_object_new_int(v->vcpu_tid) : NULL);
		json_object_object_add(o, "vcpu_pcpu", v->vcpu_pcpu >= 0 ?
				       json_object_new_int(v->vcpu_pcpu) : NULL);
		json_object_object_add(o, "vcpu_nr_allowed",
				       json_object_new_int64(v->vcpu_nr_allowed));
		json_object_object_add(o, "irq_affinity", json_object_new_string(aff));
		json_object_object_add(o, "irq_effective_cpu", v->irq_effective_cpu >= 0 ?
				       json_object_new_int(v->irq_effective_cpu) : NULL);
		json_object_object_add(o, "mode", json_object_new_string(pst_mode_name(v->mode)));
		json_object_object_add(o, "reason", v->reason ?
				       json_object_new_string(pst_reason_name(v->reason)) : NULL);
		json_object_object_add(o, "mode_inferred", json_object_new_boolean(
			!!(v->flags & PISTEER_VEC_F_MODE_INFERRED)));
		json_object_object_add(o, "paired", json_object_new_boolean(
			!!(v->flags & PISTEER_VEC_F_PAIRED)));
		json_object_object_add(o, "iommu_ir", v->flags & PISTEER_VEC_F_IR_INTEL ?
				       json_object_new_string("intel") :
				       v->flags & PISTEER_VEC_F_IR_AMD ?
				       json_object_new_string("amd") : NULL);
		json_object_object_add(o, "posted_state", pi_to_json(v));
		json_object_object_add(o, "vcpu_pinned_cpu", v->vcpu_pinned_cpu >= 0 ?
				       json_object_new_int(v->vcpu_pinned_cpu) : NULL);
		json_object_object_add(o, "policy", v->policy ?
				       json_object_new_string(pst_policy_name(v->policy)) : NULL);
		json_object_object_add(o, "policy_default", json_object_new_boolean(
			!!(v->flags & PISTEER_VEC_F_POLICY_DEFAULT)));
		json_object_object_add(o, "steer_cpu", v->steer_cpu >= 0 ?
				       json_object_new_int(v->steer_cpu) : NULL);
		json_object_object_add(o, "steer_moves", json_object_new_int64(v->steer_moves));
		json_object_object_add(o, "steer_overridden",
				       json_object_new_int64(v->steer_overridden));
		json_object_object_add(o, "policy_applied", v->policy_applied ?
				       json_object_new_string(pst_policy_name(v->policy_applied)) : NULL);
		json_object_object_add(o, "policy_why", v->policy_why ?
				       json_object_new_string(pst_why_name(v->policy_why)) : NULL);
		json_object_object_add(o, "policy_why_text", v->policy_why ?
				       json_object_new_string(pst_why_text(v->policy_why)) : NULL);
		json_object_array_add(arr, o);
	}
	doc = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return doc;
}

/* The module dropped probe hits: its picture may lag a change. */
static void warn_missed(const struct pisteer_version *ver)
{
	if (!ver->probes_missed)
		return;
	fprintf(stderr,
		"pisteer status: warning: the module missed %llu probe hits; a change "
		"may have shown only at a later scan (/sys/kernel/debug/pisteer/probes)\n",
		(unsigned long long)ver->probes_missed);
}

int cmd_opt_pid(const char *cmd, const char *arg, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "pisteer %s: --vm takes a process id, not '%s'\n",
			cmd, arg);
		return -1;
	}
	*pid = (int)v;
	return 0;
}

int cmd_opt_bdf(const char *cmd, const char *arg, struct pst_bdf *bdf)
{
	if (!pst_parse_bdf(arg, bdf))
		return 0;
	fprintf(stderr, "pisteer %s: --device takes a PCI address like 0000:3b:00.1, not '%s'\n",
		cmd, arg);
	return -1;
}

/* The command line of status: 0, 1 after --help, or an exit status. */
static int status_opts(int argc, char **argv, struct pst_filter *f, int *format,
		       const char **output)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	int opt, fmt = -1, json = 0;
	size_t len;

	while ((opt = cmd_getopt(argc, argv, "v:d:jf:o:h", opts, &ops)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid("status", optarg, &f->pid))
				return PST_EXIT_USAGE;
			break;
		case 'd':
			if (cmd_opt_bdf("status", optarg, &f->bdf))
				return PST_EXIT_USAGE;
			f->has_bdf = true;
			break;
		case 'j':
			json = 1;
			break;
		case 'f':
			fmt = status_parse_format(optarg);
			if (fmt < 0) {
				fprintf(stderr, "pisteer status: --format takes table, json, prom or openmetrics, not '%s'\n",
					optarg);
				return PST_EXIT_USAGE;
			}
			break;
		case 'o':
			len = strlen(optarg);
			if (!len || optarg[len - 1] == '/') {
				fprintf(stderr, "pisteer status: --output takes a file name, not '%s'\n",
					optarg);
				return PST_EXIT_USAGE;
			}
			*output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	if (json && fmt >= 0 && fmt != STATUS_FMT_JSON) {
		fprintf(stderr, "pisteer status: --json is --format json: it conflicts with --format %s\n",
			status_format_name(fmt));
		return PST_EXIT_USAGE;
	}
	*format = json ? STATUS_FMT_JSON : fmt >= 0 ? fmt : STATUS_FMT_TABLE;
	if (*output && *format != STATUS_FMT_PROM && *format != STATUS_FMT_OPENMETRICS) {
		fprintf(stderr, "pisteer status: --output goes with --format prom or openmetrics\n");
		return PST_EXIT_USAGE;
	}
	return cmd_operands_max("status", &ops, 0);
}

/*
 * --output FILE: written as the temporary file .FILE.XXXXXX in FILE's
 * directory (mode 0644; a collector reads only *.prom), renamed over FILE
 * once whole, so that a reader sees the old file or the new one.
 */
struct status_out {
	const char *path;
	char *tmp;
	FILE *f;
};

/* Create the temporary file: 0, or an exit status after saying why. */
static int status_out_open(struct status_out *o, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0, tfd, err;
	struct stat st;

	o->path = path;
	o->tmp = NULL;
	o->f = NULL;
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pisteer status: --output %s: is a directory, not a file\n", path);
		return PST_EXIT_FAIL;
	}
	if (asprintf(&o->tmp, "%.*s.%s.XXXXXX", dlen, path, path + dlen) < 0) {
		o->tmp = NULL;
		return PST_EXIT_FAIL;
	}
	tfd = mkstemp(o->tmp);
	if (tfd < 0) {
		err = errno;
		fprintf(stderr, "pisteer status: --output %s: cannot create a file in %.*s: %s\n",
			path, dlen ? dlen : 1, dlen ? path : ".", strerror(err));
		free(o->tmp);
		o->tmp = NULL;
		return PST_EXIT_FAIL;
	}
	if (fchmod(tfd, 0644) || !(o->f = fdopen(tfd, "w"))) {
		err = errno;
		fprintf(stderr, "pisteer status: --output %s: %s: %s\n", path, o->tmp,
			strerror(err));
		close(tfd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return PST_EXIT_FAIL;
	}
	return PST_EXIT_OK;
}

/* Without the file written: the temporary file goes. */
static void status_out_discard(struct status_out *o)
{
	if (!o->tmp)
		return;
	fclose(o->f);
	unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

/* Flush, sync and rename over FILE: 0, or an exit status, nothing left. */
static int status_out_commit(struct status_out *o)
{
	int err = 0;

	if (fflush(o->f) || fsync(fileno(o->f)))
		err = errno;
	if (fclose(o->f) && !err)
		err = errno;
	o->f = NULL;
	if (!err && rename(o->tmp, o->path))
		err = errno;
	if (err) {
		fprintf(stderr, "pisteer status: --output %s: %s\n", o->path, strerror(err));
		unlink(o->tmp);
	}
	free(o->tmp);
	o->tmp = NULL;
	return err ? PST_EXIT_FAIL : PST_EXIT_OK;
}

/*
 * --format prom or openmetrics: the latency samples, if any, and the IRQ
 * counts, then the text into @out.  0, or -1 when writing failed.
 */
static int write_metrics(FILE *out, int fd, int format, const struct pst_filter *filter,
			 const struct pisteer_vector *vecs, unsigned int n)
{
	struct pisteer_lat_vector *lat = NULL;
	struct pisteer_lat_read hdr;
	unsigned int nlat = 0, i;
	uint64_t *counts;
	unsigned int *irqs;
	int err;

	if (pst_lat_read(fd, filter, &hdr, &lat, &nlat)) {
		lat = NULL;
		nlat = 0;
	}
	counts = calloc(n ? n : 1, sizeof(*counts));
	irqs = calloc(n ? n : 1, sizeof(*irqs));
	if (!counts || !irqs) {
		err = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		irqs[i] = vecs[i].host_irq;
	err = pst_irq_counts(irqs, n, counts);
	if (err)
		fprintf(stderr, "pisteer status: warning: /proc/interrupts: %s; no pisteer_irq_interrupts_total\n",
			strerror(-err));
	err = status_to_metrics(out, format, vecs, n, err ? NULL : counts, lat, nlat);
	if (!err && fflush(out))
		err = -1;
out:
	free(irqs);
	free(counts);
	free(lat);
	return err;
}

int cmd_status(int argc, char **argv)
{
	struct pst_filter filter = { 0 };
	struct pisteer_version ver;
	struct pisteer_vector *vecs;
	struct status_out out = { 0 };
	const char *output = NULL;
	unsigned int n;
	int fd, err, werr, format, rc;
	char *doc;

	err = status_opts(argc, argv, &filter, &format, &output);
	if (err)
		return err == 1 ? PST_EXIT_OK : err;
	/* A file that cannot be written is said before the module is asked. */
	if (output) {
		rc = status_out_open(&out, output);
		if (rc)
			return rc;
	}

	fd = pst_dev_open_checked(&ver);
	if (fd < 0) {
		status_out_discard(&out);
		return pst_exit_for(-fd);
	}
	err = -pst_list_vectors(fd, &filter, &vecs, &n);
	if (err) {
		close(fd);
		warn_missed(&ver);
		status_out_discard(&out);
		fprintf(stderr, "pisteer status: listing vectors: %s%s\n", strerror(err),
			err == ENOTTY ? " (the loaded module is older than this tool)" : "");
		return pst_exit_for(err);
	}
	if (format == STATUS_FMT_PROM || format == STATUS_FMT_OPENMETRICS) {
		err = write_metrics(output ? out.f : stdout, fd, format, &filter, vecs, n);
		werr = errno;
		close(fd);
		warn_missed(&ver);
		free(vecs);
		if (err) {
			fprintf(stderr, "pisteer status: writing %s: %s\n",
				output ? output : "the metrics", strerror(werr));
			status_out_discard(&out);
			return PST_EXIT_FAIL;
		}
		return output ? status_out_commit(&out) : PST_EXIT_OK;
	}
	close(fd);
	warn_missed(&ver);
	if (format == STATUS_FMT_JSON) {
		doc = status_to_json(vecs, n);
		if (!doc) {
			free(vecs);
			return PST_EXIT_FAIL;
		}
		printf("%s\n", doc);
		free(doc);
	} else if (!n) {
		printf("no passthrough vectors%s\n",
		       filter.pid || filter.has_bdf ? " match" : " (no VFIO vector feeds a KVM irqfd)");
	} else {
		print_table(vecs, n);
	}
	free(vecs);
	return PST_EXIT_OK;
}
