// SPDX-License-Identifier: GPL-2.0
/*
 * vec_hold: hold a passthrough VM with every MSI-X vector of any vfio-pci
 * device (an NVMe controller has hundreds), for the scale tests.
 *
 *   vec_hold -H -d BDF [-v MAX] [-c VCPUS]
 *
 * The device's MSI-X vectors (the first MAX with -v) each get an eventfd
 * and a KVM irqfd on GSI 32 + i, routed in one KVM_SET_GSI_ROUTING as a
 * fixed MSI to vCPU i % VCPUS (default 2) with guest vector 0x40 + i % 160:
 * what a VMM does when the guest enables MSI-X.  The device itself is not
 * driven.  Prints "ready", then answers lines on stdin: "n" prints the
 * number of vectors, "r" moves every vector to its next vCPU in one
 * routing update, "rN" the first N only ("rerouted"); end of input ends
 * it.  The same interface
 * as ptvm_demo -H, so that selftests/lib/holder.sh starts it with
 * holder=.../vec_hold.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/ptvm.h"

#define GSI_BASE	32
#define GUEST_VEC(i)	(0x40 + (i) % 160)

static struct ptvm *vm;
static struct ptvm_dev *dev;
static int nr_vcpus = 2;
static int target[PTVM_MAX_DEV_VECS];	/* each vector's vCPU */

/* The first @moved vectors to their next vCPU, all committed at once. */
static int route_all(int moved)
{
	int v, n = ptdev_nr_vectors(dev), ret = ptvm_route_hold(vm, true);
	int commit;

	for (v = 0; v < n && !ret; v++) {
		if (v < moved)
			target[v] = (target[v] + 1) % nr_vcpus;
		ret = ptvm_route_msi(vm, GSI_BASE + v, target[v], GUEST_VEC(v));
	}
	commit = ptvm_route_hold(vm, false);
	return ret ? ret : commit;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s -H -d BDF [-v MAX] [-c 1..%d]\n", prog,
		PTVM_MAX_VCPUS);
}

int main(int argc, char **argv)
{
	const char *bdf = NULL;
	int opt, max = 0, v, rc = 1;
	bool held = false;
	char line[64];

	while ((opt = getopt(argc, argv, "Hd:v:c:")) != -1) {
		switch (opt) {
		case 'H':
			held = true;
			break;
		case 'd':
			bdf = optarg;
			break;
		case 'v':
			max = atoi(optarg);
			if (max < 1 || max > PTVM_MAX_DEV_VECS) {
				fprintf(stderr, "-v: 1..%d\n", PTVM_MAX_DEV_VECS);
				return 2;
			}
			break;
		case 'c':
			nr_vcpus = atoi(optarg);
			if (nr_vcpus < 1 || nr_vcpus > PTVM_MAX_VCPUS) {
				usage(argv[0]);
				return 2;
			}
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!held || !bdf || optind != argc) {
		usage(argv[0]);
		return 2;
	}
	for (v = 0; v < PTVM_MAX_DEV_VECS; v++)
		target[v] = v % nr_vcpus;
	vm = ptvm_create(nr_vcpus);
	dev = vm ? ptdev_open_count(bdf, max) : NULL;
	if (!dev || ptdev_map_guest(dev, vm) || ptdev_drain(dev) < 0 ||
	    ptdev_attach(dev, vm, GSI_BASE) || route_all(0)) {
		fprintf(stderr, "set-up of %s failed: %s\n", bdf, ptvm_strerror());
		goto out;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'n') {
			printf("%d\n", ptdev_nr_vectors(dev));
		} else if (line[0] == 'r') {
			v = line[1] >= '0' && line[1] <= '9' ? atoi(line + 1) :
							       PTVM_MAX_DEV_VECS;
			if (route_all(v)) {
				fprintf(stderr, "reroute: %s\n", ptvm_strerror());
				goto out;
			}
			printf("rerouted\n");
		} else {
			continue;
		}
		fflush(stdout);
	}
	rc = 0;
out:
	if (dev)
		ptdev_detach(dev, vm, GSI_BASE);
	ptdev_close(dev);
	ptvm_destroy(vm);
	return rc;
}
