// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procirq.h"

/* Does @line (trailing blanks stripped, length @len) end with word @name? */
static int ends_with_name(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	if (len < nlen || strcmp(line + len - nlen, name) != 0)
		return 0;
	return len == nlen || isspace((unsigned char)line[len - nlen - 1]);
}

/* The per-CPU counts that follow @p into @pi. */
static void read_counts(const char *p, struct procirq *pi)
{
	char *end;

	for (;;) {
		long long v = strtoll(p, &end, 10);

		if (end == p)
			break;
		if (pi->nr_cpus < PROCIRQ_MAX_CPUS)
			pi->percpu[pi->nr_cpus++] = v;
		pi->total += v;
		p = end;
	}
}

int procirq_read_row(const char *label, struct procirq *pi)
{
	size_t cap = 0, llen = strlen(label);
	char *line = NULL;
	int found = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (found && getline(&line, &cap, f) > 0) {
		const char *p = line;

		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, label, llen) != 0 || p[llen] != ':')
			continue;
		memset(pi, 0, sizeof(*pi));
		pi->irq = -1;
		read_counts(p + llen + 1, pi);
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

int procirq_read(const char *name, struct procirq *pi)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	int found = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (found && (len = getline(&line, &cap, f)) > 0) {
		char *p = line, *end;
		long num;

		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (!ends_with_name(line, (size_t)len, name))
			continue;
		num = strtol(p, &end, 10);
		if (end == p || *end != ':')
			continue;
		memset(pi, 0, sizeof(*pi));
		pi->irq = (int)num;
		read_counts(end + 1, pi);
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

long long procirq_count(const char *name, int *irq)
{
	struct procirq pi;

	if (procirq_read(name, &pi))
		return -1;
	if (irq)
		*irq = pi.irq;
	return pi.total;
}
