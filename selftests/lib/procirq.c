// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procirq.h"

long long procirq_count(const char *name, int *irq)
{
	long long total = -1;
	size_t cap = 0, nlen = strlen(name);
	char *line = NULL;
	ssize_t len;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		char *p = line, *end;
		long long sum = 0;
		long num;

		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if ((size_t)len < nlen || strcmp(line + len - nlen, name) ||
		    (len > (ssize_t)nlen && !isspace((unsigned char)line[len - nlen - 1])))
			continue;
		num = strtol(p, &end, 10);
		if (end == p || *end != ':')
			continue;
		p = end + 1;
		for (;;) {
			long long v = strtoll(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		if (irq)
			*irq = (int)num;
		total = sum;
		break;
	}
	free(line);
	fclose(f);
	return total;
}
