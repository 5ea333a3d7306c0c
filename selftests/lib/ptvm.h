/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptvm: a minimal VMM for pisteer's tests.  It makes a KVM VM with an
 * in-kernel irqchip and 1..PTVM_MAX_VCPUS vCPUs (one host thread each)
 * running guest code that counts interrupt arrivals per vCPU and vector,
 * opens PCI devices through VFIO, and connects their MSI-X vectors to the
 * VM the way QEMU does: VFIO_DEVICE_SET_IRQS eventfds -> KVM_IRQFD -> a GSI
 * whose KVM_SET_GSI_ROUTING entry is an MSI to a chosen vCPU and vector.
 *
 * Functions return 0 (or a valid pointer) on success; on failure they
 * return a negative errno (or NULL with errno set) and leave a message for
 * ptvm_strerror().
 */
#ifndef PTVM_H
#define PTVM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptvm_layout.h"

/* MSI-X allows 2048 vectors a function; GSIs: those and a few more. */
#define PTVM_MAX_DEV_VECS	2048
#define PTVM_MAX_GSIS		(PTVM_MAX_DEV_VECS + 64)

struct ptvm;
struct ptvm_dev;

/* The last error message of this thread's ptvm/ptdev calls. */
const char *ptvm_strerror(void);

/* Record an error message (with strerror(@err) when @err): returns -@err. */
int ptvm_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- VMs ----------------------------------------------------------- */

enum ptvm_wait_mode {
	PTVM_WAIT_HALT = 0,	/* hlt between interrupts (blocked vCPU) */
	PTVM_WAIT_SPIN = 1,	/* pause loop (running vCPU) */
	PTVM_WAIT_CPUID = PTVM_MODE_CPUID,	/* CPUID loop: a VM exit each */
};

struct ptvm *ptvm_create(int nr_vcpus);
void ptvm_destroy(struct ptvm *vm);
/* Move the VM's file to another fd number (dup, close the old): -errno. */
int ptvm_move_vm_fd(struct ptvm *vm);

int ptvm_nr_vcpus(const struct ptvm *vm);
int ptvm_vm_fd(const struct ptvm *vm);
void *ptvm_mem(const struct ptvm *vm, size_t *size);
pid_t ptvm_vcpu_tid(const struct ptvm *vm, int vcpu);
/* The vCPU's KVM binary statistics file (KVM_GET_STATS_FD), or -1. */
int ptvm_vcpu_stats_fd(const struct ptvm *vm, int vcpu);
void ptvm_set_wait_mode(struct ptvm *vm, enum ptvm_wait_mode mode);

/* Arrivals of @vector on @vcpu since the VM started. */
uint32_t ptvm_count(const struct ptvm *vm, int vcpu, uint8_t vector);

/* Rounds of the spin loop @vcpu ran (PTVM_WAIT_SPIN): it runs guest code. */
uint32_t ptvm_spins(const struct ptvm *vm, int vcpu);

/* Arrivals of @vector on all vCPUs together. */
uint32_t ptvm_count_total(const struct ptvm *vm, uint8_t vector);

/* Wait until @vcpu has counted more than @base arrivals of @vector. */
int ptvm_wait_count(const struct ptvm *vm, int vcpu, uint8_t vector,
		    uint32_t base, unsigned int timeout_ms);

/*
 * Judge @got arrivals of one vector on one vCPU against the @sent messages
 * the host took for it.  A vCPU the route does not name must have none.
 * The routed vCPU must have every one; more is accepted only as the rare
 * duplicate the emulated stack delivers (at most 1 + @sent / 10), added to
 * *@dups so the caller reports it.  Anything else is a misdelivery.
 */
bool ptvm_arrivals_ok(long long got, long long sent, bool routed,
		      long long *dups);

/* A vCPU that hit a fatal guest exception or a KVM_RUN error: its message. */
const char *ptvm_vcpu_failure(const struct ptvm *vm, int vcpu);

/*
 * Route @gsi as a fixed, edge, physical-destination MSI to the local APIC
 * of @vcpu with @vector, and commit the whole routing table at once
 * (KVM_SET_GSI_ROUTING), as a VMM does when the guest reprograms an MSI.
 * @vcpu may also name an APIC ID with no vCPU, to test misrouting.
 */
int ptvm_route_msi(struct ptvm *vm, uint32_t gsi, int vcpu, uint8_t vector);
/* The same with @logical: the MSI's logical destination mode, @vcpu the
 * destination bit mask. */
int ptvm_route_msi_mode(struct ptvm *vm, uint32_t gsi, int vcpu, uint8_t vector,
			bool logical);

/*
 * With @hold, route changes are only recorded; turning it off commits the
 * whole table once.  A VMM setting up hundreds of vectors does so in one
 * KVM_SET_GSI_ROUTING, not in one per vector.
 */
int ptvm_route_hold(struct ptvm *vm, bool hold);

/* The APIC ID @gsi is routed to (the vCPU, as vCPU i has APIC ID i), or -1. */
int ptvm_route_target(struct ptvm *vm, uint32_t gsi);

/* KVM_IRQFD: make a signal of @efd inject @gsi (or stop doing so). */
int ptvm_irqfd(struct ptvm *vm, int efd, uint32_t gsi, bool assign);

/* --- VFIO devices -------------------------------------------------- */

enum ptdev_irq_mode {
	PTDEV_MSIX = 0,		/* every MSI-X vector */
	PTDEV_MSI = 1,		/* MSI, one vector */
};

/* PCI addresses of devices bound to vfio-pci with this vendor:device. */
int ptdev_find(uint16_t vendor, uint16_t device, char bdfs[][16], int max);

/*
 * Open @bdf through VFIO (its own type1v2 container), enable memory space
 * and bus mastering, enable all its MSI-X vectors (or its one MSI vector)
 * with an eventfd each, and register an eventfd on VFIO's request channel.
 */
struct ptvm_dev *ptdev_open(const char *bdf);
struct ptvm_dev *ptdev_open_mode(const char *bdf, enum ptdev_irq_mode mode);
/* MSI-X with the first @max vectors only (0: all the device has). */
struct ptvm_dev *ptdev_open_count(const char *bdf, int max);
void ptdev_close(struct ptvm_dev *dev);

const char *ptdev_bdf(const struct ptvm_dev *dev);
int ptdev_nr_vectors(const struct ptvm_dev *dev);
int ptdev_eventfd(const struct ptvm_dev *dev, int vec);

bool ptdev_is_msi(const struct ptvm_dev *dev);

/*
 * The eventfd VFIO signals when the kernel asks for the device back (PCI
 * removal, driver unbind): the VMM must then close it, as QEMU unplugs it.
 * -1 if the kernel has no request channel.
 */
int ptdev_req_fd(const struct ptvm_dev *dev);

/*
 * Disable MSI-X or MSI (VFIO frees the host IRQs; the eventfds stay) or
 * enable all vectors again with the same eventfds, as a guest driver
 * reload makes a VMM do.
 */
int ptdev_set_vectors(struct ptvm_dev *dev, bool enable);

/*
 * MSI-X only: keep vectors 0..@count-1 on their eventfds and take the
 * others off (eventfd -1), without disabling MSI-X: a resize.
 */
int ptdev_set_count(struct ptvm_dev *dev, int count);
/*
 * Turn the device's vectors off and at once on again in @mode (MSI: vector
 * 0 only, on vector 0's eventfd), as a guest driver that falls back from
 * MSI-X to MSI does.
 */
int ptdev_switch_mode(struct ptvm_dev *dev, enum ptdev_irq_mode mode);

/* Map @vm's memory for DMA at IOVA = GPA, as a VMM does. */
int ptdev_map_guest(struct ptvm_dev *dev, struct ptvm *vm);

/* 32-bit access to BAR0. */
uint32_t ptdev_read32(struct ptvm_dev *dev, uint32_t off);
void ptdev_write32(struct ptvm_dev *dev, uint32_t off, uint32_t val);

/*
 * Reset every vector's eventfd counter.  A signal left there (the device
 * fired while no irqfd listened) would be injected the moment an irqfd is
 * assigned, late enough to land in a later measurement: tests drain before
 * ptdev_attach().  Returns how many signals were pending.
 */
int ptdev_drain(struct ptvm_dev *dev);

/* Connect vector i of @dev to @gsi_base + i in @vm (KVM_IRQFD for each). */
int ptdev_attach(struct ptvm_dev *dev, struct ptvm *vm, uint32_t gsi_base);
int ptdev_detach(struct ptvm_dev *dev, struct ptvm *vm, uint32_t gsi_base);

/* --- the emulated Intel 82574L (QEMU e1000e) ----------------------- */

#define E1000E_VENDOR		0x8086
#define E1000E_DEVICE		0x10d3
#define E1000E_NR_VECTORS	5

/*
 * Map the five interrupt causes RXQ0, RXQ1, TXQ0, TXQ1, OTHER to MSI-X
 * vectors 0..4 with throttle interval @eitr_us, unmask them.  With MSI:
 * all five on the one message, throttled by ITR = @eitr_us.
 */
int e1000e_irq_setup(struct ptvm_dev *dev, unsigned int eitr_us);

/*
 * Raise the cause that maps to MSI-X vector @vec (ICS write); with MSI,
 * clear ICR first so that the cause makes a new message.
 */
void e1000e_irq_raise(struct ptvm_dev *dev, int vec);

/* Mask every cause again. */
void e1000e_irq_teardown(struct ptvm_dev *dev);

/*
 * A test's usual assignment of an 82574L to @vm, in QEMU's order: open
 * @bdf, map the guest memory for DMA, set the interrupt causes up with
 * @eitr_us, drain stale eventfd signals (their number in *@drained unless
 * NULL), attach vector i to @gsi_base + i, and let a stray injection from
 * the assignment pass before the caller routes the GSIs.  NULL on failure,
 * with ptvm_strerror() saying why.
 */
struct ptvm_dev *e1000e_assign(struct ptvm *vm, const char *bdf,
			       uint32_t gsi_base, unsigned int eitr_us,
			       int *drained);
/* The same with MSI (one vector, every cause on it) when @mode says so. */
struct ptvm_dev *e1000e_assign_mode(struct ptvm *vm, const char *bdf,
				    enum ptdev_irq_mode mode, uint32_t gsi_base,
				    unsigned int eitr_us, int *drained);

/*
 * Raise device vector @vec, which @vm receives as guest @vector, and wait
 * until some vCPU has taken one more of it.  Stores the round trip (ICS
 * write to the guest handler's count) in *@rtt_ns.  0, or -ETIMEDOUT.
 */
int e1000e_raise_wait(struct ptvm_dev *dev, struct ptvm *vm, int vec,
		      uint8_t vector, unsigned int timeout_ms, uint64_t *rtt_ns);

/* --- helpers --------------------------------------------------------- */

uint64_t ptvm_now_ns(void);
void ptvm_sleep_us(unsigned int us);

#endif
