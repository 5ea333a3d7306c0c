/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small files of sysfs and /proc, read the one way every command reads
 * them.
 */
#ifndef PISTEER_SYSFILE_H
#define PISTEER_SYSFILE_H

#include <stddef.h>

/*
 * Read the small file @path (one read, as sysfs hands it out) into @buf
 * without what follows its first newline: 0 or -errno.
 */
int pst_read_line(const char *path, char *buf, size_t len);

#endif
