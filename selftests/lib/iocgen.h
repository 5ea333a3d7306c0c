/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random pisteer ioctl requests, for the ioctl fuzzer (ioctl_fuzz.c).
 */
#ifndef PISTEER_IOCGEN_H
#define PISTEER_IOCGEN_H

#include <linux/pisteer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IOCGEN_PAGE		4096UL
/* The entries area a request may point into (then a PROT_NONE page). */
#define IOCGEN_ENTRY_AREA	(16 * IOCGEN_PAGE)

/* What the draws refer to; set before the first one. */
struct iocgen_env {
	pid_t self;			/* the process holding the VMs */
	unsigned int nr_cpus;		/* online CPUs */
	const char *bdf;		/* the assigned device, or NULL */
	uintptr_t ro_page;		/* a read-only page */
	/* A host IRQ of the live VM's vectors, 0 when none. */
	unsigned int (*live_irq)(uint64_t *seed);
};
extern struct iocgen_env iocgen_env;

/* pisteer's commands: number, struct sizes, documented errors. */
enum { IOCGEN_VERSION, IOCGEN_LIST, IOCGEN_POLICY, IOCGEN_LAT_CTL, IOCGEN_LAT_READ,
       IOCGEN_NR_CMDS };

struct iocgen_cmd {
	const char *name;
	unsigned long nr;
	size_t ksize, ver0;
	int errs[8];		/* besides 0; ends with 0 */
};
extern const struct iocgen_cmd iocgen_cmds[IOCGEN_NR_CMDS];

uint64_t iocgen_rnd(uint64_t *seed);
unsigned int iocgen_below(uint64_t *seed, unsigned int n);
bool iocgen_chance(uint64_t *seed, unsigned int percent);

/*
 * Random fields for command @which into @p (zeroed, at least a page), its
 * entries pointer (if any) mostly inside @entries (IOCGEN_ENTRY_AREA).
 */
void iocgen_fill(uint64_t *seed, unsigned int which, void *p, unsigned char *entries);
/* Clear what must be zero in @which's request, keep valid flags only. */
void iocgen_make_sane(unsigned int which, void *p);
/* A struct size to claim: 0, 1, short, exact, larger, above a page. */
uint32_t iocgen_size(uint64_t *seed, const struct iocgen_cmd *c);
/* A bad argument pointer: NULL, kernel, unmapped, non-canonical. */
unsigned long iocgen_bad_arg(uint64_t *seed);
/* A number that is none of pisteer's nor one the VFS answers itself. */
unsigned long iocgen_unknown_cmd(uint64_t *seed);

#endif
