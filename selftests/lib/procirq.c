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
		p = end + 1;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			if (pi->nr_cpus < PROCIRQ_MAX_CPUS)
				pi->percpu[pi->nr_cpus++] = v;
			pi->total += v;
			p = end;
		}
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
