// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpus.h"
#include "pisteer_dev.h"
#include "sysfile.h"

static int parse_cpu(const char **p, unsigned int *cpu, char *why, size_t whylen)
{
	const char *s = *p;
	unsigned long v = 0;

	if (*s < '0' || *s > '9') {
		snprintf(why, whylen, "expected a CPU number at '%s'", s);
		return -EINVAL;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= PST_MAX_CPUS) {
			snprintf(why, whylen, "CPU numbers go up to %d", PST_MAX_CPUS - 1);
			return -EINVAL;
		}
		s++;
	}
	*cpu = (unsigned int)v;
	*p = s;
	return 0;
}

int pst_cpus_parse(const char *s, bool allow_empty, struct pst_cpus *set,
		   char *why, size_t whylen)
{
	struct pst_cpus r;
	unsigned int a, b, c;
	const char *p = s;

	pst_cpus_zero(&r);
	if (!*p || !strcmp(p, "\n")) {
		if (!allow_empty) {
			snprintf(why, whylen, "empty CPU list");
			return -EINVAL;
		}
		*set = r;
		return 0;
	}
	for (;;) {
		if (parse_cpu(&p, &a, why, whylen))
			return -EINVAL;
		b = a;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &b, why, whylen))
				return -EINVAL;
			if (b < a) {
				snprintf(why, whylen, "range %u-%u goes backwards", a, b);
				return -EINVAL;
			}
		}
		for (c = a; c <= b; c++)
			pst_cpus_set(&r, c);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p || !strcmp(p, "\n"))
			break;
		snprintf(why, whylen, "unexpected '%c'", *p);
		return -EINVAL;
	}
	*set = r;
	return 0;
}

void pst_cpus_format(const struct pst_cpus *set, char *buf, size_t len)
{
	pst_format_cpulist((const __u64 *)set->w, PST_MAX_CPUS / 64, buf, len);
}

unsigned int pst_cpus_count(const struct pst_cpus *s)
{
	unsigned int i, n = 0;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		n += (unsigned int)__builtin_popcountll(s->w[i]);
	return n;
}

int pst_cpus_first(const struct pst_cpus *s)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		if (s->w[i])
			return (int)(i * 64 + (unsigned int)__builtin_ctzll(s->w[i]));
	return -1;
}

bool pst_cpus_equal(const struct pst_cpus *a, const struct pst_cpus *b)
{
	return !memcmp(a->w, b->w, sizeof(a->w));
}

bool pst_cpus_intersects(const struct pst_cpus *a, const struct pst_cpus *b)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

bool pst_cpus_subset(const struct pst_cpus *a, const struct pst_cpus *of)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		if (a->w[i] & ~of->w[i])
			return false;
	return true;
}

void pst_cpus_and(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		d->w[i] = a->w[i] & b->w[i];
}

void pst_cpus_or(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		d->w[i] = a->w[i] | b->w[i];
}

void pst_cpus_andnot(struct pst_cpus *d, const struct pst_cpus *a, const struct pst_cpus *b)
{
	unsigned int i;

	for (i = 0; i < PST_MAX_CPUS / 64; i++)
		d->w[i] = a->w[i] & ~b->w[i];
}

int pst_cpus_get_affinity(int tid, struct pst_cpus *set)
{
	size_t sz = CPU_ALLOC_SIZE(PST_MAX_CPUS);
	cpu_set_t *cs = CPU_ALLOC(PST_MAX_CPUS);
	unsigned int c;
	int err = 0;

	if (!cs)
		return -ENOMEM;
	CPU_ZERO_S(sz, cs);
	if (sched_getaffinity(tid, sz, cs) < 0) {
		err = -errno;
	} else {
		pst_cpus_zero(set);
		for (c = 0; c < PST_MAX_CPUS; c++)
			if (CPU_ISSET_S(c, sz, cs))
				pst_cpus_set(set, c);
	}
	CPU_FREE(cs);
	return err;
}

int pst_cpus_set_affinity(int tid, const struct pst_cpus *set)
{
	size_t sz = CPU_ALLOC_SIZE(PST_MAX_CPUS);
	cpu_set_t *cs = CPU_ALLOC(PST_MAX_CPUS);
	unsigned int c;
	int err = 0;

	if (!cs)
		return -ENOMEM;
	CPU_ZERO_S(sz, cs);
	for (c = 0; c < PST_MAX_CPUS; c++)
		if (pst_cpus_test(set, c))
			CPU_SET_S(c, sz, cs);
	if (sched_setaffinity(tid, sz, cs) < 0)
		err = -errno;
	CPU_FREE(cs);
	return err;
}

int pst_cpus_read_file(const char *path, struct pst_cpus *set)
{
	char buf[4096], why[128];
	int err;

	err = pst_read_line(path, buf, sizeof(buf));
	if (err)
		return err;
	if (!strcmp(buf, "(null)")) {
		pst_cpus_zero(set);
		return 0;
	}
	return pst_cpus_parse(buf, true, set, why, sizeof(why));
}
