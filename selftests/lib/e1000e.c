// SPDX-License-Identifier: GPL-2.0
/*
 * Raising MSI-X and MSI interrupts on demand from QEMU's emulated Intel
 * 82574L.
 *
 * Facts measured on QEMU 7.2 in the rig: without CTRL_EXT.IAME
 * the EIAC auto-clear also clears IMS and only the first ICS write fires;
 * QEMU clamps EITR to at least 128 us, and once it postponed a message it
 * may send duplicates at each throttle expiry.  Callers therefore space
 * their triggers well beyond @eitr_us and count what arrives.
 */
#include <errno.h>
#include <stddef.h>

#include "ptvm.h"

#define E1000_CTRL_EXT		0x0018
#define E1000_ICR		0x00c0
#define E1000_ITR		0x00c4
#define E1000_ICS		0x00c8
#define E1000_IMS		0x00d0
#define E1000_IMC		0x00d8
#define E1000_EIAC		0x00dc
#define E1000_IVAR		0x00e4
#define E1000_EITR(n)		(0x00e8 + 4 * (n))

#define E1000_CTRL_EXT_IAME	(1u << 27)
#define E1000_CAUSE_SHIFT	20		/* RXQ0 RXQ1 TXQ0 TXQ1 OTHER */
#define E1000_CAUSES		(0x1fu << E1000_CAUSE_SHIFT)
/* Causes 0..4 -> MSI-X vectors 0..4, each 4-bit field with valid bit 0x8. */
#define E1000_IVAR_1TO1		0x000cba98u
#define E1000_EITR_UNIT_NS	256

/*
 * MSI: every cause shares the one message, throttled by ITR.  A cause
 * stays set in ICR until ICR is read, and the next message needs it
 * cleared: e1000e_irq_raise() reads ICR first.
 */
static int msi_setup(struct ptvm_dev *dev, uint32_t itr)
{
	ptdev_write32(dev, E1000_IMC, ~0u);
	(void)ptdev_read32(dev, E1000_ICR);
	ptdev_write32(dev, E1000_ITR, itr);
	ptdev_write32(dev, E1000_IMS, E1000_CAUSES);
	if (ptdev_read32(dev, E1000_ITR) != itr)
		return ptvm_fail(EIO, "%s: ITR did not stick: is this an 82574L?",
				 ptdev_bdf(dev));
	return 0;
}

int e1000e_irq_setup(struct ptvm_dev *dev, unsigned int eitr_us)
{
	uint32_t eitr = (uint32_t)(eitr_us * 1000ull / E1000_EITR_UNIT_NS);
	int i;

	if (ptdev_is_msi(dev))
		return msi_setup(dev, eitr);

	if (ptdev_nr_vectors(dev) < E1000E_NR_VECTORS)
		return ptvm_fail(ENODEV, "%s: %d MSI-X vectors, the 82574L has %d",
				 ptdev_bdf(dev), ptdev_nr_vectors(dev),
				 E1000E_NR_VECTORS);
	ptdev_write32(dev, E1000_IMC, ~0u);
	(void)ptdev_read32(dev, E1000_ICR);
	ptdev_write32(dev, E1000_CTRL_EXT,
		      ptdev_read32(dev, E1000_CTRL_EXT) | E1000_CTRL_EXT_IAME);
	ptdev_write32(dev, E1000_IVAR, E1000_IVAR_1TO1);
	for (i = 0; i < E1000E_NR_VECTORS; i++)
		ptdev_write32(dev, E1000_EITR(i), eitr);
	ptdev_write32(dev, E1000_EIAC, E1000_CAUSES);
	ptdev_write32(dev, E1000_IMS, E1000_CAUSES);
	if (ptdev_read32(dev, E1000_IVAR) != E1000_IVAR_1TO1)
		return ptvm_fail(EIO, "%s: IVAR did not stick: is this an 82574L?",
				 ptdev_bdf(dev));
	return 0;
}

void e1000e_irq_raise(struct ptvm_dev *dev, int vec)
{
	if (ptdev_is_msi(dev))
		(void)ptdev_read32(dev, E1000_ICR);
	ptdev_write32(dev, E1000_ICS, 1u << (E1000_CAUSE_SHIFT + vec));
}

int e1000e_raise_wait(struct ptvm_dev *dev, struct ptvm *vm, int vec,
		      uint8_t vector, unsigned int timeout_ms, uint64_t *rtt_ns)
{
	uint32_t base = ptvm_count_total(vm, vector);
	uint64_t t0 = ptvm_now_ns();
	uint64_t deadline = t0 + (uint64_t)timeout_ms * 1000000ull;

	e1000e_irq_raise(dev, vec);
	while (ptvm_count_total(vm, vector) == base) {
		if (ptvm_now_ns() > deadline)
			return ptvm_fail(ETIMEDOUT,
					 "%s vector %d: no arrival within %u ms",
					 ptdev_bdf(dev), vec, timeout_ms);
		__builtin_ia32_pause();
	}
	*rtt_ns = ptvm_now_ns() - t0;
	return 0;
}

struct ptvm_dev *e1000e_assign(struct ptvm *vm, const char *bdf,
			       uint32_t gsi_base, unsigned int eitr_us,
			       int *drained)
{
	return e1000e_assign_mode(vm, bdf, PTDEV_MSIX, gsi_base, eitr_us,
				  drained);
}

struct ptvm_dev *e1000e_assign_mode(struct ptvm *vm, const char *bdf,
				    enum ptdev_irq_mode mode, uint32_t gsi_base,
				    unsigned int eitr_us, int *drained)
{
	struct ptvm_dev *dev = ptdev_open_mode(bdf, mode);
	int n;

	if (!dev)
		return NULL;
	if (ptdev_map_guest(dev, vm) || e1000e_irq_setup(dev, eitr_us))
		goto fail;
	n = ptdev_drain(dev);
	if (drained)
		*drained = n;
	if (ptdev_attach(dev, vm, gsi_base))
		goto fail;
	/*
	 * A message the device sent between the drain and KVM_IRQFD is
	 * injected by a work item KVM schedules at assign time, which under
	 * TCG can run much later.  Let it land now, while the GSIs have no
	 * route and it goes nowhere, not in the caller's first measurement.
	 */
	ptvm_sleep_us(200000);
	return dev;
fail:
	ptdev_close(dev);
	return NULL;
}

void e1000e_irq_teardown(struct ptvm_dev *dev)
{
	ptdev_write32(dev, E1000_IMC, ~0u);
	(void)ptdev_read32(dev, E1000_ICR);
}
