// SPDX-License-Identifier: GPL-2.0
/*
 * vm_cycles: VMs that come and go leave nothing behind in pisteer.ko.
 *
 * usage: vm_cycles [-n CYCLES] [-d BDF] [-P POLICY] [-S]
 *
 * CYCLES times (default 50): start a 2-vCPU VM with an 82574L assigned
 * and its five MSI-X vectors routed, wait until the list ioctl shows the
 * five vectors with the routes given, stop the VM, wait until they are
 * gone.  The first half of the cycles runs plain; after it every count of
 * /sys/kernel/debug/pisteer/allocs (heap objects, VM references, records,
 * steered IRQs, policies, latency objects) must be what it was before the
 * first cycle.  The second half runs with a follow policy and latency
 * sampling on for this process's VMs: each VM's vectors are listed under
 * the policy, and once it is gone no IRQ is steered and no vCPU object
 * is left (the samples of gone vectors are kept, as documented, until
 * sampling is disabled).  Afterwards the policy is removed and sampling
 * disabled, and the module holds no record and every count is again what
 * it was before the first cycle.  Needs pisteer.ko loaded, no policy set
 * and latency sampling off.
 *
 * -P names the second half's policy instead of follow: housekeeping,
 * static (CPU 0), auto or off (make soak runs each).  -S: the module is
 * shared with another process starting VMs meanwhile (make soak races two
 * vm_cycles on two NICs): only this process's vectors are checked, and
 * the module-wide counts only by the caller once both are done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/pisteer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../lib/ktap.h"
#include "../lib/modstate.h"
#include "../lib/ptvm.h"

#define NR_VCPUS	2
#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	32
#define GUEST_VEC(i)	(0x40 + (i))
#define EITR_US		2000
#define WAIT_MS		5000

static int fd;
static const char *bdf;
static bool steered;	/* the second half: policy and sampling on */
static unsigned int policy = PISTEER_POLICY_FOLLOW;	/* -P */
static bool shared;	/* -S */

/* Are @v's @n vectors exactly @vm's five, with the routes set? */
static bool vectors_right(const struct pisteer_vector *v, int n,
			  const struct ptvm *vm)
{
	unsigned int seen = 0;
	int i;

	if (n != NR_VEC)
		return false;
	for (i = 0; i < n; i++, v++) {
		if (v->vm_fd != (unsigned int)ptvm_vm_fd(vm) || v->index >= NR_VEC ||
		    v->irq_type != PISTEER_IRQ_MSIX || v->gsi != GSI_BASE + v->index ||
		    v->guest_vector != GUEST_VEC(v->index) ||
		    v->vcpu != (int)(v->index % NR_VCPUS) ||
		    v->policy != (steered ? policy : PISTEER_POLICY_NONE))
			return false;
		seen |= 1U << v->index;
	}
	return seen == (1U << NR_VEC) - 1;
}

/* Wait until the list shows this VM's vectors (@vm) or none (NULL). */
static bool wait_vectors(const struct ptvm *vm, int cycle)
{
	struct pisteer_vector v[16];
	uint64_t end = ptvm_now_ns() + WAIT_MS * 1000000ULL;
	int n;

	for (;;) {
		n = modstate_list(fd, getpid(), v, 16);
		if (n < 0) {
			ktap_diag("cycle %d: list: %s", cycle, strerror(-n));
			return false;
		}
		if (vm ? vectors_right(v, n, vm) : n == 0)
			return true;
		if (ptvm_now_ns() > end) {
			ktap_diag("cycle %d: %d vectors listed after %d ms, expected %s",
				  cycle, n, WAIT_MS, vm ? "the VM's 5 as routed" : "none");
			return false;
		}
		ptvm_sleep_us(10000);
	}
}

/* One VM start/stop; false (after saying why) on any failure. */
static bool cycle(int i, uint64_t *up_ns)
{
	struct ptvm_dev *dev = NULL;
	struct ptvm *vm;
	uint64_t t0;
	bool ok = false;
	int v;

	vm = ptvm_create(NR_VCPUS);
	if (!vm) {
		ktap_diag("cycle %d: VM: %s", i, ptvm_strerror());
		return false;
	}
	dev = e1000e_assign(vm, bdf, GSI_BASE, EITR_US, NULL);
	if (!dev) {
		ktap_diag("cycle %d: assign %s: %s", i, bdf, ptvm_strerror());
		goto out;
	}
	for (v = 0; v < NR_VEC; v++)
		if (ptvm_route_msi(vm, GSI_BASE + v, v % NR_VCPUS, GUEST_VEC(v))) {
			ktap_diag("cycle %d: route: %s", i, ptvm_strerror());
			goto out;
		}
	t0 = ptvm_now_ns();
	ok = wait_vectors(vm, i);
	*up_ns = ptvm_now_ns() - t0;
out:
	if (dev)
		ptdev_close(dev);
	ptvm_destroy(vm);
	return ok && wait_vectors(NULL, i);
}

static const char * const policy_names[] = {
	[PISTEER_POLICY_OFF] = "off", [PISTEER_POLICY_FOLLOW] = "follow",
	[PISTEER_POLICY_STATIC] = "static", [PISTEER_POLICY_HOUSEKEEPING] = "housekeeping",
	[PISTEER_POLICY_AUTO] = "auto",
};

/* The -P policy and latency sampling for this process's VMs: on or off. */
static int set_policy_and_sampling(bool on)
{
	struct pisteer_policy p = {
		.size = sizeof(p), .scope = PISTEER_SCOPE_VM, .pid = getpid(),
		.policy = on ? policy : PISTEER_POLICY_NONE,
		.cpu = 0,
	};
	struct pisteer_lat_ctl lc = {
		.size = sizeof(lc), .scope = PISTEER_LAT_SCOPE_VM, .pid = getpid(),
		.op = on ? PISTEER_LAT_ENABLE : PISTEER_LAT_DISABLE,
	};

	if (ioctl(fd, PISTEER_IOC_SET_POLICY, &p)) {
		ktap_diag("policy %s: %s", on ? policy_names[policy] : "removal",
			  strerror(errno));
		return -1;
	}
	if (ioctl(fd, PISTEER_IOC_LAT_CTL, &lc)) {
		ktap_diag("sampling %s: %s", on ? "on" : "off", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct modcounts base, now;
	char bdfs[8][16];
	uint64_t t0, dt, up = 0, up_max = 0;
	int n = 50, i, opt, done = 0;
	bool ok = true, on;

	while ((opt = getopt(argc, argv, "n:d:P:S")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'd':
			bdf = optarg;
			break;
		case 'P':
			for (policy = PISTEER_POLICY_OFF; policy <= PISTEER_POLICY_AUTO; policy++)
				if (!strcmp(optarg, policy_names[policy]))
					break;
			if (policy > PISTEER_POLICY_AUTO) {
				fprintf(stderr, "%s: -P: off, follow, static, housekeeping or auto\n",
					argv[0]);
				return 2;
			}
			break;
		case 'S':
			shared = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n CYCLES] [-d BDF] [-P POLICY] [-S]\n",
				argv[0]);
			return 2;
		}
	}
	if (n < 2) {
		fprintf(stderr, "%s: -n needs at least 2\n", argv[0]);
		return 2;
	}

	ktap_plan(6);
	fd = open("/dev/" PISTEER_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0 || modcounts_read(&base)) {
		ktap_diag("open /dev/pisteer: %s", fd < 0 ? strerror(errno) : "ok");
		ktap_result(false, "pisteer.ko loaded, its allocs readable");
		ktap_skip_rest("no module");
	}
	modcounts_diag("before", &base);
	ktap_result(modstate_list(fd, shared ? getpid() : 0, NULL, 0) == 0,
		    "pisteer.ko loaded, no vector listed before the first VM");
	if (!bdf) {
		if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 8) < 1)
			ktap_skip_rest("no 82574L bound to vfio-pci");
		bdf = bdfs[0];
	}

	t0 = ptvm_now_ns();
	for (i = 1; i <= n / 2 && ok; i++, done++) {
		ok = cycle(i, &up);
		if (up > up_max)
			up_max = up;
	}
	ok = ok && (shared || modcounts_wait_same(&base, &now, 2000));
	modcounts_diag("after the plain half", &now);
	ktap_result(ok, "%d plain VM start/stop cycles with %s: 5 vectors listed as routed, then none; counts as before",
		    n / 2, bdf);

	/* The second half runs even when the first failed: it says more. */
	on = !set_policy_and_sampling(true);
	ok = on;
	steered = true;
	for (i = n / 2 + 1; i <= n && ok; i++, done++) {
		ok = cycle(i, &up) && !modcounts_read(&now) &&
		     (shared || (modcounts_get(&now, "steered_irqs") == 0 &&
				 modcounts_get(&now, "lat_vcpus") == 0));
		if (!ok)
			modcounts_diag("after the cycle", &now);
		if (up > up_max)
			up_max = up;
	}
	modcounts_diag("after the steered half", &now);
	ktap_result(ok, "%d cycles under a %s policy and sampling: vectors listed with the policy, then none%s",
		    n - n / 2, policy_names[policy], shared ? "" : ", no IRQ left steered");
	dt = ptvm_now_ns() - t0;
	ktap_diag("%d cycles in %.1f s (%.0f ms each); vectors listed at most %.0f ms after routing",
		  done, (double)dt / 1e9, (double)dt / 1e6 / (done ? done : 1),
		  (double)up_max / 1e6);
	ktap_result(on && !set_policy_and_sampling(false), "policy removed, sampling disabled");

	/* Listing scans and updates the records: nothing may stay. */
	if (shared) {
		ok = modstate_list(fd, getpid(), NULL, 0) == 0 && !modcounts_read(&now);
		ktap_result(ok, "no vector of this process left (shared: the caller checks records)");
	} else {
		ok = modstate_list(fd, 0, NULL, 0) == 0 && !modcounts_read(&now) &&
		     modcounts_get(&now, "records") == 0;
		ktap_result(ok, "no record left (records %ld)", modcounts_get(&now, "records"));
	}

	ok = shared || modcounts_wait_same(&base, &now, 2000);
	modcounts_diag("after", &now);
	ktap_result(ok, "allocation counts equal to those before the first cycle%s",
		    shared ? " (shared: left to the caller)" : "");
	close(fd);
	ktap_finish();
}
