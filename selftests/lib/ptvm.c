// SPDX-License-Identifier: GPL-2.0
/*
 * ptvm: the KVM half of the test VMM (see ptvm.h).
 *
 * Life cycle of a VM: create (memory, guest code, GDT/IDT, irqchip, vCPUs,
 * one thread each in KVM_RUN) -> route/irqfd at will -> destroy (stop and
 * join the threads, close everything).  The routing table is owned by the
 * VM and always committed whole, under vm->lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ptvm.h"

extern const char ptvm_guest_start[], ptvm_guest_entry[];
extern const char ptvm_guest_stubs[], ptvm_guest_end[];

#define KICK_SIGNAL	SIGUSR1

struct ptvm_vcpu {
	struct ptvm *vm;
	int id;
	int fd;
	int stats_fd;		/* KVM_GET_STATS_FD, taken before KVM_RUN */
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	volatile pid_t tid;
	char failure[128];
};

struct ptvm {
	int kvm_fd;
	int vm_fd;
	int nr_vcpus;
	size_t run_size;
	uint8_t *mem;
	volatile bool stop;
	struct ptvm_vcpu vcpus[PTVM_MAX_VCPUS];
	pthread_mutex_t lock;
	struct kvm_irq_routing_entry routes[PTVM_MAX_GSIS];
	int nr_routes;
	bool hold_routes;	/* ptvm_route_hold(): record, commit later */
};

static __thread char err_buf[256];

const char *ptvm_strerror(void)
{
	return err_buf[0] ? err_buf : "no error";
}

int ptvm_fail(int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	n = strlen(err_buf);
	if (err)
		snprintf(err_buf + n, sizeof(err_buf) - n, ": %s", strerror(err));
	errno = err ? err : EINVAL;
	return -errno;
}

uint64_t ptvm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void ptvm_sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static volatile uint32_t *guest_u32(const struct ptvm *vm, uint32_t gpa)
{
	return (volatile uint32_t *)(vm->mem + gpa);
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct ptvm_vcpu *v = arg;
	struct kvm_run *run = v->run;

	v->tid = (pid_t)syscall(SYS_gettid);
	while (!v->vm->stop) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(v->failure, sizeof(v->failure),
				 "KVM_RUN: %s", strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == PTVM_FATAL_PORT) {
			snprintf(v->failure, sizeof(v->failure),
				 "guest exception %u on vCPU %d",
				 *guest_u32(v->vm, PTVM_MBOX_GPA + PTVM_MBOX_FATAL +
					    4 * v->id) & 0xff, v->id);
			break;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		snprintf(v->failure, sizeof(v->failure),
			 "unexpected KVM exit %u on vCPU %d",
			 run->exit_reason, v->id);
		break;
	}
	return NULL;
}

static void write_gdt(struct ptvm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + PTVM_GDT_GPA);

	gdt[0] = 0;
	gdt[PTVM_SEL_CODE / 8] = 0x00cf9b000000ffffull;	/* 4 GiB code, accessed */
	gdt[PTVM_SEL_DATA / 8] = 0x00cf93000000ffffull;	/* 4 GiB data, accessed */
}

static void write_idt(struct ptvm *vm)
{
	uint32_t stubs = PTVM_CODE_GPA + (uint32_t)(ptvm_guest_stubs - ptvm_guest_start);
	uint32_t *idt = (uint32_t *)(vm->mem + PTVM_IDT_GPA);
	size_t v;

	for (v = 0; v < 256; v++) {
		uint32_t h = stubs + (uint32_t)v * PTVM_STUB_SIZE;

		idt[2 * v] = (PTVM_SEL_CODE << 16) | (h & 0xffff);
		idt[2 * v + 1] = (h & 0xffff0000) | 0x8e00;	/* present 32-bit int gate */
	}
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

static int vcpu_init(struct ptvm *vm, int id)
{
	struct ptvm_vcpu *v = &vm->vcpus[id];
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return ptvm_fail(errno, "KVM_CREATE_VCPU %d", id);
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return ptvm_fail(errno, "mmap kvm_run of vCPU %d", id);
	}

	/* Start from KVM's sregs: a zeroed apic_base would disable the LAPIC. */
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return ptvm_fail(errno, "KVM_GET_SREGS");
	flat_segment(&sregs.cs, PTVM_SEL_CODE, 0xb);
	flat_segment(&sregs.ds, PTVM_SEL_DATA, 0x3);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.gdt.base = PTVM_GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = PTVM_IDT_GPA;
	sregs.idt.limit = 256 * 8 - 1;
	sregs.cr0 = 0x11;		/* PE | ET, caches on, no paging */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return ptvm_fail(errno, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = PTVM_CODE_GPA + (ptvm_guest_entry - ptvm_guest_start);
	regs.rsp = PTVM_STACK_GPA + (id + 1) * 0x1000;
	regs.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return ptvm_fail(errno, "KVM_SET_REGS");

	/* APs would wait for INIT/SIPI: nobody sends them here. */
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return ptvm_fail(errno, "KVM_SET_MP_STATE");
	/*
	 * vCPU ioctls wait for the vCPU mutex, which KVM_RUN holds: get the
	 * statistics file now.  Reading it later takes no lock.
	 */
	v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
	return 0;
}

static int wait_ready(struct ptvm *vm)
{
	uint64_t deadline = ptvm_now_ns() + 20ull * 1000000000ull;
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		while (!*guest_u32(vm, PTVM_MBOX_GPA + PTVM_MBOX_READY + 4 * i)) {
			if (vm->vcpus[i].failure[0])
				return ptvm_fail(0, "vCPU %d: %s", i,
						 vm->vcpus[i].failure);
			if (ptvm_now_ns() > deadline)
				return ptvm_fail(ETIMEDOUT, "vCPU %d never ran", i);
			ptvm_sleep_us(1000);
		}
	}
	return 0;
}

struct ptvm *ptvm_create(int nr_vcpus)
{
	struct kvm_userspace_memory_region region;
	struct sigaction sa;
	struct ptvm *vm;
	int i, ret;

	if (nr_vcpus < 1 || nr_vcpus > PTVM_MAX_VCPUS) {
		ptvm_fail(EINVAL, "%d vCPUs asked, 1..%d possible", nr_vcpus,
			  PTVM_MAX_VCPUS);
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		ptvm_fail(ENOMEM, "ptvm_create");
		return NULL;
	}
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	for (i = 0; i < PTVM_MAX_VCPUS; i++) {
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].stats_fd = -1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(KICK_SIGNAL, &sa, NULL);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = ptvm_fail(errno, "open /dev/kvm");
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		ret = ptvm_fail(EINVAL, "KVM API version is not %d", KVM_API_VERSION);
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0) {
		ret = ptvm_fail(EOPNOTSUPP, "KVM lacks irqfd or IRQ routing");
		goto fail;
	}
	vm->run_size = (size_t)ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = ptvm_fail(errno, "KVM_CREATE_VM");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
		ret = ptvm_fail(errno, "KVM_SET_TSS_ADDR");
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = ptvm_fail(errno, "KVM_CREATE_IRQCHIP");
		goto fail;
	}

	vm->mem = mmap(NULL, PTVM_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		ret = ptvm_fail(errno, "mmap guest memory");
		goto fail;
	}
	memcpy(vm->mem + PTVM_CODE_GPA, ptvm_guest_start,
	       ptvm_guest_end - ptvm_guest_start);
	write_gdt(vm);
	write_idt(vm);
	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = PTVM_MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		ret = ptvm_fail(errno, "KVM_SET_USER_MEMORY_REGION");
		goto fail;
	}

	vm->nr_vcpus = nr_vcpus;
	for (i = 0; i < nr_vcpus; i++) {
		ret = vcpu_init(vm, i);
		if (ret)
			goto fail;
	}
	for (i = 0; i < nr_vcpus; i++) {
		ret = -pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread,
				      &vm->vcpus[i]);
		if (ret) {
			ptvm_fail(-ret, "pthread_create");
			goto fail;
		}
		vm->vcpus[i].started = true;
	}
	ret = wait_ready(vm);
	if (ret)
		goto fail;
	return vm;

fail:
	ptvm_destroy(vm);
	errno = -ret;
	return NULL;
}

int ptvm_move_vm_fd(struct ptvm *vm)
{
	int fd;

	pthread_mutex_lock(&vm->lock);
	fd = fcntl(vm->vm_fd, F_DUPFD_CLOEXEC, vm->vm_fd + 100);
	if (fd >= 0) {
		close(vm->vm_fd);
		vm->vm_fd = fd;
	}
	pthread_mutex_unlock(&vm->lock);
	return fd < 0 ? -errno : 0;
}

void ptvm_destroy(struct ptvm *vm)
{
	int i, saved = errno;

	if (!vm)
		return;
	vm->stop = true;
	for (i = 0; i < PTVM_MAX_VCPUS; i++) {
		struct ptvm_vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		while (pthread_tryjoin_np(v->thread, NULL) == EBUSY) {
			pthread_kill(v->thread, KICK_SIGNAL);
			ptvm_sleep_us(1000);
		}
	}
	for (i = 0; i < PTVM_MAX_VCPUS; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
		if (vm->vcpus[i].stats_fd >= 0)
			close(vm->vcpus[i].stats_fd);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->mem)
		munmap(vm->mem, PTVM_MEM_SIZE);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
	errno = saved;
}

int ptvm_nr_vcpus(const struct ptvm *vm)
{
	return vm->nr_vcpus;
}

int ptvm_vm_fd(const struct ptvm *vm)
{
	return vm->vm_fd;
}

int ptvm_vcpu_stats_fd(const struct ptvm *vm, int vcpu)
{
	if (vcpu < 0 || vcpu >= vm->nr_vcpus)
		return -1;
	return vm->vcpus[vcpu].stats_fd;
}

pid_t ptvm_vcpu_tid(const struct ptvm *vm, int vcpu)
{
	if (vcpu < 0 || vcpu >= vm->nr_vcpus)
		return -1;
	return vm->vcpus[vcpu].tid;
}

void *ptvm_mem(const struct ptvm *vm, size_t *size)
{
	*size = PTVM_MEM_SIZE;
	return vm->mem;
}

void ptvm_set_wait_mode(struct ptvm *vm, enum ptvm_wait_mode mode)
{
	int i;

	*guest_u32(vm, PTVM_MBOX_GPA + PTVM_MBOX_MODE) = mode;
	/* A halted vCPU rechecks the mode after its next interrupt: kick it. */
	for (i = 0; i < vm->nr_vcpus; i++)
		pthread_kill(vm->vcpus[i].thread, KICK_SIGNAL);
}

uint32_t ptvm_count(const struct ptvm *vm, int vcpu, uint8_t vector)
{
	if (vcpu < 0 || vcpu >= PTVM_MAX_VCPUS)
		return 0;
	return __atomic_load_n(guest_u32(vm, PTVM_COUNTS_GPA +
					 4 * (vcpu * 256 + vector)),
			       __ATOMIC_ACQUIRE);
}

uint32_t ptvm_spins(const struct ptvm *vm, int vcpu)
{
	if (vcpu < 0 || vcpu >= PTVM_MAX_VCPUS)
		return 0;
	return __atomic_load_n(guest_u32(vm, PTVM_MBOX_GPA + PTVM_MBOX_SPINS + 4 * vcpu),
			       __ATOMIC_RELAXED);
}

uint32_t ptvm_count_total(const struct ptvm *vm, uint8_t vector)
{
	uint32_t sum = 0;
	int c;

	for (c = 0; c < vm->nr_vcpus; c++)
		sum += ptvm_count(vm, c, vector);
	return sum;
}

int ptvm_wait_count(const struct ptvm *vm, int vcpu, uint8_t vector,
		    uint32_t base, unsigned int timeout_ms)
{
	uint64_t deadline = ptvm_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (ptvm_count(vm, vcpu, vector) == base) {
		if (ptvm_now_ns() > deadline)
			return ptvm_fail(ETIMEDOUT,
					 "vector %#x did not reach vCPU %d in %u ms",
					 vector, vcpu, timeout_ms);
		if (vm->vcpus[vcpu].failure[0])
			return ptvm_fail(0, "%s", vm->vcpus[vcpu].failure);
		__builtin_ia32_pause();
	}
	return 0;
}

bool ptvm_arrivals_ok(long long got, long long sent, bool routed,
		      long long *dups)
{
	if (!routed)
		return got == 0;
	if (got < sent || got > sent + 1 + sent / 10)
		return false;
	*dups += got - sent;
	return true;
}

const char *ptvm_vcpu_failure(const struct ptvm *vm, int vcpu)
{
	if (vcpu < 0 || vcpu >= vm->nr_vcpus || !vm->vcpus[vcpu].failure[0])
		return NULL;
	return vm->vcpus[vcpu].failure;
}

static int commit_routes(struct ptvm *vm)
{
	struct kvm_irq_routing *table;
	size_t sz = sizeof(*table) + vm->nr_routes * sizeof(table->entries[0]);
	int ret = 0;

	table = calloc(1, sz);
	if (!table)
		return ptvm_fail(ENOMEM, "routing table");
	table->nr = vm->nr_routes;
	memcpy(table->entries, vm->routes,
	       vm->nr_routes * sizeof(table->entries[0]));
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		ret = ptvm_fail(errno, "KVM_SET_GSI_ROUTING");
	free(table);
	return ret;
}

int ptvm_route_msi(struct ptvm *vm, uint32_t gsi, int vcpu, uint8_t vector)
{
	return ptvm_route_msi_mode(vm, gsi, vcpu, vector, false);
}

int ptvm_route_msi_mode(struct ptvm *vm, uint32_t gsi, int vcpu, uint8_t vector,
			bool logical)
{
	struct kvm_irq_routing_entry *e = NULL;
	int i, ret;

	if (vcpu < 0 || vcpu > 0xff || vector < 16)
		return ptvm_fail(EINVAL, "bad MSI route: APIC ID %d vector %u",
				 vcpu, vector);
	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nr_routes; i++)
		if (vm->routes[i].gsi == gsi)
			e = &vm->routes[i];
	if (!e) {
		if (vm->nr_routes == PTVM_MAX_GSIS) {
			pthread_mutex_unlock(&vm->lock);
			return ptvm_fail(ENOSPC, "routing table full");
		}
		e = &vm->routes[vm->nr_routes++];
	}
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	/* Physical (or logical: bit 2) destination mode, fixed delivery, edge. */
	e->u.msi.address_lo = PTVM_LAPIC_BASE | ((uint32_t)vcpu << 12) |
			      (logical ? 1U << 2 : 0);
	e->u.msi.address_hi = 0;
	e->u.msi.data = vector;
	ret = vm->hold_routes ? 0 : commit_routes(vm);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int ptvm_route_hold(struct ptvm *vm, bool hold)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->hold_routes && !hold)
		ret = commit_routes(vm);
	vm->hold_routes = hold;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int ptvm_route_target(struct ptvm *vm, uint32_t gsi)
{
	int i, ret = -1;

	pthread_mutex_lock(&vm->lock);
	for (i = 0; i < vm->nr_routes; i++)
		if (vm->routes[i].gsi == gsi)
			ret = (int)((vm->routes[i].u.msi.address_lo >> 12) & 0xff);
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int ptvm_irqfd(struct ptvm *vm, int efd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)efd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return ptvm_fail(errno, "KVM_IRQFD %s fd %d gsi %u",
				 assign ? "assign" : "deassign", efd, gsi);
	return 0;
}
