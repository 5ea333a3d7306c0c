// SPDX-License-Identifier: GPL-2.0
/*
 * ptvm_demo: the passthrough VM of `make demo`.  Assigns an 82574L to a
 * 2-vCPU KVM VM, raises its MSI-X vectors, reprograms the guest's MSI
 * routes at run time, and prints per vector where each interrupt went:
 * which host CPU took the host IRQ, which vCPU the guest saw it on, and
 * the round trip.  Exit status 0 when every interrupt the device sent
 * reached the routed vCPU, 1 otherwise.
 *
 * With -H it only sets the VM up (even vectors to vCPU 0, odd to vCPU 1),
 * prints "ready", and holds it for other tests.  Lines on stdin: "r" swaps
 * the routes (answers "rerouted"), "RN" swaps them N times 5 ms apart
 * ("rerouted"), "d" disables MSI-X ("disabled"), "e"
 * enables it again ("enabled"), "sN" keeps N vectors on eventfds without
 * disabling MSI-X ("resized"), "u" deassigns every irqfd ("unhooked"), "h"
 * assigns them again ("hooked"), "t" raises every vector once and checks
 * it reached its routed vCPU ("raised"), "l" routes vector 0 with a
 * logical destination (mask 1: "logical"), "M" deassigns the irqfds and
 * switches the device from MSI-X to MSI, vector 0 on, in one go ("msi"),
 * "F" moves the VM's file to another fd number, closing the old one
 * ("moved"); end of input ends it.  When VFIO
 * asks for the device back (PCI removal, unbind) the holder deassigns the
 * irqfds and closes it, as QEMU unplugs it, and prints "released"; the VM
 * goes on without it.  "p" then plugs it back into the same VM, as QEMU's
 * device_add does: the group and device reopened, its vectors enabled on
 * new eventfds, new irqfds on the same GSIs, the routes as they were
 * ("plugged"; "already plugged" while it is held).  -m msi holds the
 * device with MSI (one vector).
 * -c 1 holds a VM of one vCPU (every vector routed to it); -N names the
 * vCPU threads "CPU n/KVM", as QEMU does with -name ...,debug-threads=on,
 * so that pisteer pin and check find them.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/procirq.h"
#include "../lib/ptvm.h"
#include "../lib/stats.h"

#define NR_VCPUS	2
#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	32
#define GUEST_VEC(i)	(0x40 + (i))
#define EITR_US		2000
#define SPACING_US	5000
#define ARRIVAL_MS	5000
#define REROUTE_GAP_US	5000

static struct ptvm *vm;
static struct ptvm_dev *dev;
static const char *dev_bdf;	/* the device's, for "p" after a release */
static enum ptdev_irq_mode dev_mode = PTDEV_MSIX;
static int per_vector = 20;
static int nr_vec = NR_VEC;	/* vectors routed: the device's, at most 5 */
static int nr_vcpus = NR_VCPUS;	/* -c: in the held VM */

struct vec_result {
	struct procirq host_before, host_after;
	uint32_t guest_before[NR_VCPUS], guest_after[NR_VCPUS];
	uint64_t rtt_ns[1000];
	int nr_rtt, lost;
};

static void host_irq(int v, struct procirq *pi)
{
	char name[64];

	snprintf(name, sizeof(name), "vfio-msix[%d](%s)", v, ptdev_bdf(dev));
	if (procirq_read(name, pi))
		memset(pi, 0, sizeof(*pi));
}

static void host_cpus(const struct vec_result *r, char *buf, size_t len)
{
	size_t off = 0;
	int c;

	buf[0] = '\0';
	for (c = 0; c < r->host_after.nr_cpus && off < len; c++) {
		long long d = r->host_after.percpu[c] - r->host_before.percpu[c];

		if (d)
			off += snprintf(buf + off, len - off, "%sCPU%d:%lld",
					off ? " " : "", c, d);
	}
	if (!off)
		snprintf(buf, len, "-");
}

/* The CPU a thread last ran on (field 39 of /proc/PID/task/TID/stat). */
static int thread_cpu(pid_t tid)
{
	char path[64], buf[1024], *p;
	int field, cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", getpid(), tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');	/* the command name may hold blanks */
		for (field = 2; p && field < 39; field++)
			p = strchr(p + 1, ' ');
		if (p)
			cpu = atoi(p + 1);
	}
	fclose(f);
	return cpu;
}

/* Route, raise, print one table; returns false if anything went astray. */
static bool phase(const char *title, const int *target)
{
	static struct vec_result res[NR_VEC];
	bool ok = true;
	int v, r, c;

	printf("\n%s\n", title);
	for (v = 0; v < NR_VEC; v++) {
		if (ptvm_route_msi(vm, GSI_BASE + v, target[v], GUEST_VEC(v))) {
			printf("  route vector %d: %s\n", v, ptvm_strerror());
			return false;
		}
	}
	memset(res, 0, sizeof(res));
	for (v = 0; v < NR_VEC; v++) {
		host_irq(v, &res[v].host_before);
		for (c = 0; c < NR_VCPUS; c++)
			res[v].guest_before[c] = ptvm_count(vm, c, GUEST_VEC(v));
	}
	for (r = 0; r < per_vector; r++) {
		for (v = 0; v < NR_VEC; v++) {
			struct vec_result *vr = &res[v];
			uint64_t rtt;

			if (e1000e_raise_wait(dev, vm, v, GUEST_VEC(v), ARRIVAL_MS, &rtt))
				vr->lost++;
			else if (vr->nr_rtt < (int)(sizeof(vr->rtt_ns) / sizeof(vr->rtt_ns[0])))
				vr->rtt_ns[vr->nr_rtt++] = rtt;
			ptvm_sleep_us(SPACING_US);
		}
	}
	ptvm_sleep_us(50000);

	printf("  vCPU threads last ran on: vCPU 0 -> CPU%d, vCPU 1 -> CPU%d (not pinned)\n",
	       thread_cpu(ptvm_vcpu_tid(vm, 0)), thread_cpu(ptvm_vcpu_tid(vm, 1)));
	printf("  %-4s %-8s %-16s %-4s %-9s %-6s %7s %7s %10s %10s\n", "vec",
	       "host-irq", "host CPU (count)", "gsi", "guest-vec", "route",
	       "vCPU0", "vCPU1", "rtt p50", "rtt p99");
	for (v = 0; v < NR_VEC; v++) {
		struct vec_result *vr = &res[v];
		long long sent, got[NR_VCPUS];
		char cpus[64];
		struct stats st;

		host_irq(v, &vr->host_after);
		sent = vr->host_after.total - vr->host_before.total;
		for (c = 0; c < NR_VCPUS; c++)
			got[c] = (long long)ptvm_count(vm, c, GUEST_VEC(v)) -
				 vr->guest_before[c];
		host_cpus(vr, cpus, sizeof(cpus));
		st = stats_summary(vr->rtt_ns, vr->nr_rtt);
		printf("  %-4d %-8d %-16s %-4d 0x%-7x vCPU %-2d %7lld %7lld %7.0f us %7.0f us\n",
		       v, vr->host_after.irq, cpus, GSI_BASE + v, GUEST_VEC(v),
		       target[v], got[0], got[1], st.p50_us, st.p99_us);
		if (sent < per_vector || vr->lost)
			printf("       ! raised %d, the host took %lld, %d never arrived\n",
			       per_vector, sent, vr->lost);
		else if (sent > per_vector)
			printf("       (raised %d, the emulated 82574L sent %lld: QEMU 7.2 duplicates)\n",
			       per_vector, sent);
		for (c = 0; c < NR_VCPUS; c++) {
			if (got[c] != (c == target[v] ? sent : 0)) {
				printf("       ! vCPU %d got %lld of %lld sent\n", c,
				       got[c], sent);
				ok = false;
			}
		}
		ok = ok && !vr->lost && sent >= per_vector;
	}
	return ok;
}

static bool route_all(const int *target)
{
	int v;

	for (v = 0; v < nr_vec; v++)
		if (ptvm_route_msi(vm, GSI_BASE + v, target[v], GUEST_VEC(v)))
			return false;
	return true;
}

/* Raise every vector once; each must reach the vCPU its route names. */
static bool raise_each_once(void)
{
	uint32_t before;
	uint64_t rtt;
	int v, c;

	for (v = 0; v < nr_vec; v++) {
		c = ptvm_route_target(vm, GSI_BASE + v);
		if (c < 0 || c >= nr_vcpus)
			return false;
		before = ptvm_count(vm, c, GUEST_VEC(v));
		if (e1000e_raise_wait(dev, vm, v, GUEST_VEC(v), ARRIVAL_MS, &rtt) ||
		    ptvm_count(vm, c, GUEST_VEC(v)) == before)
			return false;
		ptvm_sleep_us(SPACING_US);
	}
	return true;
}

/*
 * Plug the device back in after release(): reopened, its vectors on new
 * eventfds and irqfds, the GSIs routed as @now says (committed again, as
 * QEMU does when the guest driver enables the vectors).
 */
static bool plug(const int *now)
{
	dev = e1000e_assign_mode(vm, dev_bdf, dev_mode, GSI_BASE, EITR_US, NULL);
	return dev && route_all(now);
}

/*
 * One command of the holder: its answer, or NULL for an unknown one.  Once
 * the device has been released, device commands answer "no device".
 */
static const char *command(const char *line, const int *split,
			   const int *swapped, const int **now, bool *ok)
{
	*ok = true;
	if (line[0] == 'r') {
		*now = *now == split ? swapped : split;
		*ok = route_all(*now);
		return "rerouted";
	}
	if (line[0] == 'l') {
		*ok = !ptvm_route_msi_mode(vm, GSI_BASE, 1, GUEST_VEC(0), true);
		return "logical";
	}
	if (line[0] == 'R') {
		int i, n = atoi(line + 1);

		for (i = 0; i < n && *ok; i++) {
			*now = *now == split ? swapped : split;
			*ok = route_all(*now);
			ptvm_sleep_us(REROUTE_GAP_US);
		}
		return "rerouted";
	}
	if (line[0] == 'F') {
		*ok = !ptvm_move_vm_fd(vm);
		return "moved";
	}
	if (line[0] == 'p') {
		if (dev)
			return "already plugged";
		*ok = plug(*now);
		return "plugged";
	}
	if (!line[0] || !strchr("desuhtM", line[0]))
		return NULL;
	if (!dev)
		return "no device";
	switch (line[0]) {
	case 'd':
		*ok = !ptdev_set_vectors(dev, false);
		return "disabled";
	case 'e':
		*ok = !ptdev_set_vectors(dev, true);
		return "enabled";
	case 's':
		*ok = !ptdev_set_count(dev, atoi(line + 1));
		return "resized";
	case 'M':
		*ok = !ptdev_detach(dev, vm, GSI_BASE) &&
		      !ptdev_switch_mode(dev, PTDEV_MSI);
		return "msi";
	case 'u':
		*ok = !ptdev_detach(dev, vm, GSI_BASE);
		return "unhooked";
	case 'h':
		ptdev_drain(dev);
		*ok = !ptdev_attach(dev, vm, GSI_BASE);
		return "hooked";
	default:
		*ok = raise_each_once();
		return "raised";
	}
}

/* VFIO wants the device back: unplug it from the VM, which goes on. */
static void release(void)
{
	ptdev_detach(dev, vm, GSI_BASE);
	ptdev_close(dev);
	dev = NULL;
	printf("released\n");
	fflush(stdout);
}

/* QEMU's names for the vCPU threads: "CPU n/KVM". */
static bool name_vcpus(void)
{
	char path[64];
	FILE *f;
	int c;

	for (c = 0; c < nr_vcpus; c++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", ptvm_vcpu_tid(vm, c));
		f = fopen(path, "we");
		if (!f)
			return false;
		fprintf(f, "CPU %d/KVM", c);
		if (fclose(f))
			return false;
	}
	return true;
}

/* -H: hold the VM for other tests, driven by commands on stdin. */
static int hold(const int *split, const int *swapped)
{
	const int *now = split;
	char line[64];

	if (!route_all(now)) {
		fprintf(stderr, "route: %s\n", ptvm_strerror());
		return 1;
	}
	/* Unbuffered, so that poll() sees every line not yet read. */
	setvbuf(stdin, NULL, _IONBF, 0);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = dev ? ptdev_req_fd(dev) : -1, .events = POLLIN },
		};
		const char *answer;
		bool ok;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			release();
			continue;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (!fgets(line, sizeof(line), stdin))
			return 0;
		answer = command(line, split, swapped, &now, &ok);
		if (!answer)
			continue;
		if (!ok) {
			fprintf(stderr, "%s: %s\n", answer, ptvm_strerror());
			return 1;
		}
		printf("%s\n", answer);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	static int split[NR_VEC] = { 0, 1, 0, 1, 0 };
	static int swapped[NR_VEC] = { 1, 0, 1, 0, 1 };
	bool ok, hold_vm = false, named = false;
	const char *bdf = NULL;
	char bdfs[8][16];
	int opt, v;

	while ((opt = getopt(argc, argv, "c:d:m:n:HN")) != -1) {
		switch (opt) {
		case 'm':
			if (!strcmp(optarg, "msi")) {
				dev_mode = PTDEV_MSI;
			} else if (!strcmp(optarg, "msix")) {
				dev_mode = PTDEV_MSIX;
			} else {
				fprintf(stderr, "-m: msi or msix\n");
				return 2;
			}
			break;
		case 'H':
			hold_vm = true;
			break;
		case 'N':
			named = true;
			break;
		case 'c':
			nr_vcpus = atoi(optarg);
			if (nr_vcpus < 1 || nr_vcpus > NR_VCPUS) {
				fprintf(stderr, "-c: 1..%d\n", NR_VCPUS);
				return 2;
			}
			break;
		case 'd':
			bdf = optarg;
			break;
		case 'n':
			per_vector = atoi(optarg);
			if (per_vector < 1 || per_vector > 1000) {
				fprintf(stderr, "-n: 1..1000\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s [-d BDF] [-n COUNT] [-H [-m msi|msix] [-c 1|2] [-N]]\n",
				argv[0]);
			return 2;
		}
	}
	if (!bdf) {
		if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 8) < 1) {
			fprintf(stderr, "no 82574L bound to vfio-pci\n");
			return 1;
		}
		bdf = bdfs[0];
	}

	if ((dev_mode == PTDEV_MSI || nr_vcpus != NR_VCPUS || named) && !hold_vm) {
		fprintf(stderr, "-m msi, -c, -N: with -H only\n");
		return 2;
	}
	for (v = 0; v < NR_VEC; v++) {
		split[v] = v % nr_vcpus;
		swapped[v] = (v + 1) % nr_vcpus;
	}
	dev_bdf = bdf;
	vm = ptvm_create(nr_vcpus);
	dev = vm ? e1000e_assign_mode(vm, bdf, dev_mode, GSI_BASE, EITR_US, NULL) :
		   NULL;
	if (!dev) {
		fprintf(stderr, "set-up failed: %s\n", ptvm_strerror());
		return 1;
	}
	if (ptdev_nr_vectors(dev) < nr_vec)
		nr_vec = ptdev_nr_vectors(dev);
	if (named && !name_vcpus()) {
		fprintf(stderr, "naming the vCPU threads failed\n");
		return 1;
	}
	if (hold_vm) {
		ok = hold(split, swapped) == 0;
		ptdev_close(dev);
		ptvm_destroy(vm);
		return ok ? 0 : 1;
	}
	printf("Passthrough VM: pid %d, %d vCPUs (threads %d, %d), %s with %d MSI-X vectors\n"
	       "on KVM irqfds (VFIO eventfd -> KVM_IRQFD -> MSI route to one vCPU).\n"
	       "Each vector raised %d times through the 82574L's Interrupt Cause Set register.\n",
	       getpid(), NR_VCPUS, ptvm_vcpu_tid(vm, 0), ptvm_vcpu_tid(vm, 1), bdf,
	       ptdev_nr_vectors(dev), per_vector);

	ok = phase("Phase 1: even vectors routed to vCPU 0, odd vectors to vCPU 1", split);
	ok = phase("Phase 2: the guest reprograms every MSI to the other vCPU (KVM_SET_GSI_ROUTING while running)",
		   swapped) && ok;

	printf("\n%s: every interrupt the device sent %s the vCPU its route names.\n",
	       ok ? "Result" : "RESULT: FAILURE", ok ? "reached" : "did NOT always reach");
	e1000e_irq_teardown(dev);
	ptdev_close(dev);
	ptvm_destroy(vm);
	return ok ? 0 : 1;
}
