// SPDX-License-Identifier: GPL-2.0
/*
 * Random pisteer ioctl requests for ioctl_fuzz: each field drawn from the
 * values that matter (valid ones, edges, garbage), struct sizes across the
 * extensible-struct rules, bad pointers, unknown ioctl numbers.  Every
 * draw comes from the caller's seed (splitmix64), so a seed replays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "iocgen.h"

#define KERNEL_ADDR	0xffff888000000000UL
#define NONCANON_ADDR	0x8000000000000000UL
#define LOW_ADDR	0x1000UL	/* below mmap_min_addr: never mapped */

struct iocgen_env iocgen_env;

const struct iocgen_cmd iocgen_cmds[IOCGEN_NR_CMDS] = {
	{ "VERSION", PISTEER_IOC_VERSION, sizeof(struct pisteer_version),
	  PISTEER_VERSION_SIZE_VER0, { EFAULT, EINVAL, E2BIG } },
	{ "LIST_VECTORS", PISTEER_IOC_LIST_VECTORS, sizeof(struct pisteer_list_vectors),
	  PISTEER_LIST_VECTORS_SIZE_VER0, { EFAULT, EINVAL, E2BIG, ENOSPC, ENOMEM } },
	{ "SET_POLICY", PISTEER_IOC_SET_POLICY, sizeof(struct pisteer_policy),
	  PISTEER_POLICY_SIZE_VER0, { EFAULT, EINVAL, E2BIG, ENOSPC, ENOENT, ESRCH } },
	{ "LAT_CTL", PISTEER_IOC_LAT_CTL, sizeof(struct pisteer_lat_ctl),
	  PISTEER_LAT_CTL_SIZE_VER0, { EFAULT, EINVAL, E2BIG, ENOENT, ENOSPC, ENODEV, ENOMEM } },
	{ "LAT_READ", PISTEER_IOC_LAT_READ, sizeof(struct pisteer_lat_read),
	  PISTEER_LAT_READ_SIZE_VER0, { EFAULT, EINVAL, E2BIG, ENOSPC, ENOMEM } },
};

uint64_t iocgen_rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int iocgen_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(iocgen_rnd(s) % n);
}

bool iocgen_chance(uint64_t *s, unsigned int percent)
{
	return iocgen_below(s, 100) < percent;
}

static uint32_t pick_flags(uint64_t *s, uint32_t valid)
{
	switch (iocgen_below(s, 5)) {
	case 0:
	case 1:
		return 0;
	case 2:
		return (uint32_t)iocgen_rnd(s) & valid;
	case 3:
		return 1U << iocgen_below(s, 32);
	default:
		return (uint32_t)iocgen_rnd(s);
	}
}

static int32_t pick_pid(uint64_t *s)
{
	static const int32_t odd[] = { 0, -1, 1, 0x3ffffff0, INT32_MIN, INT32_MAX };

	switch (iocgen_below(s, 4)) {
	case 0:
	case 1:
		return iocgen_env.self;	/* this process holds the VMs */
	case 2:
		return odd[iocgen_below(s, sizeof(odd) / sizeof(odd[0]))];
	default:
		return (int32_t)iocgen_rnd(s);
	}
}

static int32_t pick_cpu(uint64_t *s)
{
	if (iocgen_chance(s, 70))
		return (int32_t)iocgen_below(s, iocgen_env.nr_cpus + 1) - (iocgen_chance(s, 20) ? 1 : 0);
	return (int32_t)iocgen_rnd(s);
}

static uint32_t pick_irq(uint64_t *s)
{
	unsigned int irq;

	if (iocgen_chance(s, 60)) {
		irq = iocgen_env.live_irq ? iocgen_env.live_irq(s) : 0;
		if (irq)
			return irq;
	}
	return iocgen_chance(s, 50) ? iocgen_below(s, 64) : (uint32_t)iocgen_rnd(s);
}

static void pick_pci(uint64_t *s, uint32_t *seg, uint8_t *bus, uint8_t *devfn)
{
	unsigned int b = 0, d = 0, f = 0;

	if (iocgen_chance(s, 60) && iocgen_env.bdf && sscanf(iocgen_env.bdf, "%*x:%x:%x.%x", &b, &d, &f) == 3) {
		*seg = 0;
		*bus = (uint8_t)b;
		*devfn = (uint8_t)((d << 3) | f);
		return;
	}
	*seg = iocgen_chance(s, 50) ? 0 : (uint32_t)iocgen_rnd(s);
	*bus = (uint8_t)iocgen_rnd(s);
	*devfn = (uint8_t)iocgen_rnd(s);
}

static uint32_t pick_entry_size(uint64_t *s, uint32_t ver0, uint32_t ksize)
{
	const uint32_t sizes[] = { ver0, ksize, ksize + 8, ver0 - 1, 0, 1, 4096, 4097 };

	if (iocgen_chance(s, 85))
		return sizes[iocgen_below(s, sizeof(sizes) / sizeof(sizes[0]))];
	return (uint32_t)iocgen_rnd(s);
}

static uint32_t pick_count(uint64_t *s)
{
	const uint32_t counts[] = { 0, 1, 4, 5, 8, 16, 100, 0xffffffff };

	if (iocgen_chance(s, 85))
		return counts[iocgen_below(s, sizeof(counts) / sizeof(counts[0]))];
	return (uint32_t)iocgen_rnd(s);
}

/* A pointer for an entries field: mostly inside @area, else a bad one. */
static uint64_t pick_entries(uint64_t *s, unsigned char *area)
{
	switch (iocgen_below(s, 10)) {
	case 0:
		return 0;
	case 1:
		return KERNEL_ADDR + iocgen_below(s, 1 << 20) * IOCGEN_PAGE;
	case 2:
		return LOW_ADDR;
	case 3:
		return iocgen_env.ro_page;
	case 4:
		/* Runs off the end into the guard page after a few bytes. */
		return (uintptr_t)area + IOCGEN_ENTRY_AREA - 1 - iocgen_below(s, 600);
	case 5:
		return NONCANON_ADDR + (iocgen_rnd(s) & 0xffffff);
	default:
		return (uintptr_t)area + (uint64_t)iocgen_below(s, IOCGEN_ENTRY_AREA / 64) * 8;
	}
}

/* A bad pointer for the ioctl argument itself (as ioctl's unsigned long). */
unsigned long iocgen_bad_arg(uint64_t *s)
{
	switch (iocgen_below(s, 5)) {
	case 0:
		return 0;
	case 1:
		return KERNEL_ADDR + iocgen_below(s, 1 << 20) * IOCGEN_PAGE;
	case 2:
		return LOW_ADDR;
	case 3:
		return NONCANON_ADDR + (iocgen_rnd(s) & 0xfff0);
	default:
		return NONCANON_ADDR - IOCGEN_PAGE;
	}
}

static void fill_list(uint64_t *s, void *p, unsigned char *entries)
{
	struct pisteer_list_vectors *r = p;

	r->flags = pick_flags(s, PISTEER_LIST_F_ALL);
	r->pid = pick_pid(s);
	pick_pci(s, &r->pci_seg, &r->pci_bus, &r->pci_devfn);
	r->reserved = iocgen_chance(s, 90) ? 0 : (uint16_t)iocgen_rnd(s);
	r->entry_size = pick_entry_size(s, PISTEER_VECTOR_SIZE_VER0,
					sizeof(struct pisteer_vector));
	r->count = pick_count(s);
	r->reserved2 = iocgen_chance(s, 90) ? 0 : (uint32_t)iocgen_rnd(s);
	r->entries = pick_entries(s, entries);
}

static void fill_lat_read(uint64_t *s, void *p, unsigned char *entries)
{
	struct pisteer_lat_read *r = p;

	r->flags = pick_flags(s, PISTEER_LIST_F_ALL);
	r->pid = pick_pid(s);
	pick_pci(s, &r->pci_seg, &r->pci_bus, &r->pci_devfn);
	r->reserved = iocgen_chance(s, 90) ? 0 : (uint16_t)iocgen_rnd(s);
	r->entry_size = pick_entry_size(s, PISTEER_LAT_VECTOR_SIZE_VER0,
					sizeof(struct pisteer_lat_vector));
	r->count = pick_count(s);
	if (iocgen_chance(s, 10))
		r->state = (uint32_t)iocgen_rnd(s);
	if (iocgen_chance(s, 10))
		r->nr_vms = (uint32_t)iocgen_rnd(s);
	if (iocgen_chance(s, 10))
		r->dropped = (uint32_t)iocgen_rnd(s);
	r->reserved2 = iocgen_chance(s, 90) ? 0 : (uint32_t)iocgen_rnd(s);
	r->entries = pick_entries(s, entries);
}

static void fill_policy(uint64_t *s, void *p)
{
	struct pisteer_policy *r = p;
	unsigned int w;

	r->flags = pick_flags(s, 0);
	r->scope = iocgen_chance(s, 85) ? iocgen_below(s, 5) : (uint32_t)iocgen_rnd(s);
	r->policy = iocgen_chance(s, 85) ? iocgen_below(s, 7) : (uint32_t)iocgen_rnd(s);
	r->pid = pick_pid(s);
	pick_pci(s, &r->pci_seg, &r->pci_bus, &r->pci_devfn);
	r->reserved = iocgen_chance(s, 90) ? 0 : (uint16_t)iocgen_rnd(s);
	r->irq = pick_irq(s);
	r->cpu = pick_cpu(s);
	r->interval_us = iocgen_chance(s, 50) ? iocgen_below(s, 20000) :
			 iocgen_chance(s, 50) ? 10000001 : (uint32_t)iocgen_rnd(s);
	switch (iocgen_below(s, 5)) {
	case 0:
	case 1:
		break;
	case 2:
		r->cpus[0] = 1ULL << iocgen_below(s, iocgen_env.nr_cpus);
		break;
	case 3:
		r->cpus[0] = (1ULL << iocgen_env.nr_cpus) - 1;
		break;
	default:
		w = iocgen_below(s, PISTEER_AFFINITY_WORDS);
		r->cpus[w] = iocgen_rnd(s);
	}
}

static void fill_lat_ctl(uint64_t *s, void *p)
{
	struct pisteer_lat_ctl *r = p;

	r->flags = pick_flags(s, 0);
	r->op = iocgen_chance(s, 85) ? iocgen_below(s, 5) : (uint32_t)iocgen_rnd(s);
	r->scope = iocgen_chance(s, 85) ? iocgen_below(s, 3) : (uint32_t)iocgen_rnd(s);
	r->pid = iocgen_chance(s, 30) ? 0 : pick_pid(s);
	r->reserved = iocgen_chance(s, 90) ? 0 : (uint32_t)iocgen_rnd(s);
}

static void fill_version(uint64_t *s, void *p)
{
	struct pisteer_version *r = p;

	r->flags = iocgen_chance(s, 80) ? 0 : pick_flags(s, 0);
	if (iocgen_chance(s, 10))
		r->abi_major = (uint32_t)iocgen_rnd(s);
	if (iocgen_chance(s, 10))
		r->release[iocgen_below(s, sizeof(r->release))] = (char)iocgen_rnd(s);
}

/* The struct size to claim: 0, 1, short, exact, larger, above a page. */
uint32_t iocgen_size(uint64_t *s, const struct iocgen_cmd *c)
{
	switch (iocgen_below(s, 12)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 1 + iocgen_below(s, (unsigned int)c->ver0 - 1);
	case 3:
		return (uint32_t)c->ver0;
	case 4:
	case 5:
	case 6:
	case 7:
		return (uint32_t)c->ksize;
	case 8:
	case 9:
		return (uint32_t)c->ksize + 1 + iocgen_below(s, (unsigned int)(IOCGEN_PAGE - c->ksize));
	case 10:
		return (uint32_t)IOCGEN_PAGE + 1 + iocgen_below(s, 100000);
	default:
		return (uint32_t)iocgen_rnd(s);
	}
}

/* Clear what a request must have zero, keep its valid flags only. */
void iocgen_make_sane(unsigned int which, void *p)
{
	struct pisteer_list_vectors *l = p;
	struct pisteer_lat_read *r = p;
	struct pisteer_policy *pol = p;
	struct pisteer_lat_ctl *lc = p;
	struct pisteer_version *v = p;

	switch (which) {
	case IOCGEN_VERSION:
		v->flags = 0;
		break;
	case IOCGEN_LIST:
		l->flags &= PISTEER_LIST_F_ALL;
		l->reserved = 0;
		l->reserved2 = 0;
		break;
	case IOCGEN_POLICY:
		pol->flags = 0;
		pol->reserved = 0;
		break;
	case IOCGEN_LAT_CTL:
		lc->flags = 0;
		lc->reserved = 0;
		break;
	default:
		r->flags &= PISTEER_LIST_F_ALL;
		r->reserved = 0;
		r->reserved2 = 0;
		r->state = 0;
		r->nr_vms = 0;
		r->dropped = 0;
	}
}

/* A random number that is not one of pisteer's nor one the VFS takes. */
unsigned long iocgen_unknown_cmd(uint64_t *s)
{
	unsigned long cmd;
	unsigned int type, i;

	for (;;) {
		if (iocgen_chance(s, 30))
			/* pisteer's magic, wrong number, direction or size */
			cmd = _IOC(iocgen_below(s, 4), PISTEER_IOC_MAGIC, iocgen_below(s, 8),
				   iocgen_below(s, 1 << 14));
		else
			cmd = (uint32_t)iocgen_rnd(s);
		type = _IOC_TYPE(cmd);
		/* do_vfs_ioctl() answers these (FIONBIO, FIFREEZE, FICLONE ...). */
		if (type == 0x00 || type == 'T' || type == 'X' || type == 'f' ||
		    type == 0x94 || type == 0x15)
			continue;
		for (i = 0; i < IOCGEN_NR_CMDS && iocgen_cmds[i].nr != cmd; i++)
			;
		if (i == IOCGEN_NR_CMDS)
			return cmd;
	}
}

void iocgen_fill(uint64_t *s, unsigned int which, void *p, unsigned char *entries)
{
	switch (which) {
	case IOCGEN_VERSION:
		fill_version(s, p);
		break;
	case IOCGEN_LIST:
		fill_list(s, p, entries);
		break;
	case IOCGEN_POLICY:
		fill_policy(s, p);
		break;
	case IOCGEN_LAT_CTL:
		fill_lat_ctl(s, p);
		break;
	default:
		fill_lat_read(s, p, entries);
	}
}
