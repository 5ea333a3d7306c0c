// SPDX-License-Identifier: GPL-2.0
/*
 * repin_lat TID N MAX_MS IRQ...: re-pin thread TID N times, alternately to
 * CPU 1 and CPU 0, and time each re-pin until every IRQ's effective CPU
 * (/proc/irq/IRQ/effective_affinity_list) is that CPU: the time follow
 * steering takes to move the host IRQs after their vCPU thread moved, from
 * the sched_setaffinity() call on (a shell's taskset would add its own fork
 * and exec, tens of ms in the rig).  Prints each time and the median in ms;
 * exit 0 when every re-pin was followed within 1 s and the median is at
 * most MAX_MS, 1 otherwise.  Leaves the thread on CPU 0.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REPINS	100
#define GIVE_UP_US	1000000LL

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* A short sleep: a spinning poller would take the CPU the rescan needs. */
static void nap_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set);
}

/* Is every IRQ's effective CPU @cpu? */
static int all_on(char **irqs, int n, int cpu)
{
	char path[64], buf[32];
	int i;

	for (i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/irq/%s/effective_affinity_list", irqs[i]);
		f = fopen(path, "r");
		if (!f)
			return -1;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (atoi(buf) != cpu || strchr(buf, '-') || strchr(buf, ','))
			return 0;
	}
	return 1;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long long took[MAX_REPINS], sorted[MAX_REPINS], t0, median;
	int n, max_ms, i, cpu, on, nirq;
	pid_t tid;

	if (argc < 5) {
		fprintf(stderr, "usage: repin_lat TID N MAX_MS IRQ...\n");
		return 2;
	}
	tid = atoi(argv[1]);
	n = atoi(argv[2]);
	max_ms = atoi(argv[3]);
	nirq = argc - 4;
	if (tid <= 0 || n < 1 || n > MAX_REPINS || max_ms < 0) {
		fprintf(stderr, "repin_lat: bad arguments\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		cpu = i % 2 ? 0 : 1;
		t0 = now_us();
		if (pin(tid, cpu)) {
			perror("repin_lat: sched_setaffinity");
			return 1;
		}
		while (!(on = all_on(argv + 4, nirq, cpu)) && now_us() - t0 < GIVE_UP_US)
			nap_us(200);
		took[i] = now_us() - t0;
		if (on != 1) {
			printf("re-pin %d to CPU %d: the IRQs did not follow within 1 s\n", i + 1, cpu);
			pin(tid, 0);
			return 1;
		}
		/* Let the move settle before the next one. */
		nap_us(20000);
	}
	pin(tid, 0);
	memcpy(sorted, took, sizeof(took[0]) * n);
	qsort(sorted, n, sizeof(sorted[0]), cmp_ll);
	median = sorted[(n - 1) / 2];
	printf("%d re-pins: median %lld.%lld ms, max %lld.%lld ms; each:", n,
	       median / 1000, median % 1000 / 100, sorted[n - 1] / 1000,
	       sorted[n - 1] % 1000 / 100);
	for (i = 0; i < n; i++)
		printf(" %lld.%lld", took[i] / 1000, took[i] % 1000 / 100);
	printf("\n");
	return median <= max_ms * 1000LL ? 0 : 1;
}
