// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer pin: pin a VM's vCPU threads 1:1 to physical CPUs near its
 * passthrough devices, its emulator threads to the housekeeping CPUs, and
 * have the module steer its host IRQs to follow; --undo puts it all back.
 * A libvirt domain (--domain) is pinned through libvirt's API, so that
 * libvirt's cgroups and live XML say what pin did, and --undo gives back
 * libvirt's own pinning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/cgcpuset.h"
#include "lib/lvpin.h"
#include "lib/pisteer_dev.h"
#include "lib/place.h"
#include "lib/qmp.h"
#include "lib/state.h"
#include "lib/topo.h"
#include "lib/vmproc.h"

#define MAX_DEVICES	16

struct pin_opts {
	int pid;
	const char *qmp;
	const char *domain;
	struct pst_bdf dev[MAX_DEVICES];
	unsigned int nr_dev;
	struct pst_cpus housekeeping;
	struct pst_cpus only;
	bool has_only;
	bool dry_run, json, undo;
};

struct plan {
	int pid;
	unsigned long long start;
	int node;			/* preferred node, -1 none */
	char node_from[160];
	unsigned int nr, nr_vcpus;
	struct pst_thread *th;		/* vCPUs first, by index */
	struct pst_pin_thread *pt;	/* same order */
	bool *exited;
	struct pst_lv *lv;		/* --domain: pinned through libvirt */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer pin (--vm PID | --qmp SOCKET | --domain NAME) [OPTIONS]\n"
		"       pisteer pin --undo [--vm PID | --qmp SOCKET | --domain NAME]\n"
		"\n"
		"Pin each vCPU thread of a QEMU/KVM VM to a physical CPU of its own,\n"
		"its other (emulator) threads to the housekeeping CPUs, then ask the\n"
		"pisteer module to make the VM's host IRQs follow its vCPUs.\n"
		"\n"
		"  --vm PID             the QEMU process; vCPU threads by name ('CPU n/KVM',\n"
		"                       'CPU n/TCG')\n"
		"  --qmp SOCKET         ask QEMU's QMP unix socket (query-cpus-fast); the\n"
		"                       process is the socket's peer unless --vm names it\n"
		"  --domain NAME        a running libvirt domain, pinned through libvirt\n"
		"                       (virsh vcpupin/emulatorpin show it; --undo gives\n"
		"                       back libvirt's pinning); the URI: $LIBVIRT_DEFAULT_URI,\n"
		"                       else qemu:///system\n"
		"  --device BDF         passthrough device whose NUMA node is preferred\n"
		"                       (repeatable; default: the VM's devices in the\n"
		"                       module's vector table)\n"
		"  --housekeeping LIST  CPUs for emulator threads, never for vCPUs (default 0)\n"
		"  --cpus LIST          place vCPUs on these CPUs only\n"
		"  --dry-run            print the plan, change nothing\n"
		"  --json               print the plan as JSON\n"
		"  --undo               restore the affinities saved when the VM was pinned\n"
		"                       (all pinned VMs when none is named) and remove the\n"
		"                       module policy pin set\n"
		"\n"
		"Placement: CPUs on the devices' NUMA node first, one vCPU per core before\n"
		"SMT siblings, never a housekeeping CPU or a CPU another pinned VM holds.\n"
		"Each thread's cpuset cgroup must allow its target; a libvirt-managed\n"
		"thread named by --vm or --qmp is refused with the virsh command that\n"
		"moves it (--domain does it through libvirt).\n"
		"State: $PISTEER_STATE_DIR (default /run/pisteer), pin-PID.json.\n");
}

static int parse_list(const char *opt, const char *arg, struct pst_cpus *set)
{
	char why[128];

	if (!pst_cpus_parse(arg, false, set, why, sizeof(why)))
		return 0;
	fprintf(stderr, "pisteer pin: %s takes a CPU list like 2-5,8, not '%s': %s\n",
		opt, arg, why);
	return -1;
}

/* 0, 1 when --help was shown, -1 after saying what is wrong. */
static int parse_opts(int argc, char **argv, struct pin_opts *o)
{
	static const struct option opts[] = {
		{ "vm", required_argument, NULL, 'v' },
		{ "qmp", required_argument, NULL, 'q' },
		{ "domain", required_argument, NULL, 'D' },
		{ "device", required_argument, NULL, 'd' },
		{ "housekeeping", required_argument, NULL, 'k' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "undo", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	int opt;

	pst_cpus_zero(&o->housekeeping);
	pst_cpus_set(&o->housekeeping, 0);
	while ((opt = cmd_getopt(argc, argv, "h", opts, &ops)) != -1) {
		switch (opt) {
		case 'v':
			if (cmd_opt_pid("pin", optarg, &o->pid))
				return -1;
			break;
		case 'q':
			o->qmp = optarg;
			break;
		case 'D':
			o->domain = optarg;
			break;
		case 'd':
			if (o->nr_dev == MAX_DEVICES) {
				fprintf(stderr, "pisteer pin: at most %d --device\n", MAX_DEVICES);
				return -1;
			}
			if (cmd_opt_bdf("pin", optarg, &o->dev[o->nr_dev]))
				return -1;
			o->nr_dev++;
			break;
		case 'k':
			if (parse_list("--housekeeping", optarg, &o->housekeeping))
				return -1;
			break;
		case 'c':
			if (parse_list("--cpus", optarg, &o->only))
				return -1;
			o->has_only = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'j':
			o->json = true;
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
	if (cmd_operands_max("pin", &ops, 0))
		return -1;
	if (o->domain && (o->pid || o->qmp)) {
		fprintf(stderr, "pisteer pin: --domain names the VM: no --vm or --qmp with it\n");
		return -1;
	}
	if (!o->undo && !o->pid && !o->qmp && !o->domain) {
		fprintf(stderr, "pisteer pin: name the VM: --vm PID, --qmp SOCKET or --domain NAME\n");
		return -1;
	}
	if (o->undo && (o->dry_run || o->has_only || o->nr_dev)) {
		fprintf(stderr, "pisteer pin: --undo takes only the VM (--vm, --qmp, --domain)\n");
		return -1;
	}
	return 0;
}

/* The VM's process and threads.  0 or an exit status. */
static int find_vm(const struct pin_opts *o, struct plan *p, bool need_threads)
{
	struct pst_vcpu_tid *q = NULL;
	unsigned int nq = 0;
	char why[512];
	int rc, peer;

	if (o->domain) {
		p->pid = pst_libvirt_pid(o->domain, why, sizeof(why));
		if (p->pid < 0) {
			fprintf(stderr, "pisteer pin: %s\n", why);
			return PST_EXIT_FAIL;
		}

	} else {
		p->pid = o->pid;
	}
	if (o->qmp) {
		rc = pst_qmp_query_cpus(o->qmp, &q, &nq, &peer, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "pisteer pin: %s\n", why);
			return PST_EXIT_FAIL;
		}
		if (!p->pid)
			p->pid = peer;
		if (p->pid <= 0) {
			fprintf(stderr, "pisteer pin: cannot tell which process serves %s: add --vm PID\n",
				o->qmp);
			free(q);
			return PST_EXIT_FAIL;
		}
	}
	p->start = pst_proc_start(p->pid);
	if (!need_threads)
		goto out;
	rc = pst_vm_threads(p->pid, q, nq, &p->th, &p->nr, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "pisteer pin: %s\n", why);
		free(q);
		return PST_EXIT_FAIL;
	}
	for (p->nr_vcpus = 0; p->nr_vcpus < p->nr && p->th[p->nr_vcpus].vcpu >= 0;)
		p->nr_vcpus++;
	if (o->domain) {
		p->lv = pst_lv_open(NULL, o->domain, why, sizeof(why));
		if (!p->lv) {
			fprintf(stderr, "pisteer pin: %s\n", why);
			free(q);
			return PST_EXIT_FAIL;
		}
	}
out:
	free(q);
	return 0;
}

/* Is the VM of a state file still the same running process? */
static bool state_alive(const struct pst_pin_state *st)
{
	unsigned long long start = pst_proc_start(st->pid);

	return start && start == st->start;
}

/* CPUs the vCPUs of other pinned VMs hold.  0 or an exit status. */
static int held_cpus(int self, struct pst_cpus *held, bool quiet)
{
	struct pst_pin_state st;
	char path[512];
	int *pids, n, i;
	unsigned int j;

	pst_cpus_zero(held);
	n = pst_pin_state_list(&pids);
	if (n < 0) {
		fprintf(stderr, "pisteer pin: %s: %s\n", pst_state_dir(), strerror(-n));
		return PST_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (pids[i] == self)
			continue;
		pst_pin_state_path(pids[i], path, sizeof(path));
		if (pst_pin_state_load(path, &st)) {
			fprintf(stderr, "pisteer pin: warning: %s is unreadable: ignored\n", path);
			continue;
		}
		if (!state_alive(&st)) {
			if (!quiet)
				fprintf(stderr,
					"pisteer pin: note: VM %d of %s has exited ('pisteer pin --undo' cleans up)\n",
					st.pid, path);
		} else {
			for (j = 0; j < st.nr; j++)
				if (st.t[j].vcpu >= 0)
					pst_cpus_or(held, held, &st.t[j].cpus);
		}
		pst_pin_state_free(&st);
	}
	free(pids);
	return 0;
}

static void add_node(int *count, int node)
{
	if (node >= 0 && node < PST_MAX_CPUS)
		count[node]++;
}

/* The preferred NUMA node: the one most of the VM's devices sit on. */
static void device_node(const struct pin_opts *o, struct plan *p)
{
	static int count[PST_MAX_CPUS];
	struct pisteer_vector *v = NULL;
	struct pst_filter f = { .pid = p->pid };
	unsigned int i, nv = 0, nd = 0;
	char bdf[16], seen[MAX_DEVICES * 16 + 1] = "";
	int fd, best = -1, node;

	memset(count, 0, sizeof(count));
	p->node = -1;
	if (o->nr_dev) {
		for (i = 0; i < o->nr_dev; i++) {
			pst_format_bdf(o->dev[i].seg, o->dev[i].bus, o->dev[i].devfn, bdf,
				       sizeof(bdf));
			node = pst_pci_numa_node(bdf);
			if (node == -ENOENT)
				fprintf(stderr, "pisteer pin: warning: no PCI device %s\n", bdf);
			add_node(count, node);
			nd++;
		}
		snprintf(p->node_from, sizeof(p->node_from), "--device");
	} else {
		fd = pst_dev_open_quiet();
		if (fd < 0 || pst_list_vectors(fd, &f, &v, &nv)) {
			snprintf(p->node_from, sizeof(p->node_from),
				 "module not loaded and no --device");
			if (fd >= 0) {
				snprintf(p->node_from, sizeof(p->node_from),
					 "the module's vector table is unreadable");
				close(fd);
			}
			return;
		}
		close(fd);
		for (i = 0; i < nv; i++) {
			pst_format_bdf(v[i].pci_seg, v[i].pci_bus, v[i].pci_devfn, bdf,
				       sizeof(bdf));
			if (strstr(seen, bdf) || strlen(seen) + 14 > sizeof(seen))
				continue;
			snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s ", bdf);
			add_node(count, pst_pci_numa_node(bdf));
			nd++;
		}
		free(v);
		snprintf(p->node_from, sizeof(p->node_from), "%s",
			 nd ? "the VM's passthrough devices" :
			 "the module lists no passthrough vector of this VM");
	}
	for (i = 0; i < PST_MAX_CPUS; i++)
		if (count[i] && (best < 0 || count[i] > count[best]))
			best = (int)i;
	p->node = best;
	if (nd && best < 0)
		snprintf(p->node_from, sizeof(p->node_from), "the devices have no NUMA node");
}

static int vcpu_cpu(const struct plan *p, unsigned int i)
{
	return pst_cpus_first(&p->pt[i].cpus);
}

static void print_table(const struct plan *p, const struct pst_topo *topo,
			const struct pst_cpus *hk, bool dry_run)
{
	char prev[256], cpus[256];
	unsigned int i;
	int c;

	pst_cpus_format(hk, cpus, sizeof(cpus));
	printf("VM %d: %u vCPU threads, %u emulator threads, housekeeping CPUs %s%s\n",
	       p->pid, p->nr_vcpus, p->nr - p->nr_vcpus, cpus,
	       dry_run ? " (dry run: nothing changed)" : "");
	if (p->node >= 0)
		printf("preferred NUMA node %d (from %s)\n", p->node, p->node_from);
	else
		printf("no preferred NUMA node (%s)\n", p->node_from);
	printf("%-9s %-8s %-12s %-5s %-5s %-12s %s\n", "VCPU", "TID", "PCPU", "NODE",
	       "CORE", "BEFORE", "NAME");
	for (i = 0; i < p->nr; i++) {
		pst_cpus_format(&p->pt[i].prev, prev, sizeof(prev));
		pst_cpus_format(&p->pt[i].cpus, cpus, sizeof(cpus));
		if (i < p->nr_vcpus) {
			c = vcpu_cpu(p, i);
			printf("%-9d %-8d %-12d %-5d %-5d %-12s %s%s\n", p->th[i].vcpu,
			       p->th[i].tid, c, topo->cpu[c].node, topo->cpu[c].core, prev,
			       p->th[i].comm, p->exited[i] ? " (exited)" : "");
		} else {
			printf("%-9s %-8d %-12s %-5s %-5s %-12s %s%s\n", "emulator",
			       p->th[i].tid, cpus, "-", "-", prev, p->th[i].comm,
			       p->exited[i] ? " (exited)" : "");
		}
	}
}

static void print_json(const struct plan *p, const struct pst_topo *topo,
		       const struct pst_cpus *hk, bool dry_run, const char *steer,
		       const char *domain)
{
	json_object *root = json_object_new_object(), *vc, *em, *t;
	char buf[256];
	unsigned int i;
	int c;

	vc = json_object_new_array();
	em = json_object_new_array();
	json_object_object_add(root, "pid", json_object_new_int(p->pid));
	json_object_object_add(root, "domain", domain ? json_object_new_string(domain) : NULL);
	json_object_object_add(root, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(root, "node", p->node >= 0 ? json_object_new_int(p->node) : NULL);
	json_object_object_add(root, "node_from", json_object_new_string(p->node_from));
	pst_cpus_format(hk, buf, sizeof(buf));
	json_object_object_add(root, "housekeeping", json_object_new_string(buf));
	for (i = 0; i < p->nr; i++) {
		t = json_object_new_object();
		json_object_object_add(t, "tid", json_object_new_int(p->th[i].tid));
		if (i < p->nr_vcpus) {
			c = vcpu_cpu(p, i);
			json_object_object_add(t, "vcpu", json_object_new_int(p->th[i].vcpu));
			json_object_object_add(t, "cpu", json_object_new_int(c));
			json_object_object_add(t, "node", topo->cpu[c].node >= 0 ?
					       json_object_new_int(topo->cpu[c].node) : NULL);
			json_object_object_add(t, "core", json_object_new_int(topo->cpu[c].core));
			json_object_object_add(t, "package",
					       json_object_new_int(topo->cpu[c].package));
		} else {
			pst_cpus_format(&p->pt[i].cpus, buf, sizeof(buf));
			json_object_object_add(t, "cpus", json_object_new_string(buf));
		}
		json_object_object_add(t, "name", json_object_new_string(p->th[i].comm));
		pst_cpus_format(&p->pt[i].prev, buf, sizeof(buf));
		json_object_object_add(t, "prev", json_object_new_string(buf));
		json_object_object_add(t, "exited", json_object_new_boolean(p->exited[i]));
		json_object_array_add(i < p->nr_vcpus ? vc : em, t);
	}
	json_object_object_add(root, "vcpus", vc);
	json_object_object_add(root, "emulator", em);
	if (steer)
		json_object_object_add(root, "steer", json_object_new_string(steer));
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

/* Every thread's cpuset cgroup must allow its target.  Count of refusals. */
static unsigned int check_cgroups(const struct plan *p)
{
	struct pst_cg_cpuset cg;
	unsigned int i, bad = 0;
	char msg[2048];

	for (i = 0; i < p->nr; i++) {
		if (p->exited[i] || pst_cg_cpuset_of_tid(p->pid, p->th[i].tid, &cg))
			continue;
		if (pst_cg_refuses(&cg, &p->pt[i].cpus, p->th[i].vcpu, p->th[i].tid, msg,
				   sizeof(msg))) {
			fprintf(stderr, "pisteer pin: %s\n", msg);
			bad++;
		}
	}
	return bad;
}

/* Set the module's policy for the VM; a message when it cannot. */
static const char *set_policy(int pid, unsigned int policy)
{
	struct pisteer_policy pol = { .size = sizeof(pol), .scope = PISTEER_SCOPE_VM,
				      .pid = pid, .policy = policy };
	static char msg[160];
	int fd, err;

	fd = pst_dev_open_quiet();
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", pst_dev_path(),
			 pst_exit_for(-fd) == PST_EXIT_NO_MODULE ?
			 "the pisteer module is not loaded" : strerror(-fd));
		return msg;
	}
	err = pst_dev_set_policy(fd, &pol);
	close(fd);
	if (err) {
		snprintf(msg, sizeof(msg), "the module refused the policy: %s",
			 strerror(-err));
		return err == -ENOENT && policy == PISTEER_POLICY_NONE ? NULL : msg;
	}
	return NULL;
}

static void rollback(const struct plan *p, unsigned int upto)
{
	unsigned int i;

	for (i = 0; i < upto; i++)
		if (!p->exited[i])
			pst_cpus_set_affinity(p->th[i].tid, &p->pt[i].prev);
}

/* Give libvirt back its pinning of vCPUs below @upto, and the emulator's. */
static void rollback_lv(const struct plan *p, unsigned int upto, bool emulator)
{
	char why[512];
	unsigned int i;

	for (i = 0; i < upto && i < p->nr_vcpus; i++)
		if (pst_lv_pin_vcpu(p->lv, (unsigned int)p->th[i].vcpu, &p->pt[i].prev, why,
				    sizeof(why)))
			fprintf(stderr, "pisteer pin: rollback: %s\n", why);
	if (emulator && p->nr > p->nr_vcpus &&
	    pst_lv_pin_emulator(p->lv, &p->pt[p->nr_vcpus].prev, why, sizeof(why)))
		fprintf(stderr, "pisteer pin: rollback: %s\n", why);
}

/*
 * The plan through libvirt: each vCPU, then the emulator threads, and the
 * vCPU threads must then have their CPUs.  0 or an exit status, nothing
 * changed then.
 */
static int pin_lv(struct plan *p, const struct pst_cpus *hk)
{
	char why[512], want[256], got[256];
	struct pst_cpus now;
	unsigned int i;

	for (i = 0; i < p->nr_vcpus; i++) {
		if (pst_lv_pin_vcpu(p->lv, (unsigned int)p->th[i].vcpu, &p->pt[i].cpus, why,
				    sizeof(why))) {
			fprintf(stderr, "pisteer pin: %s: undoing\n", why);
			rollback_lv(p, i, false);
			return PST_EXIT_FAIL;
		}
	}
	if (pst_lv_pin_emulator(p->lv, hk, why, sizeof(why))) {
		fprintf(stderr, "pisteer pin: %s: undoing\n", why);
		rollback_lv(p, p->nr_vcpus, false);
		return PST_EXIT_FAIL;
	}
	for (i = 0; i < p->nr_vcpus; i++) {
		if (pst_cpus_get_affinity(p->th[i].tid, &now) ||
		    pst_cpus_equal(&now, &p->pt[i].cpus))
			continue;
		pst_cpus_format(&p->pt[i].cpus, want, sizeof(want));
		pst_cpus_format(&now, got, sizeof(got));
		fprintf(stderr, "pisteer pin: libvirt pinned vCPU %d but its thread %d has CPUs %s, not %s: undoing\n",
			p->th[i].vcpu, p->th[i].tid, got, want);
		rollback_lv(p, p->nr_vcpus, true);
		return PST_EXIT_FAIL;
	}
	return 0;
}

/* Apply the plan, saving state first.  0 or an exit status. */
static int apply(struct plan *p, const char *domain, const struct pst_cpus *hk,
		 const char **steer_msg)
{
	struct pst_pin_state st = { .pid = p->pid, .start = p->start, .nr = p->nr,
				    .t = p->pt };
	struct pst_cpus now;
	unsigned int i, alive = 0;
	char path[512], want[256], got[256];
	int rc;

	if (p->lv)
		snprintf(st.domain, sizeof(st.domain), "%s", domain);
	rc = pst_pin_state_save(&st);
	if (rc)
		return PST_EXIT_FAIL;
	pst_pin_state_path(p->pid, path, sizeof(path));
	if (p->lv) {
		rc = pin_lv(p, hk);
		if (rc) {
			unlink(path);
			return rc;
		}
	}
	for (i = 0; i < p->nr && !p->lv; i++) {
		if (p->exited[i])
			continue;
		rc = pst_cpus_set_affinity(p->th[i].tid, &p->pt[i].cpus);
		if (rc == -ESRCH) {
			p->exited[i] = true;
			fprintf(stderr, "pisteer pin: thread %d (%s) exited: skipped\n",
				p->th[i].tid, p->th[i].comm);
			continue;
		}
		if (!rc && !pst_cpus_get_affinity(p->th[i].tid, &now) &&
		    !pst_cpus_equal(&now, &p->pt[i].cpus)) {
			pst_cpus_format(&p->pt[i].cpus, want, sizeof(want));
			pst_cpus_format(&now, got, sizeof(got));
			fprintf(stderr, "pisteer pin: thread %d got CPUs %s, not %s\n",
				p->th[i].tid, got, want);
			rc = -EIO;
		}
		if (rc) {
			fprintf(stderr, "pisteer pin: thread %d (%s) to CPUs: %s: undoing\n",
				p->th[i].tid, p->th[i].comm, strerror(-rc));
			rollback(p, i + 1);
			unlink(path);
			return pst_exit_for(-rc);
		}
	}
	for (i = 0; i < p->nr_vcpus; i++)
		alive += !p->exited[i];
	if (!alive) {
		fprintf(stderr, "pisteer pin: VM process %d exited while being pinned\n", p->pid);
		unlink(path);
		return PST_EXIT_FAIL;
	}
	*steer_msg = set_policy(p->pid, PISTEER_POLICY_FOLLOW);
	if (*steer_msg) {
		fprintf(stderr,
			"pisteer pin: warning: host IRQs are not steered (%s); 'pisteer steer --vm %d follow' does it later\n",
			*steer_msg, p->pid);
	} else {
		st.steer = true;
		if (pst_pin_state_save(&st))
			fprintf(stderr, "pisteer pin: warning: the state does not record the steering policy: undo with 'pisteer steer --vm %d none'\n",
				p->pid);
	}
	return 0;
}

/*
 * A domain's "before" is libvirt's pinning, what --undo gives back to it:
 * each vCPU's vcpupin, the emulatorpin for the other threads.  0 or an
 * exit status.
 */
static int lv_prev(struct plan *p)
{
	struct pst_cpus *vc = NULL, emu;
	unsigned int i, nr;
	char why[512];

	if (pst_lv_get_pins(p->lv, &vc, &nr, &emu, why, sizeof(why))) {
		fprintf(stderr, "pisteer pin: %s\n", why);
		return PST_EXIT_FAIL;
	}
	for (i = 0; i < p->nr; i++) {
		if (i >= p->nr_vcpus) {
			p->pt[i].prev = emu;
		} else if ((unsigned int)p->th[i].vcpu < nr) {
			p->pt[i].prev = vc[p->th[i].vcpu];
		} else {
			fprintf(stderr, "pisteer pin: libvirt has no vCPU %d (it lists %u)\n",
				p->th[i].vcpu, nr);
			free(vc);
			return PST_EXIT_FAIL;
		}
	}
	free(vc);
	return 0;
}

/* Affinities before, targets, and the plan's checks.  0 or an exit status. */
static int make_plan(const struct pin_opts *o, struct plan *p, struct pst_topo *topo,
		     struct pst_cpus *hk)
{
	struct pst_place_req req = { .topo = topo, .only = o->has_only ? &o->only : NULL };
	struct pst_cpus online;
	char why[1024], path[512];
	unsigned int i, alive = 0;
	int *cpu, rc;

	pst_pin_state_path(p->pid, path, sizeof(path));
	if (!access(path, F_OK)) {
		struct pst_pin_state st;

		if (!pst_pin_state_load(path, &st) && state_alive(&st)) {
			pst_pin_state_free(&st);
			fprintf(stderr, "pisteer pin: VM %d is already pinned (%s): 'pisteer pin --undo --vm %d' first\n",
				p->pid, path, p->pid);
			return PST_EXIT_FAIL;
		}
		pst_pin_state_free(&st);
	}
	if (pst_topo_load(topo))
		return PST_EXIT_FAIL;
	pst_topo_online(topo, &online);
	pst_cpus_and(hk, &o->housekeeping, &online);
	if (pst_cpus_first(hk) < 0) {
		fprintf(stderr, "pisteer pin: none of the housekeeping CPUs is online\n");
		return PST_EXIT_FAIL;
	}
	rc = held_cpus(p->pid, &req.held, o->json);
	if (rc)
		return rc;
	device_node(o, p);
	req.housekeeping = o->housekeeping;
	req.nr_vcpus = p->nr_vcpus;
	req.node = p->node;
	cpu = calloc(p->nr_vcpus, sizeof(*cpu));
	p->pt = calloc(p->nr, sizeof(*p->pt));
	p->exited = calloc(p->nr, sizeof(*p->exited));
	if (!cpu || !p->pt || !p->exited) {
		free(cpu);
		fprintf(stderr, "pisteer pin: out of memory\n");
		return PST_EXIT_FAIL;
	}
	rc = pst_place(&req, cpu, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "pisteer pin: VM %d: %s; nothing changed\n", p->pid, why);
		free(cpu);
		return rc == -EINVAL ? PST_EXIT_USAGE : PST_EXIT_FAIL;
	}
	for (i = 0; i < p->nr; i++) {
		p->pt[i].tid = p->th[i].tid;
		p->pt[i].vcpu = p->th[i].vcpu;
		if (i < p->nr_vcpus)
			pst_cpus_set(&p->pt[i].cpus, (unsigned int)cpu[i]);
		else
			p->pt[i].cpus = *hk;
		rc = pst_cpus_get_affinity(p->th[i].tid, &p->pt[i].prev);
		if (rc == -ESRCH) {
			p->exited[i] = true;
			fprintf(stderr, "pisteer pin: thread %d (%s) exited: skipped\n",
				p->th[i].tid, p->th[i].comm);
		} else if (rc) {
			fprintf(stderr, "pisteer pin: thread %d: %s\n", p->th[i].tid,
				strerror(-rc));
			free(cpu);
			return pst_exit_for(-rc);
		}
		alive += i < p->nr_vcpus && !p->exited[i];
	}
	free(cpu);
	if (!alive) {
		fprintf(stderr, "pisteer pin: VM process %d exited\n", p->pid);
		return PST_EXIT_FAIL;
	}
	if (p->lv)
		return lv_prev(p);
	if (check_cgroups(p)) {
		fprintf(stderr, "pisteer pin: nothing changed\n");
		return PST_EXIT_FAIL;
	}
	return 0;
}

/*
 * Give a domain back the pinning libvirt had: each vCPU's, then the
 * emulator's, through libvirt.  0, or 1 after saying what failed.
 */
static int undo_lv(const struct pst_pin_state *st)
{
	struct pst_lv *lv;
	char why[512];
	bool emu = false;
	unsigned int i;
	int bad = 0, pid;

	pid = pst_libvirt_pid(st->domain, why, sizeof(why));
	if (pid != st->pid) {
		fprintf(stderr, "pisteer pin: libvirt domain %s: %s\n", st->domain,
			pid < 0 ? why : "runs as another process now");
		return 1;
	}
	lv = pst_lv_open(NULL, st->domain, why, sizeof(why));
	if (!lv) {
		fprintf(stderr, "pisteer pin: %s\n", why);
		return 1;
	}
	for (i = 0; i < st->nr; i++) {
		if (st->t[i].vcpu >= 0) {
			if (!pst_lv_pin_vcpu(lv, (unsigned int)st->t[i].vcpu, &st->t[i].prev, why,
					     sizeof(why)))
				continue;
		} else if (!emu) {
			emu = true;
			if (!pst_lv_pin_emulator(lv, &st->t[i].prev, why, sizeof(why)))
				continue;
		} else {
			continue;
		}
		fprintf(stderr, "pisteer pin: %s\n", why);
		bad = 1;
	}
	pst_lv_close(lv);
	return bad;
}

/* Undo one state file.  0 or an exit status. */
static int undo_one(int pid)
{
	struct pst_pin_state st;
	char path[512];
	unsigned int i, gone = 0;
	const char *msg;
	int rc, bad = 0;

	pst_pin_state_path(pid, path, sizeof(path));
	rc = pst_pin_state_load(path, &st);
	if (rc) {
		fprintf(stderr, "pisteer pin: %s: %s\n", path,
			rc == -ENOENT ? "VM not pinned by pisteer (no state)" :
			rc == -EINVAL ? "not a pin state file: left alone" : strerror(-rc));
		return PST_EXIT_FAIL;
	}
	if (!state_alive(&st)) {
		printf("VM %d has exited: its pin state is removed\n", pid);
		unlink(path);
		pst_pin_state_free(&st);
		return 0;
	}
	if (st.domain[0])
		bad = undo_lv(&st);
	for (i = 0; i < st.nr && !st.domain[0]; i++) {
		rc = pst_cpus_set_affinity(st.t[i].tid, &st.t[i].prev);
		if (rc == -ESRCH) {
			gone++;
		} else if (rc) {
			fprintf(stderr, "pisteer pin: thread %d: cannot restore its affinity: %s\n",
				st.t[i].tid, strerror(-rc));
			bad = 1;
		}
	}
	if (st.steer) {
		msg = set_policy(pid, PISTEER_POLICY_NONE);
		if (msg)
			fprintf(stderr, "pisteer pin: warning: steering policy of VM %d not removed: %s\n",
				pid, msg);
	}
	if (bad) {
		fprintf(stderr, "pisteer pin: %s kept for another --undo\n", path);
	} else {
		unlink(path);
		printf("VM %d: %u threads restored%s", pid, st.nr - gone,
		       gone ? "" : "\n");
		if (gone)
			printf(", %u had exited\n", gone);
	}
	pst_pin_state_free(&st);
	return bad ? PST_EXIT_FAIL : 0;
}

static int undo(const struct pin_opts *o)
{
	struct plan p = { 0 };
	int *pids, n, i, rc = 0;

	if (o->pid || o->qmp || o->domain) {
		rc = find_vm(o, &p, false);
		return rc ? rc : undo_one(p.pid);
	}
	n = pst_pin_state_list(&pids);
	if (n < 0) {
		fprintf(stderr, "pisteer pin: %s: %s\n", pst_state_dir(), strerror(-n));
		return PST_EXIT_FAIL;
	}
	if (!n)
		printf("no VM is pinned by pisteer (%s)\n", pst_state_dir());
	for (i = 0; i < n; i++)
		if (undo_one(pids[i]))
			rc = PST_EXIT_FAIL;
	free(pids);
	return rc;
}

int cmd_pin(int argc, char **argv)
{
	static struct pst_topo topo;
	struct pin_opts o = { 0 };
	struct plan p = { 0 };
	const char *steer = NULL;
	struct pst_cpus hk;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc > 0 ? PST_EXIT_OK : PST_EXIT_USAGE;
	if (o.undo)
		return undo(&o);
	rc = find_vm(&o, &p, true);
	if (!rc)
		rc = make_plan(&o, &p, &topo, &hk);
	if (!rc && !o.dry_run)
		rc = apply(&p, o.domain, &hk, &steer);
	if (!rc) {
		if (o.json)
			print_json(&p, &topo, &hk, o.dry_run,
				   o.dry_run ? NULL : steer ? steer : "follow", o.domain);
		else
			print_table(&p, &topo, &hk, o.dry_run);
	}
	pst_lv_close(p.lv);
	free(p.th);
	free(p.pt);
	free(p.exited);
	return rc;
}
