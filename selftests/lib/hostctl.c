// SPDX-License-Identifier: GPL-2.0
/*
 * hostctl: what benchmarks do to the rig host around their VMs: pin a
 * thread to a CPU, load and unload pisteer.ko.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostctl.h"
#include "ptvm.h"

int host_pin_thread(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

int host_module_unload(void)
{
	if (syscall(SYS_delete_module, "pisteer", O_NONBLOCK) && errno != ENOENT) {
		fprintf(stderr, "%s: rmmod pisteer: %s\n",
			program_invocation_short_name, strerror(errno));
		return -1;
	}
	return 0;
}

int host_module_load(const char *ko)
{
	int kfd = open(ko, O_RDONLY | O_CLOEXEC), fd = -1, i;

	if (kfd < 0 || syscall(SYS_finit_module, kfd, "", 0)) {
		fprintf(stderr, "%s: insmod %s: %s\n",
			program_invocation_short_name, ko, strerror(errno));
		if (kfd >= 0)
			close(kfd);
		return -1;
	}
	close(kfd);
	/* udev makes the node shortly after the module is live. */
	for (i = 0; i < 200 && fd < 0; i++) {
		fd = open("/dev/pisteer", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			ptvm_sleep_us(10000);
	}
	if (fd < 0)
		fprintf(stderr, "%s: /dev/pisteer: %s\n",
			program_invocation_short_name, strerror(errno));
	return fd;
}
