// SPDX-License-Identifier: GPL-2.0
/*
 * thread_bounce TID PERIOD_US DURATION_MS: move thread TID between CPU 0
 * and CPU 1 every PERIOD_US on average for DURATION_MS (an affinity storm a
 * shell loop cannot make: a fork costs tens of ms in the rig), leave it on
 * the CPU it started on, and print how many moves were made.
 *
 * Each period is drawn from [PERIOD_US / 2, 3 * PERIOD_US / 2) with a fixed
 * seed: with an exact period, a scanner that looks every even number of
 * milliseconds on tick boundaries would see the thread on the same CPU
 * every time (aliasing), and the storm would test nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	long long end, next;
	long period, step, moves = 0;
	cpu_set_t start;
	struct timespec ts;
	pid_t tid;
	int cpu = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s TID PERIOD_US DURATION_MS\n", argv[0]);
		return 2;
	}
	tid = (pid_t)atoi(argv[1]);
	period = atol(argv[2]);
	if (tid <= 0 || period <= 0 || atol(argv[3]) <= 0 ||
	    sched_getaffinity(tid, sizeof(start), &start)) {
		fprintf(stderr, "thread_bounce: bad arguments or no thread %s: %s\n",
			argv[1], strerror(errno));
		return 2;
	}
	end = now_us() + atol(argv[3]) * 1000LL;
	srand(1);
	for (next = now_us(); next < end; next += step) {
		step = period / 2 + rand() % period;
		cpu ^= 1;
		if (pin(tid, cpu)) {
			perror("thread_bounce: sched_setaffinity");
			return 1;
		}
		moves++;
		/* Sleep, not spin: the kernel's work items must run meanwhile. */
		ts.tv_sec = (next + step) / 1000000;
		ts.tv_nsec = (next + step) % 1000000 * 1000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	if (sched_setaffinity(tid, sizeof(start), &start)) {
		perror("thread_bounce: restore");
		return 1;
	}
	printf("%ld\n", moves);
	return 0;
}
