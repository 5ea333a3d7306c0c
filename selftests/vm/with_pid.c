// SPDX-License-Identifier: GPL-2.0
/*
 * with_pid PID PROGRAM [ARG...]: run PROGRAM as a child whose pid is PID
 * (clone3() with set_tid: root in the initial pid namespace), wait for it
 * and exit with its status.  Lets a test give a new VM the pid of one that
 * has exited, as pid reuse would on a busy host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct clone_args args;
	pid_t want, child;
	char *end;
	long v;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PID PROGRAM [ARG...]\n", argv[0]);
		return 2;
	}
	errno = 0;
	v = strtol(argv[1], &end, 10);
	if (errno || *end || v <= 1 || v > 0x3fffffff) {
		fprintf(stderr, "with_pid: bad pid '%s'\n", argv[1]);
		return 2;
	}
	want = (pid_t)v;
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)&want;
	args.set_tid_size = 1;
	child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (child < 0) {
		fprintf(stderr, "with_pid: clone3 with pid %d: %s\n", want, strerror(errno));
		return 1;
	}
	if (!child) {
		execv(argv[2], argv + 2);
		fprintf(stderr, "with_pid: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	if (waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
