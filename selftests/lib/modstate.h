/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What pisteer.ko holds, for tests that look for leaks: the counts of
 * /sys/kernel/debug/pisteer/allocs, and the vectors it lists.
 */
#ifndef PISTEER_MODSTATE_H
#define PISTEER_MODSTATE_H

#include <linux/pisteer.h>
#include <stdbool.h>

#define MODSTATE_ALLOCS		"/sys/kernel/debug/pisteer/allocs"
#define MODSTATE_SCANS		"/sys/kernel/debug/pisteer/scans"
#define MODCOUNTS_MAX		16

/* The allocs file: "name value" lines, in its order. */
struct modcounts {
	int nr;
	char name[MODCOUNTS_MAX][32];
	long value[MODCOUNTS_MAX];
};

/* Read the allocs file.  0, or -errno (message to stderr). */
int modcounts_read(struct modcounts *c);

/* The same for another "name value" file of the module's (e.g. scans). */
int modcounts_read_file(const char *path, struct modcounts *c);

/* The value of line @name, or -1 when there is none. */
long modcounts_get(const struct modcounts *c, const char *name);

/*
 * Do @now and @base have the same lines with the same values?  When not,
 * each difference is printed as a KTAP diagnostic (if @say).
 */
bool modcounts_same(const struct modcounts *base, const struct modcounts *now,
		    bool say);

/*
 * Read the counts until they equal @base or @timeout_ms passed (a rescan
 * in flight holds a few objects for a moment); the last reading in @now.
 * Returns whether they became equal.
 */
bool modcounts_wait_same(const struct modcounts *base, struct modcounts *now,
			 unsigned int timeout_ms);

/* Print the counts as one diagnostic line, after @what. */
void modcounts_diag(const char *what, const struct modcounts *c);

/*
 * PISTEER_IOC_LIST_VECTORS on @fd: the vectors of the VMs of @pid (every
 * VM when 0), up to @max into @out (may be NULL when @max is 0).  Returns
 * how many there are (which may exceed @max), or -errno.
 */
int modstate_list(int fd, int pid, struct pisteer_vector *out, int max);

#endif
