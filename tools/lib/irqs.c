// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqs.h"

int pst_irq_get_affinity(unsigned int irq, struct pst_cpus *set)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", irq);
	return pst_cpus_read_file(path, set);
}

int pst_irq_set_affinity(unsigned int irq, const struct pst_cpus *set)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", irq);
	pst_cpus_format(set, buf, sizeof(buf));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, strlen(buf));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(buf))
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

static int by_irq(const void *a, const void *b)
{
	const struct pst_irq *x = a, *y = b;

	return (x->irq > y->irq) - (x->irq < y->irq);
}

/* Names from /proc/interrupts: numbered lines into @irqs, others @percpu. */
static void read_names(struct pst_irq *irqs, int n, char *percpu, size_t len)
{
	char *line = NULL, *p, *end;
	size_t cap = 0, off = 0;
	int cpus = 0, i;
	unsigned long irq;
	FILE *f;

	percpu[0] = '\0';
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return;
	if (getline(&line, &cap, f) > 0)
		for (p = strtok(line, " \t\n"); p; p = strtok(NULL, " \t\n"))
			cpus++;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		p = line + strspn(line, " ");
		end = strchr(p, ':');
		if (!end)
			continue;
		*end++ = '\0';
		if (!isdigit((unsigned char)*p)) {
			if (off < len)
				off += (size_t)snprintf(percpu + off, len - off, "%s%s",
							off ? " " : "", p);
			continue;
		}
		irq = strtoul(p, NULL, 10);
		/* Skip one count column per CPU, then the rest is the name. */
		for (i = 0; i < cpus; i++) {
			end += strspn(end, " ");
			end += strcspn(end, " ");
		}
		end += strspn(end, " ");
		for (i = 0; i < n; i++) {
			if (irqs[i].irq == irq) {
				snprintf(irqs[i].name, sizeof(irqs[i].name), "%s", end);
				break;
			}
		}
	}
	free(line);
	fclose(f);
}

int pst_irqs_read(struct pst_irq **irqs, char **percpu)
{
	struct pst_irq *v = NULL, *g;
	unsigned int n = 0, cap = 0;
	struct dirent *de;
	char path[96], *end;
	unsigned long irq;
	DIR *d;

	*irqs = NULL;
	*percpu = calloc(1, 1024);
	if (!*percpu)
		return -ENOMEM;
	d = opendir("/proc/irq");
	if (!d) {
		free(*percpu);
		*percpu = NULL;
		return -errno;
	}
	while ((de = readdir(d))) {
		irq = strtoul(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			g = realloc(v, cap * sizeof(*v));
			if (!g) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = g;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].irq = (unsigned int)irq;
		v[n].has_affinity = !pst_irq_get_affinity(v[n].irq, &v[n].affinity);
		snprintf(path, sizeof(path), "/proc/irq/%lu/effective_affinity_list", irq);
		if (pst_cpus_read_file(path, &v[n].effective))
			v[n].effective = v[n].affinity;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), by_irq);
	read_names(v, (int)n, *percpu, 1024);
	*irqs = v;
	return (int)n;
}

int pst_find_process(const char *comm)
{
	char path[64], buf[32];
	struct dirent *de;
	int pid, found = 0;
	DIR *d;
	FILE *f;

	d = opendir("/proc");
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (!strcmp(buf, comm))
				found = pid;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

int pst_irq_counts(const unsigned int *irqs, unsigned int n, uint64_t *counts)
{
	char *line = NULL, *p, *end;
	unsigned long long c;
	unsigned long irq;
	uint64_t sum;
	size_t cap = 0;
	unsigned int i;
	int cpus = 0, col;
	FILE *f;

	for (i = 0; i < n; i++)
		counts[i] = UINT64_MAX;
	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -errno;
	if (getline(&line, &cap, f) > 0)
		for (p = strtok(line, " \t\n"); p; p = strtok(NULL, " \t\n"))
			cpus++;
	while (getline(&line, &cap, f) > 0) {
		p = line + strspn(line, " ");
		if (!isdigit((unsigned char)*p))
			continue;
		irq = strtoul(p, &end, 10);
		if (*end != ':')
			continue;
		p = end + 1;
		sum = 0;
		/* One count column per CPU of the header. */
		for (col = 0; col < cpus; col++) {
			p += strspn(p, " ");
			if (!isdigit((unsigned char)*p))
				break;
			c = strtoull(p, &end, 10);
			sum += c;
			p = end;
		}
		for (i = 0; i < n; i++)
			if (irqs[i] == irq)
				counts[i] = sum;
	}
	free(line);
	fclose(f);
	return 0;
}
