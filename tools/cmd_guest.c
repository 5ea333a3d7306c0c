// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer guest: the front end of the guest companion (pisteer_guest.ko),
 * run inside the VM: which vCPU each queue of a passthrough NIC/HCA
 * interrupts, and placing them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/guest_sysfs.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer guest status [--json] [DEV]\n"
		"       pisteer guest attach DEV\n"
		"       pisteer guest set DEV QUEUE CPU\n"
		"       pisteer guest spread DEV [CPULIST|all]\n"
		"       pisteer guest detach DEV\n"
		"\n"
		"Inside a guest with pisteer_guest.ko loaded: show and set which vCPU\n"
		"each queue (MSI/MSI-X vector) of a passthrough device interrupts.\n"
		"DEV is a PCI address (0000:00:05.0 or 00:05.0), a network interface\n"
		"(eth0) or an RDMA device (mlx5_0, or a soft-RoCE device through its\n"
		"interface); prefix pci:, net: or rdma: to say which.  Names are\n"
		"resolved through sysfs and the module is given the PCI address.\n"
		"Queues are numbered in the order of the driver's IRQ names.\n"
		"\n"
		"  status   per queue: IRQ, name, CPU, effective CPU, whether the MSI\n"
		"           has a single destination (postable), interrupts since attach\n"
		"  attach   start managing DEV (it needs MSI or MSI-X enabled)\n"
		"  set      put QUEUE's interrupt on CPU (one online CPU)\n"
		"  spread   one queue per CPU of CPULIST (default: all online CPUs),\n"
		"           round-robin when queues outnumber CPUs; prints the result\n"
		"  detach   stop managing DEV (placements stay as they are)\n"
		"  --json   (status) an array of devices with their queues\n"
		"\n"
		"Environment: PISTEER_SYSFS  sysfs mount point (default /sys)\n");
}

/* One clear message for an error of the module or of the file system. */
static int fail(const char *what, const char *dev, int err)
{
	const char *why;

	switch (err) {
	case ENOENT:
		if (pg_module_present()) {
			fprintf(stderr, "pisteer guest: the pisteer_guest module is not loaded (modprobe pisteer_guest, or insmod pisteer_guest.ko)\n");
			return PST_EXIT_NO_MODULE;
		}
		why = "not attached (pisteer guest attach DEV)";
		break;
	case ENODEV:
		/* The name was resolved here: the device is there. */
		if (!strcmp(what, "attach"))
			why = "no driver is bound to it: bind its driver first";
		else
			why = "no such PCI device, or its queue is gone";
		break;
	case EEXIST:
		why = "already attached";
		break;
	case ENXIO:
		why = "MSI and MSI-X are off: its driver uses INTx, or has no vectors";
		break;
	case EINVAL:
		why = "invalid value: CPUs must be online, and a queue takes exactly one CPU";
		break;
	case EPERM:
		why = "the IRQ is kernel-managed or cannot be moved (the kernel log says which)";
		break;
	case EACCES:
		fprintf(stderr, "pisteer guest %s: permission denied: run as root\n", what);
		return PST_EXIT_PERM;
	default:
		why = strerror(err);
		break;
	}
	fprintf(stderr, "pisteer guest %s %s: %s\n", what, dev, why);
	return PST_EXIT_FAIL;
}

static int need_module(void)
{
	if (!pg_module_present())
		return 0;
	fprintf(stderr, "pisteer guest: the pisteer_guest module is not loaded (modprobe pisteer_guest, or insmod pisteer_guest.ko)\n");
	return PST_EXIT_NO_MODULE;
}

/* @name's PCI address to @bdf (see pg_resolve()), or why not on stderr. */
static int resolve(const char *what, const char *name, char *bdf, size_t len)
{
	int err = pg_resolve(name, bdf, len);

	if (!err)
		return 0;
	if (err == -ENODEV)
		fprintf(stderr, "pisteer guest %s: '%s' is not a PCI device (%s%s): the guest companion manages PCI devices only\n",
			what, name, *bdf ? "it is on " : "no device behind it", bdf);
	else
		fprintf(stderr, "pisteer guest %s: no PCI device, network interface or RDMA device named '%s'\n",
			what, name);
	return PST_EXIT_FAIL;
}

static int show(int json, const char *name)
{
	struct pg_dev_info *devs = NULL, one;
	unsigned int nr = 0;
	char bdf[32];
	int err;

	if (name) {
		err = resolve("status", name, bdf, sizeof(bdf));
		if (err)
			return err;
		err = pg_read_device(bdf, &one);
		if (err)
			return fail("status", bdf, -err);
		devs = malloc(sizeof(*devs));
		if (!devs) {
			free(one.queues);
			return fail("status", bdf, ENOMEM);
		}
		devs[0] = one;
		nr = 1;
	} else {
		err = pg_read_devices(&devs, &nr);
		if (err)
			return fail("status", "devices", -err);
	}
	if (json) {
		char *doc = pg_to_json(devs, nr);

		if (!doc) {
			pg_free_devices(devs, nr);
			return fail("status", "json", ENOMEM);
		}
		printf("%s\n", doc);
		free(doc);
	} else {
		pg_print_table(stdout, devs, nr);
	}
	pg_free_devices(devs, nr);
	return PST_EXIT_OK;
}

static int cmd_guest_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_operands ops = { 0 };
	int json = 0, c, err;

	while ((c = cmd_getopt(argc, argv, "jh", opts, &ops)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return PST_EXIT_OK;
		default:
			return PST_EXIT_USAGE;
		}
	}
	if (cmd_operands_max("guest status", &ops, 1))
		return PST_EXIT_USAGE;
	err = need_module();
	if (err)
		return err;
	return show(json, ops.n ? ops.v[0] : NULL);
}

/*
 * attach, detach, set and spread take no option but --help: their
 * operands into @ops.  0, 1 when --help was shown, or an exit status.
 */
static int sub_operands(int argc, char **argv, struct cmd_operands *ops)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt(argc, argv, "h", opts, ops)) != -1) {
		if (c != 'h')
			return PST_EXIT_USAGE;
		usage(stdout);
		return 1;
	}
	return 0;
}

/*
 * attach and detach: the name is resolved here, through sysfs, and the
 * module gets the PCI address (it resolves no RDMA device names).
 */
static int attach_detach(const char *what, int argc, char **argv)
{
	struct cmd_operands ops = { 0 };
	char bdf[32];
	int err;

	err = sub_operands(argc, argv, &ops);
	if (err)
		return err == 1 ? PST_EXIT_OK : err;
	if (ops.n != 1) {
		fprintf(stderr, "pisteer guest %s: takes one DEV (see pisteer guest --help)\n", what);
		return PST_EXIT_USAGE;
	}
	err = need_module();
	if (err)
		return err;
	err = resolve(what, ops.v[0], bdf, sizeof(bdf));
	if (err)
		return err;
	err = pg_write(what, bdf);
	if (err)
		return fail(what, bdf, -err);
	if (strcmp(ops.v[0], bdf) != 0)
		printf("%s (%s): %sed\n", ops.v[0], bdf, what);
	else
		printf("%s: %sed\n", bdf, what);
	return PST_EXIT_OK;
}

static int parse_uint(const char *what, const char *s, unsigned int *v)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || n > UINT_MAX) {
		fprintf(stderr, "pisteer guest set: %s must be a number, not '%s'\n", what, s);
		return -1;
	}
	*v = (unsigned int)n;
	return 0;
}

static int cmd_guest_set(int argc, char **argv)
{
	struct cmd_operands ops = { 0 };
	unsigned int queue, cpu;
	char bdf[32], rel[96], val[16];
	int err;

	err = sub_operands(argc, argv, &ops);
	if (err)
		return err == 1 ? PST_EXIT_OK : err;
	if (ops.n != 3) {
		fprintf(stderr, "pisteer guest set: takes DEV QUEUE CPU (see pisteer guest --help)\n");
		return PST_EXIT_USAGE;
	}
	if (parse_uint("QUEUE", ops.v[1], &queue) || parse_uint("CPU", ops.v[2], &cpu))
		return PST_EXIT_USAGE;
	err = need_module();
	if (err)
		return err;
	err = resolve("set", ops.v[0], bdf, sizeof(bdf));
	if (err)
		return err;
	snprintf(rel, sizeof(rel), "devices/%s/queues/%u/cpu", bdf, queue);
	snprintf(val, sizeof(val), "%u", cpu);
	err = pg_write(rel, val);
	if (err == -ENOENT) {
		struct pg_dev_info dev;

		if (pg_read_device(bdf, &dev)) {
			fprintf(stderr, "pisteer guest set: %s is not attached (pisteer guest attach DEV)\n",
				bdf);
		} else {
			fprintf(stderr, "pisteer guest set: %s has no queue %u (it has %u)\n",
				bdf, queue, dev.nr);
			free(dev.queues);
		}
		return PST_EXIT_FAIL;
	}
	if (err)
		return fail("set", bdf, -err);
	return show(0, bdf);
}

static int cmd_guest_spread(int argc, char **argv)
{
	struct cmd_operands ops = { 0 };
	char bdf[32], rel[96];
	int err;

	err = sub_operands(argc, argv, &ops);
	if (err)
		return err == 1 ? PST_EXIT_OK : err;
	if (ops.n < 1 || ops.n > 2) {
		fprintf(stderr, "pisteer guest spread: takes DEV [CPULIST] (see pisteer guest --help)\n");
		return PST_EXIT_USAGE;
	}
	err = need_module();
	if (err)
		return err;
	err = resolve("spread", ops.v[0], bdf, sizeof(bdf));
	if (err)
		return err;
	snprintf(rel, sizeof(rel), "devices/%s/spread", bdf);
	err = pg_write(rel, ops.n == 2 ? ops.v[1] : "all");
	if (err)
		return fail("spread", bdf, -err);
	return show(0, bdf);
}

int cmd_guest(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PST_EXIT_USAGE;
	}
	if (cmd_is_help(argv[1])) {
		usage(stdout);
		return PST_EXIT_OK;
	}
	if (!strcmp(argv[1], "status"))
		return cmd_guest_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach") || !strcmp(argv[1], "detach"))
		return attach_detach(argv[1], argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return cmd_guest_set(argc - 1, argv + 1);
	if (!strcmp(argv[1], "spread"))
		return cmd_guest_spread(argc - 1, argv + 1);
	fprintf(stderr, "pisteer guest: unknown subcommand '%s' (status, attach, set, spread, detach)\n",
		argv[1]);
	return PST_EXIT_USAGE;
}
