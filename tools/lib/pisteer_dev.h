/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Talking to the host module through /dev/pisteer, and turning what goes
 * wrong into one clear message and a documented exit status.
 */
#ifndef PISTEER_DEV_H
#define PISTEER_DEV_H

#include <linux/pisteer.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of the pisteer command (documented in --help and pisteer.8). */
enum pst_exit {
	PST_EXIT_OK = 0,
	PST_EXIT_FAIL = 1,		/* the operation failed */
	PST_EXIT_USAGE = 2,		/* bad command line */
	PST_EXIT_NO_MODULE = 3,		/* pisteer.ko not loaded */
	PST_EXIT_PERM = 4,		/* not root / no CAP_SYS_ADMIN */
	PST_EXIT_ABI = 5,		/* module ABI the tool cannot use */
};

/* The device path: $PISTEER_DEV, else /dev/pisteer. */
const char *pst_dev_path(void);

/*
 * Open the device.  Returns an fd, or -errno after printing why to stderr
 * ("module not loaded", "needs root", ...).
 */
int pst_dev_open(void);

/*
 * Open the device as pst_dev_open() does, then ask its version
 * (into @ver, if not NULL) and check that this tool can use its ABI.
 * Returns an fd, or -errno after printing why (-EPROTO: another ABI).
 * What status, steer and lat start with.
 */
int pst_dev_open_checked(struct pisteer_version *ver);

/* Open the device saying nothing: an fd or -errno (pin, isolate). */
int pst_dev_open_quiet(void);

/* Exit status for a failure with @err (a positive errno). */
int pst_exit_for(int err);

/*
 * PISTEER_IOC_VERSION.  On success @ver holds what the module filled in
 * and zeros past it (an older module fills less).  Returns 0 or -errno.
 */
int pst_query_version(int fd, struct pisteer_version *ver);

/* Can this tool use a module that answered @ver?  0, or -EPROTO. */
int pst_check_abi(const struct pisteer_version *ver);

/* A PCI address: segment, bus, devfn. */
struct pst_bdf {
	unsigned int seg;
	unsigned int bus;
	unsigned int devfn;
};

/* Parse "SSSS:BB:DD.F" or "BB:DD.F" (segment 0).  0, or -EINVAL. */
int pst_parse_bdf(const char *s, struct pst_bdf *bdf);

/* Format as "SSSS:BB:DD.F" into @buf (at least 13 bytes). */
void pst_format_bdf(unsigned int seg, unsigned int bus, unsigned int devfn,
		    char *buf, size_t len);

/* Format a CPU bitmask of @nr_words 64-bit words as a list: "0-3,8". */
void pst_format_cpulist(const __u64 *words, unsigned int nr_words, char *buf,
			size_t len);

/* "remapped", "posted", "unknown"; and the reason as words. */
const char *pst_mode_name(unsigned int mode);
const char *pst_reason_name(unsigned int reason);
const char *pst_target_how_name(unsigned int how);
const char *pst_target_unknown_text(unsigned int why);
const char *pst_host_feature_name(unsigned int feat);
const char *pst_host_feature_what(unsigned int feat);
const char *pst_host_feature_why(int err);
const char *pst_policy_name(unsigned int policy);
/* Why auto chose what it chose (PISTEER_WHY_*): a token, and a sentence. */
const char *pst_why_name(unsigned int why);
const char *pst_why_text(unsigned int why);

/* Filters of PISTEER_IOC_LIST_VECTORS. */
struct pst_filter {
	int pid;		/* 0: any */
	bool has_bdf;
	struct pst_bdf bdf;
};

/*
 * PISTEER_IOC_LIST_VECTORS, growing the buffer until everything fits.
 * On success *@vecs (free() it) holds *@nr entries.  0 or -errno.
 */
int pst_list_vectors(int fd, const struct pst_filter *f,
		     struct pisteer_vector **vecs, unsigned int *nr);

/*
 * The other ioctls, one typed call each: 0 or -errno.  Every command
 * talks to the module through this file; none calls ioctl() itself.
 */
int pst_dev_set_policy(int fd, const struct pisteer_policy *p);
int pst_dev_lat_ctl(int fd, const struct pisteer_lat_ctl *c);
/* One PISTEER_IOC_LAT_READ: -ENOSPC with r->count the room needed. */
int pst_dev_lat_read(int fd, struct pisteer_lat_read *r);

/*
 * PISTEER_IOC_LAT_READ as pst_list_vectors() lists: the header into @hdr,
 * *@nr entries into *@vecs (free() it).  0 or -errno.
 */
int pst_lat_read(int fd, const struct pst_filter *f, struct pisteer_lat_read *hdr,
		 struct pisteer_lat_vector **vecs, unsigned int *nr);

#endif
