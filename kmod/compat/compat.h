/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pisteer: the one place for what differs between the supported kernels
 * (Debian's 6.1, 6.12 and 7.x).  Each mechanism that moved has a small
 * header of its own in this directory; everything else in kmod/ is written
 * as if there were one kernel and includes only this file.
 *
 * Version boundaries are the upstream releases that changed the interface;
 * they are verified on the pinned kernels (6.1, 6.12, 7.3) only.
 */
#ifndef PISTEER_COMPAT_H
#define PISTEER_COMPAT_H

#include <linux/version.h>

/*
 * The one comparison with the kernel version.  checkpatch's advice against
 * LINUX_VERSION_CODE is for code merged upstream; an out-of-tree module
 * needs it here, and check.sh lifts that one rule for compat/ only.
 */
#define PST_KERNEL_AT_LEAST(a, b)	\
	(KERNEL_VERSION(a, b, 0) <= LINUX_VERSION_CODE)

#include "irq.h"
#include "kvm_vcpu.h"
#include "posted.h"
#include "iommu.h"
#include "kvm_vm.h"

#endif /* PISTEER_COMPAT_H */
