// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer: command-line front end of the pisteer host module.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lib/pisteer_dev.h"

static const struct pst_command commands[] = {
	{ "version", "release and ABI of this tool and of the loaded module",
	  cmd_version },
	{ "status", "per passthrough vector: VM, device, vCPU, host IRQ, delivery mode",
	  cmd_status },
	{ "check", "pre-flight: does every passthrough interrupt take its shortest path?",
	  cmd_check },
	{ "steer", "put host IRQs on their vCPU's CPU (follow), a CPU (static), or off",
	  cmd_steer },
	{ "config", "apply /etc/pisteer/pisteer.conf: default policy, sampling (at boot)",
	  cmd_config },
	{ "lat", "host delivery latency per vector: sampling on/off, histograms",
	  cmd_lat },
	{ "pin", "pin a VM's vCPU threads 1:1 to CPUs near its devices (--undo)",
	  cmd_pin },
	{ "isolate", "move other host IRQs off the vCPUs' CPUs (--undo)",
	  cmd_isolate },
	{ "guest", "in a guest: queue IRQ placement of a passthrough NIC/HCA",
	  cmd_guest },
	{ "rdma-lat", "RDMA SEND/RECV ping-pong latency, polled or by interrupts",
	  cmd_rdma_lat },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: pisteer [--help] [--version] COMMAND [ARGS]\n"
		"       pisteer help [COMMAND]\n"
		"\n"
		"Steer interrupts of passthrough NICs/HCAs to the KVM vCPU they are\n"
		"meant for, and report how they are delivered (pisteer.ko).\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"'pisteer COMMAND --help' (or 'pisteer help COMMAND') describes a\n"
		"command.  Options may come before or after operands; '--' ends them.\n"
		"\n"
		"Environment:\n"
		"  PISTEER_DEV        device node of the module (default /dev/pisteer)\n"
		"  PISTEER_STATE_DIR  where pin and isolate keep what --undo restores\n"
		"                     (default /run/pisteer)\n"
		"  PISTEER_SYSFS      where sysfs is mounted, for pisteer guest (default /sys)\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  the operation failed\n"
		"  2  bad command line\n"
		"  3  the pisteer module is not loaded (/dev/pisteer missing)\n"
		"  4  permission denied: run as root (CAP_SYS_ADMIN)\n"
		"  5  the loaded module speaks an ABI this tool cannot use\n");
}

static const struct pst_command *find(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	fprintf(stderr, "pisteer: unknown command '%s' (see pisteer --help)\n", name);
	return NULL;
}

/* "pisteer help [COMMAND]": exactly what "pisteer COMMAND --help" prints. */
static int help(int argc, char **argv)
{
	static char opt[] = "--help";
	const struct pst_command *c;
	char *args[3];

	if (argc == 2) {
		usage(stdout);
		return PST_EXIT_OK;
	}
	if (argc > 3) {
		fprintf(stderr, "pisteer %s: unexpected argument '%s'\n", argv[1], argv[3]);
		return PST_EXIT_USAGE;
	}
	c = find(argv[2]);
	if (!c)
		return PST_EXIT_USAGE;
	args[0] = argv[2];
	args[1] = opt;
	args[2] = NULL;
	return c->run(2, args);
}

int main(int argc, char **argv)
{
	const struct pst_command *c;

	if (argc < 2) {
		usage(stderr);
		return PST_EXIT_USAGE;
	}
	if (cmd_is_help(argv[1]))
		return help(argc, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	c = find(argv[1]);
	return c ? c->run(argc - 1, argv + 1) : PST_EXIT_USAGE;
}
