// SPDX-License-Identifier: GPL-2.0
/*
 * Host features: which of the kernel's mechanisms pisteer found it can use
 * on this kernel, and for each one it cannot, why (an errno).  The parts
 * that register probes or read KVM's state say so here; the version ioctl
 * copies the table out, so `pisteer version` can say what this kernel gives
 * without anyone reading the kernel log.
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/pisteer.h>
#include <linux/utsname.h>

#include "pisteer.h"

static atomic_t host_err[PISTEER_HOST_NR] = {
	[0 ... PISTEER_HOST_NR - 1] = ATOMIC_INIT(-ENODATA),
};

/**
 * pst_host_feature() - record whether a mechanism is in use
 * @feat: PISTEER_HOST_*
 * @err: 0 in use, else the negative errno that says why not
 */
void pst_host_feature(unsigned int feat, int err)
{
	if (feat < PISTEER_HOST_NR)
		atomic_set(&host_err[feat], err);
}

/**
 * pst_host_fill() - the host_* and kernel fields of the version ioctl
 * @ver: filled in
 */
void pst_host_fill(struct pisteer_version *ver)
{
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(ver->host_err) < PISTEER_HOST_NR);
	for (i = 0; i < PISTEER_HOST_NR; i++) {
		ver->host_err[i] = atomic_read(&host_err[i]);
		if (!ver->host_err[i])
			ver->host_active |= BIT_ULL(i);
	}
	strscpy(ver->kernel, init_utsname()->release, sizeof(ver->kernel));
	ver->probes_missed = pisteer_events_missed();
}
