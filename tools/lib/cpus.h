/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sets of CPUs as the kernel writes them ("0-3,8"): strict parsing of what
 * users and sysfs give us, and conversion to and from cpu_set_t.
 */
#ifndef PISTEER_CPUS_H
#define PISTEER_CPUS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* cpu_set_t macros */
#endif
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PST_MAX_CPUS	1024

struct pst_cpus {
	uint64_t w[PST_MAX_CPUS / 64];
};

/*
 * Parse a CPU list: comma-separated CPUs and ranges "A-B" (A <= B), each
 * below PST_MAX_CPUS, nothing else (no spaces, no empty items).  One
 * trailing newline is accepted (sysfs files end in one); with @allow_empty
 * an empty list is the empty set.  0, or -EINVAL with the reason in @why.
 */
int pst_cpus_parse(const char *s, bool allow_empty, struct pst_cpus *set,
		   char *why, size_t whylen);
/*
 * The CPU list in a file the kernel writes (/proc/irq/N/smp_affinity_list,
 * /sys/devices/system/cpu/isolated): 0, or -errno (-EINVAL: not a list).
 * An empty file, and "(null)" (nohz_full without nohz_full=), is the
 * empty set.
 */
int pst_cpus_read_file(const char *path, struct pst_cpus *set);
/* Format as a list ("-" for the empty set) into @buf. */
void pst_cpus_format(const struct pst_cpus *set, char *buf, size_t len);

static inline void pst_cpus_zero(struct pst_cpus *s)
{
	*s = (struct pst_cpus){ { 0 } };
}

static inline void pst_cpus_set(struct pst_cpus *s, unsigned int cpu)
{
	if (cpu < PST_MAX_CPUS)
		s->w[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void pst_cpus_clear(struct pst_cpus *s, unsigned int cpu)
{
	if (cpu < PST_MAX_CPUS)
		s->w[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool pst_cpus_test(const struct pst_cpus *s, unsigned int cpu)
{
	return cpu < PST_MAX_CPUS && (s->w[cpu / 64] >> (cpu % 64) & 1);
}

unsigned int pst_cpus_count(const struct pst_cpus *s);
/* First CPU of @s, or -1 when empty. */
int pst_cpus_first(const struct pst_cpus *s);
bool pst_cpus_equal(const struct pst_cpus *a, const struct pst_cpus *b);
bool pst_cpus_intersects(const struct pst_cpus *a, const struct pst_cpus *b);
bool pst_cpus_subset(const struct pst_cpus *a, const struct pst_cpus *of);
void pst_cpus_and(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b);
void pst_cpus_or(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b);
void pst_cpus_andnot(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b);

/* Thread affinity: 0 or -errno. */
int pst_cpus_get_affinity(int tid, struct pst_cpus *set);
int pst_cpus_set_affinity(int tid, const struct pst_cpus *set);

#endif
