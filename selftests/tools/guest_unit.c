// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of `pisteer guest` and its sysfs reader against a fixture
 * tree laid out like the guest companion's ABI (PISTEER_SYSFS points the
 * code at it): name resolution (PCI address, network interface, hardware
 * and software RDMA device, devices not on PCI), the PCI address the CLI
 * hands the module for each, reading devices and queues in order, the
 * table and JSON reports, and the command line.
 *
 * usage: guest_unit PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../tools/lib/guest_sysfs.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"

static char root[] = "/tmp/guest_unit.XXXXXX";
static const char *tool;
static char out[16384], err[4096];

static void put(const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "we");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[512];

	put(rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (symlink(target, path)) {
		perror(path);
		exit(1);
	}
}

static void get(const char *rel, char *buf, size_t len)
{
	char path[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	/* Writes do not truncate the fixture files: keep the first line. */
	buf[strcspn(buf, "\n")] = '\0';
}

static void queue(const char *dev, unsigned int n, unsigned int irq,
		  const char *name, const char *cpu, const char *single,
		  const char *count)
{
	const char *files[][2] = {
		{ "irq", NULL }, { "name", name }, { "cpu", cpu },
		{ "effective_cpu", cpu }, { "single_dest", single },
		{ "count", count }, { "msi_dest", "remapped\n" },
	};
	char rel[256], num[16];
	size_t i;

	snprintf(num, sizeof(num), "%u\n", irq);
	files[0][1] = num;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "kernel/pisteer/devices/%s/queues/%u/%s",
			 dev, n, files[i][0]);
		put(rel, files[i][1]);
	}
}

static void make_fixture(void)
{
	put("kernel/pisteer/attach", "");
	put("kernel/pisteer/detach", "");
	put("kernel/pisteer/devices/0000:00:01.0/spread", "all\n");
	queue("0000:00:01.0", 0, 35, "eth0\n", "0-1\n", "1\n", "0\n");
	queue("0000:00:01.0", 1, 33, "eth0-rx-0\n", "1\n", "1\n", "12\n");
	queue("0000:00:01.0", 2, 34, "eth0-tx-0\n", "0\n", "0\n", "7\n");
	queue("0000:00:01.0", 10, 40, "\n", "0\n", "1\n", "3\n");
	put("kernel/pisteer/devices/0000:3b:00.0/spread", "\n");
	queue("0000:3b:00.0", 0, 50, "mlx5_comp0@pci:0000:3b:00.0\n", "2\n", "1\n", "5\n");
	/* Devices: two PCI functions, a virtio device and a platform device. */
	link_to("devices/pci0000:00/0000:00:01.0/subsystem", "../../../bus/pci");
	link_to("devices/pci0000:3a/0000:3b:00.0/subsystem", "../../../bus/pci");
	link_to("devices/pci0000:00/0000:00:03.0/virtio0/subsystem", "../../../../bus/virtio");
	link_to("devices/platform/HNS00D1:00/subsystem", "../../../bus/platform");
	/* Interfaces: on PCI, on virtio (not PCI), and without a device. */
	link_to("class/net/eth0/device", "../../../devices/pci0000:00/0000:00:01.0");
	link_to("class/net/ens3/device", "../../../devices/pci0000:00/0000:00:03.0/virtio0");
	put("class/net/lo/type", "772\n");
	/* RDMA: a PCI HCA, a platform HCA, soft devices on each interface. */
	link_to("class/infiniband/mlx5_0/device", "../../../devices/pci0000:3a/0000:3b:00.0");
	link_to("class/infiniband/hns_0/device", "../../../devices/platform/HNS00D1:00");
	put("class/infiniband/rxe0/parent", "eth0\n");
	put("class/infiniband/siw0/parent", "ens3\n");
	put("class/infiniband/rxe1/parent", "lo\n");
	put("class/infiniband/orphan0/parent", "nosuchif\n");
}

static int run(const char *args)
{
	char cmd[1024], path[600];
	int status, i;

	snprintf(cmd, sizeof(cmd), "PISTEER_SYSFS='%s' '%s' %s >%s/.out 2>%s/.err",
		 strstr(args, "@nosys") ? "/nonexistent" : root, tool,
		 strstr(args, "@nosys") ? args + 7 : args, root, root);
	status = system(cmd);
	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t len = i ? sizeof(err) : sizeof(out), n = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/.%s", root, i ? "err" : "out");
		f = fopen(path, "re");
		if (f) {
			n = fread(buf, 1, len - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_resolve(void)
{
	static const struct { const char *name, *want; } cases[] = {
		{ "00:01.0", "0000:00:01.0" },
		{ "pci:0000:3b:00.0", "0000:3b:00.0" },
		{ "eth0", "0000:00:01.0" },
		{ "net:eth0", "0000:00:01.0" },
		{ "mlx5_0", "0000:3b:00.0" },
		{ "rdma:mlx5_0", "0000:3b:00.0" },
		{ "rdma:rxe0", "0000:00:01.0" },
		{ "rxe0", "0000:00:01.0" },
	};
	/* Known names without a PCI device: -ENODEV and what they are on. */
	static const struct { const char *name, *on; } not_pci[] = {
		{ "hns_0", "HNS00D1:00" },
		{ "rdma:hns_0", "HNS00D1:00" },
		{ "ens3", "virtio0" },
		{ "siw0", "virtio0" },
		{ "lo", "" },
		{ "rxe1", "" },
		{ "orphan0", "nosuchif" },
	};
	static const char *const bad[] = {
		"nosuch", "net:", "rdma:", "../eth0", "net:mlx5_0", "rdma:eth0",
		"net:..", "rdma:.", "00:01", "0000:00:20.0",
	};
	char bdf[32];
	size_t i;
	bool ok = true;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = pg_resolve(cases[i].name, bdf, sizeof(bdf));

		if (rc || strcmp(bdf, cases[i].want) != 0) {
			ktap_diag("%s: %d '%s', want '%s'", cases[i].name, rc, rc ? "" : bdf,
				  cases[i].want);
			ok = false;
		}
	}
	ktap_result(ok, "resolve: PCI address (short, prefixed), netdev, HCA, soft RDMA via its netdev");
	ok = true;
	for (i = 0; i < sizeof(not_pci) / sizeof(not_pci[0]); i++) {
		int rc = pg_resolve(not_pci[i].name, bdf, sizeof(bdf));

		if (rc != -ENODEV || strcmp(bdf, not_pci[i].on) != 0) {
			ktap_diag("%s: %d '%s', want -ENODEV '%s'", not_pci[i].name, rc, bdf,
				  not_pci[i].on);
			ok = false;
		}
	}
	ktap_result(ok, "resolve: devices not on PCI (platform HCA, virtio, soft RDMA on them): -ENODEV, what they are on");
	ok = true;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pg_resolve(bad[i], bdf, sizeof(bdf)) != -ENOENT) {
			ktap_diag("%s resolved to %s", bad[i], bdf);
			ok = false;
		}
	}
	ktap_result(ok, "resolve: unknown names, paths, empty prefixed names: -ENOENT");
}

static void test_read(void)
{
	struct pg_dev_info *devs = NULL;
	unsigned int nr = 0;
	const struct pg_queue_info *q;
	int rc;

	rc = pg_read_devices(&devs, &nr);
	ktap_result(rc == 0 && nr == 2 && !strcmp(devs[0].bdf, "0000:00:01.0") &&
		    !strcmp(devs[1].bdf, "0000:3b:00.0") && !strcmp(devs[0].spread, "all") &&
		    !strcmp(devs[1].spread, ""),
		    "read: both devices, by address, with their spread");
	q = rc == 0 && nr == 2 ? devs[0].queues : NULL;
	ktap_result(q && devs[0].nr == 4 && q[0].queue == 0 && q[1].queue == 1 &&
		    q[2].queue == 2 && q[3].queue == 10,
		    "read: queues in numeric order (0, 1, 2, 10)");
	ktap_result(q && devs[0].nr == 4 && q[1].irq == 33 && !strcmp(q[1].name, "eth0-rx-0") &&
		    !strcmp(q[1].cpu, "1") && !strcmp(q[0].cpu, "0-1") && q[1].count == 12 &&
		    q[2].single_dest == 0 && q[1].single_dest == 1 && q[3].name[0] == '\0' &&
		    !strcmp(q[1].msi_dest, "remapped"),
		    "read: queue fields (irq, name, cpu list, count, single_dest, no name)");
	if (rc == 0) {
		char *doc = pg_to_json(devs, nr);
		json_object *j = doc ? json_tokener_parse(doc) : NULL, *d, *qs, *x;
		bool ok = j && json_object_array_length(j) == 2;

		d = ok ? json_object_array_get_idx(j, 0) : NULL;
		ok = ok && json_object_object_get_ex(d, "queues", &qs) &&
		     json_object_array_length(qs) == 4;
		x = ok ? json_object_array_get_idx(qs, 1) : NULL;
		ok = ok && json_object_get_int(json_object_object_get(x, "irq")) == 33 &&
		     json_object_is_type(json_object_object_get(x, "single_dest"), json_type_boolean) &&
		     !strcmp(json_object_get_string(json_object_object_get(x, "cpu")), "1") &&
		     json_object_get_int(json_object_object_get(x, "count")) == 12;
		ktap_result(ok, "JSON: devices, queues and typed fields");
		json_object_put(j);
		free(doc);
	} else {
		ktap_result(false, "JSON: devices, queues and typed fields");
	}
	pg_free_devices(devs, nr);
}

static void test_cli(void)
{
	char buf[64];
	bool ok;
	int rc;

	rc = run("guest status");
	ktap_result(rc == 0 && strstr(out, "0000:00:01.0     1    33 eth0-rx-0") &&
		    strstr(out, "mlx5_comp0@pci:0000:3b:00.0"),
		    "guest status: one row per queue");
	rc = run("guest status --json eth0");
	ktap_result(rc == 0 && strstr(out, "\"device\":\"0000:00:01.0\"") &&
		    !strstr(out, "3b:00.0\"") ,
		    "guest status --json DEV: that device only");
	rc = run("@nosys guest status");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded"),
		    "guest status without the module: 'not loaded', exit 3");
	rc = run("guest set eth0 1 0");
	get("kernel/pisteer/devices/0000:00:01.0/queues/1/cpu", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "0"), "guest set eth0 1 0: writes 0 to queue 1's cpu");
	rc = run("guest set 00:01.0 9 0");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "has no queue 9 (it has 4)"),
		    "guest set on a missing queue: says so, exit 1");
	rc = run("guest set 00:07.0 0 0");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "not attached"),
		    "guest set on a device not attached: says so, exit 1");
	rc = run("guest set eth0 1 x");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "CPU must be a number"),
		    "guest set with CPU 'x': exit 2");
	rc = run("guest set eth0 -1 0");
	ktap_result(rc == PST_EXIT_USAGE, "guest set with queue -1: exit 2");
	rc = run("guest set eth0 1");
	ktap_result(rc == PST_EXIT_USAGE, "guest set with a missing operand: exit 2");
	rc = run("guest spread mlx5_0 0-3");
	get("kernel/pisteer/devices/0000:3b:00.0/spread", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "0-3"), "guest spread mlx5_0 0-3: writes the list");
	rc = run("guest spread eth0");
	get("kernel/pisteer/devices/0000:00:01.0/spread", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "all"), "guest spread without a list: all");
	put("kernel/pisteer/attach", "");
	rc = run("guest attach rdma:rxe0");
	get("kernel/pisteer/attach", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "0000:00:01.0") &&
		    !strcmp(out, "rdma:rxe0 (0000:00:01.0): attached\n"),
		    "guest attach rdma:rxe0: the module gets the PCI address of rxe0's interface");
	put("kernel/pisteer/attach", "");
	rc = run("guest attach mlx5_0");
	get("kernel/pisteer/attach", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "0000:3b:00.0"),
		    "guest attach mlx5_0: the module gets the HCA's PCI address");
	put("kernel/pisteer/detach", "");
	rc = run("guest detach eth0");
	get("kernel/pisteer/detach", buf, sizeof(buf));
	ktap_result(rc == 0 && !strcmp(buf, "0000:00:01.0") &&
		    !strcmp(out, "eth0 (0000:00:01.0): detached\n"),
		    "guest detach eth0: the module gets the PCI address");
	put("kernel/pisteer/attach", "");
	rc = run("guest attach hns_0");
	get("kernel/pisteer/attach", buf, sizeof(buf));
	ktap_result(rc == PST_EXIT_FAIL && !buf[0] &&
		    strstr(err, "'hns_0' is not a PCI device (it is on HNS00D1:00)"),
		    "guest attach of an RDMA device not on PCI: says what it is on, exit 1, nothing written");
	rc = run("guest attach nosuch0");
	get("kernel/pisteer/attach", buf, sizeof(buf));
	ktap_result(rc == PST_EXIT_FAIL && !buf[0] && strstr(err, "named 'nosuch0'"),
		    "guest attach of an unknown name: says so, exit 1, nothing written");
	rc = run("guest status rxe0");
	ktap_result(rc == 0 && strstr(out, "0000:00:01.0     1    33 eth0-rx-0") &&
		    !strstr(out, "0000:3b:00.0"),
		    "guest status rxe0: the device of rxe0's interface only");
	rc = run("guest set siw0 0 0");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "'siw0' is not a PCI device (it is on virtio0)"),
		    "guest set on a soft RDMA device over virtio: not a PCI device, exit 1");
	rc = run("guest spread nosuch0");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "named 'nosuch0'"),
		    "guest spread of an unknown name: says so, exit 1");
	rc = run("guest frob");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unknown subcommand 'frob'"),
		    "unknown guest subcommand: exit 2");
	rc = run("guest status a b");
	ktap_result(rc == PST_EXIT_USAGE, "guest status with two devices: exit 2");

	/* Options after operands, and "--" before them, in every subcommand. */
	rc = run("guest status eth0 --json");
	ok = rc == 0 && strstr(out, "\"device\":\"0000:00:01.0\"") && !strstr(out, "3b:00.0\"");
	rc = run("guest set -- eth0 2 0");
	get("kernel/pisteer/devices/0000:00:01.0/queues/2/cpu", buf, sizeof(buf));
	ok = ok && rc == 0 && !strcmp(buf, "0");
	rc = run("guest spread mlx5_0 -- 0-1");
	get("kernel/pisteer/devices/0000:3b:00.0/spread", buf, sizeof(buf));
	ok = ok && rc == 0 && !strcmp(buf, "0-1");
	put("kernel/pisteer/attach", "");
	rc = run("guest attach -- mlx5_0");
	get("kernel/pisteer/attach", buf, sizeof(buf));
	ok = ok && rc == 0 && !strcmp(buf, "0000:3b:00.0");
	rc = run("guest detach eth0 extra");
	ok = ok && rc == PST_EXIT_USAGE;
	ktap_result(ok, "guest status DEV --json, set/spread/attach with '--': options and operands in any order");
}

int main(int argc, char **argv)
{
	char cmd[600];

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	if (!mkdtemp(root))
		return 1;
	setenv("PISTEER_SYSFS", root, 1);
	make_fixture();

	ktap_plan(29);
	test_resolve();
	test_read();
	test_cli();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		ktap_diag("could not remove %s", root);
	ktap_finish();
}
