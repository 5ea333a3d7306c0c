// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_fuzz: /dev/pisteer under random ioctls while VMs come and go.
 *
 * usage: ioctl_fuzz [-t SECONDS] [-s SEED] [-j THREADS] [-d BDF] [-S]
 *
 * THREADS threads (default 4) call the device for SECONDS (default 20)
 * with random ioctl numbers (any type but those the VFS handles itself,
 * and pisteer's magic with the wrong direction, size or number), pisteer's
 * commands with random struct sizes (0, 1, short, exact, larger with a
 * zero or non-zero tail, above a page), random flags, filters, scopes,
 * policies, CPUs, operations, entry sizes and counts, and bad pointers
 * (NULL, a kernel address, an unmapped page, a non-canonical address, a
 * read-only page for the entries, a struct running off its page into a
 * PROT_NONE one).  Meanwhile one thread starts and stops VMs with an
 * 82574L assigned and routed, so that vectors appear and vanish under the
 * callers.  Every answer is checked against the documented errors of its
 * command (unknown numbers: ENOTTY), the size rules against the exact
 * errno, and the caller's memory around the struct must be untouched.
 *
 * Afterwards: the module still answers (version; one more VM's vectors
 * listed, then none), nothing the fuzzers set is left (every policy they
 * set removed, sampling off), no record and every allocation count as
 * before, no WARNING, BUG or Oops in the kernel log since the start, and
 * without CAP_SYS_ADMIN every ioctl gets EPERM.  The seed is printed: the
 * same seed replays the same draws per thread (host IRQ numbers and the
 * interleaving with the VMs can differ).
 * Needs pisteer.ko loaded, no policy set and latency sampling off.
 * -S: other processes hold VMs meanwhile (make soak's module reloads
 * under load): "none" and "no record" are then this process's vectors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/pisteer.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/iocgen.h"
#include "../lib/ktap.h"
#include "../lib/modstate.h"
#include "../lib/privs.h"
#include "../lib/ptvm.h"

#define NR_VCPUS	2
#define NR_VEC		E1000E_NR_VECTORS
#define GSI_BASE	32
#define GUEST_VEC(i)	(0x40 + (i))
#define EITR_US		2000
#define MAX_THREADS	16
#define MAX_POLICIES	4096
#define MAX_BAD		16
#define PAGE		IOCGEN_PAGE
#define STRUCT_AREA	(2 * PAGE)	/* then a PROT_NONE page */
#define FILL		0xa5

static int fd;
static const char *bdf;
static pid_t self;
static bool shared;	/* -S: other VMs exist; only ours are checked */
static volatile int stop;
static unsigned char *ro_page;	/* mapped read-only */

/* Results, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long calls[IOCGEN_NR_CMDS + 1], successes[IOCGEN_NR_CMDS + 1];
static unsigned long bad_calls;
static int nr_bad;
static char bad[MAX_BAD][200];
static struct pisteer_policy set_policies[MAX_POLICIES];
static int nr_set_policies;
static bool policies_overflow;
static unsigned int vm_cycles;
static bool vm_failed;
static char vm_error[200];
static unsigned int host_irqs[NR_VEC];	/* of the current VM, or 0 */

static void __attribute__((format(printf, 1, 2))) unexpected(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	bad_calls++;
	if (nr_bad < MAX_BAD) {
		va_start(ap, fmt);
		vsnprintf(bad[nr_bad++], sizeof(bad[0]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&lock);
}

/* For iocgen: a host IRQ of the live VM, 0 when there is none. */
static unsigned int live_irq(uint64_t *s)
{
	unsigned int irq;

	pthread_mutex_lock(&lock);
	irq = host_irqs[iocgen_below(s, NR_VEC)];
	pthread_mutex_unlock(&lock);
	return irq;
}

/* --- one call ----------------------------------------------------------- */

struct fuzzer {
	pthread_t thread;
	int id;
	uint64_t seed;
	unsigned char *area;		/* STRUCT_AREA bytes, then PROT_NONE */
	unsigned char *entries;		/* IOCGEN_ENTRY_AREA bytes, then PROT_NONE */
};

static bool documented(const struct iocgen_cmd *c, int err)
{
	int i;

	if (!err)
		return true;
	for (i = 0; c->errs[i]; i++)
		if (c->errs[i] == err)
			return true;
	return false;
}

static void count(unsigned int which, bool ok)
{
	pthread_mutex_lock(&lock);
	calls[which]++;
	if (ok)
		successes[which]++;
	pthread_mutex_unlock(&lock);
}

/* The module keeps one policy per scope (see pisteer_policy). */
static bool same_scope(const struct pisteer_policy *a, const struct pisteer_policy *b)
{
	if (a->scope != b->scope)
		return false;
	if (a->scope == PISTEER_SCOPE_VM)
		return a->pid == b->pid;
	if (a->scope == PISTEER_SCOPE_DEVICE)
		return a->pci_seg == b->pci_seg && a->pci_bus == b->pci_bus &&
		       a->pci_devfn == b->pci_devfn;
	return a->irq == b->irq;
}

static void remember_policy(const struct pisteer_policy *p)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nr_set_policies; i++)
		if (same_scope(&set_policies[i], p))
			break;
	if (i == nr_set_policies) {
		if (nr_set_policies < MAX_POLICIES)
			set_policies[nr_set_policies++] = *p;
		else
			policies_overflow = true;
	}
	pthread_mutex_unlock(&lock);
}

static void fuzz_unknown(struct fuzzer *f)
{
	unsigned long cmd = iocgen_unknown_cmd(&f->seed);
	unsigned long arg = iocgen_chance(&f->seed, 50) ? (uintptr_t)f->area : iocgen_bad_arg(&f->seed);
	int err = ioctl(fd, cmd, arg) < 0 ? errno : 0;

	count(IOCGEN_NR_CMDS, false);
	if (err != ENOTTY)
		unexpected("unknown ioctl %#lx: %s, expected ENOTTY", cmd,
			   err ? strerror(err) : "success");
}

/* A real command with a bad argument pointer: EFAULT and nothing else. */
static void fuzz_bad_arg(struct fuzzer *f)
{
	const struct iocgen_cmd *c = &iocgen_cmds[iocgen_below(&f->seed, IOCGEN_NR_CMDS)];
	unsigned char *p;
	unsigned long arg;
	int err;

	if (iocgen_chance(&f->seed, 40)) {
		/* The struct's size field on the page, the rest beyond it. */
		p = f->area + STRUCT_AREA - 4 - 4 * (size_t)iocgen_below(&f->seed, 4);
		memset(f->area, 0, STRUCT_AREA);
		*(uint32_t *)p = (uint32_t)c->ksize;
		arg = (uintptr_t)p;
	} else if (c->nr == PISTEER_IOC_VERSION && iocgen_chance(&f->seed, 30)) {
		/* A valid request on a read-only page: the answer cannot go back. */
		arg = (uintptr_t)ro_page;
	} else {
		arg = iocgen_bad_arg(&f->seed);
	}
	err = ioctl(fd, c->nr, arg) < 0 ? errno : 0;
	count((unsigned int)(c - iocgen_cmds), false);
	if (err != EFAULT)
		unexpected("%s with argument %#lx: %s, expected EFAULT", c->name, arg,
			   err ? strerror(err) : "success");
}

/*
 * The area holds FILL but for @len bytes of @b at @off, of which the module
 * may have written the first @written: is everything else as it was?
 */
static bool area_kept(const struct fuzzer *f, size_t off, const unsigned char *b,
		      size_t len, size_t written)
{
	size_t i;

	for (i = 0; i < STRUCT_AREA; i++) {
		if (i >= off && i < off + written)
			continue;
		if (f->area[i] != (i >= off && i < off + len ? b[i - off] : FILL))
			return false;
	}
	return true;
}

static void fuzz_command(struct fuzzer *f)
{
	static unsigned char buf[MAX_THREADS][PAGE + 64];
	uint64_t *s = &f->seed;
	unsigned int which = iocgen_below(s, 10);
	const struct iocgen_cmd *c;
	unsigned char *b = buf[f->id];
	uint32_t usize, copy;
	size_t off;
	int err, want = -1;
	bool tail = false;

	/* Listing more often than the rest: it scans. */
	which = which < 1 ? IOCGEN_VERSION : which < 4 ? IOCGEN_LIST : which < 6 ? IOCGEN_POLICY :
		which < 8 ? IOCGEN_LAT_CTL : IOCGEN_LAT_READ;
	c = &iocgen_cmds[which];
	memset(b, 0, PAGE + 64);
	iocgen_fill(s, which, b, f->entries);
	/* Half the calls pass the size and reserved checks, to reach deeper. */
	if (iocgen_chance(s, 50)) {
		iocgen_make_sane(which, b);
		usize = iocgen_chance(s, 80) ? (uint32_t)c->ksize : (uint32_t)c->ver0;
	} else {
		usize = iocgen_size(s, c);
	}
	if (usize > c->ksize && usize <= PAGE && iocgen_chance(s, 50)) {
		b[c->ksize + iocgen_below(s, usize - (uint32_t)c->ksize)] = (unsigned char)(1 + iocgen_below(s, 255));
		tail = true;
	}
	*(uint32_t *)b = usize;

	/* Into the area at a random 8-byte offset, what fits of it. */
	memset(f->area, FILL, STRUCT_AREA);
	copy = usize < PAGE ? usize : (uint32_t)PAGE;
	if (copy < 4)
		copy = 4;
	off = (size_t)iocgen_below(s, (unsigned int)(STRUCT_AREA - PAGE) / 8) * 8;
	memcpy(f->area + off, b, copy);

	if (usize < c->ver0)
		want = EINVAL;
	else if (usize > PAGE || tail)
		want = E2BIG;

	err = ioctl(fd, c->nr, f->area + off) < 0 ? errno : 0;
	count(which, !err);
	if (want >= 0 && err != want)
		unexpected("%s size %u%s: %s, expected %s", c->name, usize,
			   tail ? " (non-zero tail)" : "", err ? strerror(err) : "success",
			   strerror(want));
	else if (!documented(c, err))
		unexpected("%s size %u: %s, not a documented error", c->name, usize,
			   strerror(err));
	/* Written back: at most min(size, the module's struct); read: nothing. */
	if (!area_kept(f, off, b, copy, usize < c->ksize ? usize : c->ksize))
		unexpected("%s size %u: bytes written outside the struct", c->name, usize);
	if (which == IOCGEN_VERSION && !err) {
		const struct pisteer_version *v = (const void *)(f->area + off);

		if (v->abi_major != PISTEER_ABI_MAJOR || v->abi_minor != PISTEER_ABI_MINOR)
			unexpected("VERSION: ABI %u.%u", v->abi_major, v->abi_minor);
	}
	if (which == IOCGEN_POLICY && !err) {
		struct pisteer_policy p;

		memcpy(&p, b, sizeof(p));
		if (usize < sizeof(p))
			memset((unsigned char *)&p + usize, 0, sizeof(p) - usize);
		if (p.policy != PISTEER_POLICY_NONE)
			remember_policy(&p);
	}
}

static void *fuzz_thread(void *arg)
{
	struct fuzzer *f = arg;
	unsigned int r;

	while (!stop) {
		r = iocgen_below(&f->seed, 100);
		if (r < 15)
			fuzz_unknown(f);
		else if (r < 25)
			fuzz_bad_arg(f);
		else
			fuzz_command(f);
	}
	return NULL;
}

/* --- the VMs that come and go -------------------------------------------- */

static void vm_fail(const char *what)
{
	pthread_mutex_lock(&lock);
	if (!vm_failed)
		snprintf(vm_error, sizeof(vm_error), "cycle %u: %s: %s", vm_cycles + 1,
			 what, ptvm_strerror());
	vm_failed = true;
	pthread_mutex_unlock(&lock);
}

/* Learn the host IRQs of the current VM's vectors, for IRQ policies. */
static void learn_irqs(void)
{
	struct pisteer_vector v[16];
	int n, i;

	n = modstate_list(fd, self, v, 16);
	pthread_mutex_lock(&lock);
	memset(host_irqs, 0, sizeof(host_irqs));
	for (i = 0; i < n && i < 16; i++)
		if (v[i].index < NR_VEC)
			host_irqs[v[i].index] = v[i].host_irq;
	pthread_mutex_unlock(&lock);
}

static void *vm_thread(void *arg)
{
	uint64_t s = *(uint64_t *)arg;
	struct ptvm_dev *dev;
	struct ptvm *vm;
	int v;

	while (!stop && !vm_failed) {
		vm = ptvm_create(NR_VCPUS);
		if (!vm) {
			vm_fail("VM");
			break;
		}
		dev = e1000e_assign(vm, bdf, GSI_BASE, EITR_US, NULL);
		if (!dev) {
			vm_fail("assign");
			ptvm_destroy(vm);
			break;
		}
		for (v = 0; v < NR_VEC; v++)
			if (ptvm_route_msi(vm, GSI_BASE + v, (int)iocgen_below(&s, NR_VCPUS),
					   GUEST_VEC(v)))
				vm_fail("route");
		learn_irqs();
		/* Interrupts while it lives (sampled when sampling is on). */
		for (v = 0; v < NR_VEC; v++) {
			e1000e_irq_raise(dev, v);
			ptvm_sleep_us(5000);
		}
		if (iocgen_chance(&s, 30)) {
			/* MSI-X off and on: the host IRQs go and come back. */
			if (ptdev_set_vectors(dev, false) || ptdev_set_vectors(dev, true))
				vm_fail("MSI-X off/on");
		}
		ptvm_sleep_us(iocgen_below(&s, 300) * 1000);
		ptdev_close(dev);
		ptvm_destroy(vm);
		pthread_mutex_lock(&lock);
		memset(host_irqs, 0, sizeof(host_irqs));
		vm_cycles++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* --- afterwards ----------------------------------------------------------- */

/* Remove what the fuzzers set: their policies, sampling. */
static bool clean_up(void)
{
	struct pisteer_lat_ctl lc = { .size = sizeof(lc), .op = PISTEER_LAT_DISABLE,
				      .scope = PISTEER_LAT_SCOPE_ALL };
	int i, removed = 0, gone = 0;
	bool ok = true;

	for (i = 0; i < nr_set_policies; i++) {
		struct pisteer_policy p = set_policies[i];

		p.size = sizeof(p);
		p.policy = PISTEER_POLICY_NONE;
		memset(p.cpus, 0, sizeof(p.cpus));
		if (!ioctl(fd, PISTEER_IOC_SET_POLICY, &p))
			removed++;
		else if (errno == ENOENT)
			gone++;	/* removed or replaced by a fuzzer meanwhile */
		else
			ok = false;
	}
	if (ioctl(fd, PISTEER_IOC_LAT_CTL, &lc)) {
		ktap_diag("disabling sampling: %s", strerror(errno));
		ok = false;
	}
	ktap_diag("policies the fuzzers set: %d distinct, %d removed now, %d gone already",
		  nr_set_policies, removed, gone);
	return ok && !policies_overflow;
}

/* One more VM: its vectors listed, no policy on them; then none listed. */
static bool final_vm(void)
{
	struct pisteer_vector v[16];
	struct ptvm_dev *dev;
	struct ptvm *vm;
	bool ok = true;
	int n = 0, i, tries;

	vm = ptvm_create(NR_VCPUS);
	dev = vm ? e1000e_assign(vm, bdf, GSI_BASE, EITR_US, NULL) : NULL;
	if (!dev) {
		ktap_diag("final VM: %s", ptvm_strerror());
		if (vm)
			ptvm_destroy(vm);
		return false;
	}
	for (i = 0; i < NR_VEC; i++)
		ok = !ptvm_route_msi(vm, GSI_BASE + i, i % NR_VCPUS, GUEST_VEC(i)) && ok;
	for (tries = 0; tries < 100; tries++) {
		n = modstate_list(fd, self, v, 16);
		if (n == NR_VEC)
			break;
		ptvm_sleep_us(20000);
	}
	if (n != NR_VEC) {
		ktap_diag("final VM: %d vectors listed, expected %d", n, NR_VEC);
		ok = false;
	}
	for (i = 0; ok && i < n; i++)
		if (v[i].policy != PISTEER_POLICY_NONE || v[i].steer_cpu != -1) {
			ktap_diag("final VM: vector %u has policy %u, steered to %d",
				  v[i].index, v[i].policy, v[i].steer_cpu);
			ok = false;
		}
	ptdev_close(dev);
	ptvm_destroy(vm);
	for (tries = 0; tries < 100; tries++) {
		n = modstate_list(fd, shared ? self : 0, NULL, 0);
		if (n == 0)
			break;
		ptvm_sleep_us(20000);
	}
	if (n) {
		ktap_diag("after the final VM: %d vectors listed", n);
		ok = false;
	}
	return ok;
}

static bool version_answers(void)
{
	struct pisteer_version ver = { .size = sizeof(ver) };

	if (ioctl(fd, PISTEER_IOC_VERSION, &ver)) {
		ktap_diag("version: %s", strerror(errno));
		return false;
	}
	return ver.abi_major == PISTEER_ABI_MAJOR && ver.abi_minor == PISTEER_ABI_MINOR;
}

/* Kernel log records since @kmsg was opened naming a kernel bug. */
static int kernel_complaints(int kmsg)
{
	static const char * const marks[] = {
		"WARNING:", "BUG:", "Oops", "general protection fault",
		"kernel BUG", "Call Trace", "UBSAN", "KASAN", "list_add corruption",
		"list_del corruption", "refcount_t:", "rcu_sched self-detected",
		"rcu: INFO",
	};
	char rec[2048];
	ssize_t n;
	unsigned int i;
	int found = 0;

	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
			if (strstr(rec, marks[i])) {
				if (found++ < 10)
					ktap_diag("kernel log: %s", strchr(rec, ';') ?
						  strchr(rec, ';') + 1 : rec);
				break;
			}
	}
	return found;
}

/* Without CAP_SYS_ADMIN: EPERM for every command and unknown number. */
static bool unprivileged_eperm(void)
{
	int status = -1;
	pid_t child = fork();

	if (child == 0) {
		static unsigned char b[PAGE];
		unsigned int i;
		int bad_ones = 0, err;

		if (drop_cap_sys_admin())
			_exit(2);
		for (i = 0; i <= IOCGEN_NR_CMDS; i++) {
			unsigned long cmd = i < IOCGEN_NR_CMDS ? iocgen_cmds[i].nr : _IO(PISTEER_IOC_MAGIC, 0x7f);

			memset(b, 0, sizeof(b));
			*(uint32_t *)b = i < IOCGEN_NR_CMDS ? (uint32_t)iocgen_cmds[i].ksize : 8;
			if (i == IOCGEN_LIST || i == IOCGEN_LAT_READ) {
				/* A valid request otherwise. */
				struct pisteer_list_vectors *r = (void *)b;

				r->entry_size = i == IOCGEN_LIST ? sizeof(struct pisteer_vector) :
					sizeof(struct pisteer_lat_vector);
			}
			err = ioctl(fd, cmd, b) < 0 ? errno : 0;
			if (err != EPERM) {
				printf("# without CAP_SYS_ADMIN, %s: %s\n",
				       i < IOCGEN_NR_CMDS ? iocgen_cmds[i].name : "unknown number",
				       err ? strerror(err) : "success");
				bad_ones++;
			}
			err = ioctl(fd, cmd, NULL) < 0 ? errno : 0;
			if (err != EPERM) {
				printf("# without CAP_SYS_ADMIN, %s on NULL: %s\n",
				       i < IOCGEN_NR_CMDS ? iocgen_cmds[i].name : "unknown number",
				       err ? strerror(err) : "success");
				bad_ones++;
			}
		}
		fflush(stdout);
		_exit(bad_ones ? 1 : 0);
	}
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void *map_guarded(size_t len)
{
	unsigned char *p = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + len, PAGE, PROT_NONE))
		return NULL;
	return p;
}

int main(int argc, char **argv)
{
	static struct fuzzer fz[MAX_THREADS];
	struct modcounts base, now;
	unsigned long seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
	unsigned long total = 0;
	int seconds = 20, nr_threads = 4, opt, i, kmsg, n;
	char bdfs[8][16];
	pthread_t vmt;
	uint64_t vm_seed;
	bool ok;

	while ((opt = getopt(argc, argv, "t:s:j:d:S")) != -1) {
		switch (opt) {
		case 't':
			seconds = atoi(optarg);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			nr_threads = atoi(optarg);
			break;
		case 'd':
			bdf = optarg;
			break;
		case 'S':
			shared = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-s SEED] [-j THREADS] [-d BDF] [-S]\n",
				argv[0]);
			return 2;
		}
	}
	if (seconds < 1 || nr_threads < 1 || nr_threads > MAX_THREADS) {
		fprintf(stderr, "%s: -t at least 1, -j 1..%d\n", argv[0], MAX_THREADS);
		return 2;
	}
	self = getpid();

	ktap_plan(8);
	ktap_diag("seed %lu (replay: -s %lu), %d threads, %d s", seed, seed, nr_threads,
		  seconds);
	fd = open("/dev/" PISTEER_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || kmsg < 0 || modcounts_read(&base)) {
		ktap_diag("/dev/pisteer: %s, /dev/kmsg: %s", fd < 0 ? "cannot open" : "ok",
			  kmsg < 0 ? strerror(errno) : "ok");
		ktap_result(false, "pisteer.ko loaded, kernel log and allocs readable");
		ktap_skip_rest("no module");
	}
	lseek(kmsg, 0, SEEK_END);
	modcounts_diag("before", &base);
	if (!bdf) {
		if (ptdev_find(E1000E_VENDOR, E1000E_DEVICE, bdfs, 8) < 1) {
			ktap_result(false, "an 82574L bound to vfio-pci");
			ktap_skip_rest("no 82574L bound to vfio-pci");
		}
		bdf = bdfs[0];
	}
	/* A valid version request, read-only. */
	ro_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page != MAP_FAILED) {
		*(uint32_t *)ro_page = sizeof(struct pisteer_version);
		if (mprotect(ro_page, PAGE, PROT_READ))
			ro_page = MAP_FAILED;
	}
	if (ro_page == MAP_FAILED) {
		ktap_result(false, "mmap");
		ktap_skip_rest("no memory");
	}

	iocgen_env.self = self;
	iocgen_env.nr_cpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	iocgen_env.bdf = bdf;
	iocgen_env.ro_page = (uintptr_t)ro_page;
	iocgen_env.live_irq = live_irq;

	vm_seed = seed * 31 + 7;
	if (pthread_create(&vmt, NULL, vm_thread, &vm_seed)) {
		ktap_result(false, "VM thread");
		ktap_skip_rest("no thread");
	}
	for (i = 0; i < nr_threads; i++) {
		fz[i].id = i;
		fz[i].seed = seed + 1000003ULL * (i + 1);
		fz[i].area = map_guarded(STRUCT_AREA);
		fz[i].entries = map_guarded(IOCGEN_ENTRY_AREA);
		if (!fz[i].area || !fz[i].entries ||
		    pthread_create(&fz[i].thread, NULL, fuzz_thread, &fz[i])) {
			stop = 1;
			ktap_result(false, "fuzzer thread %d", i);
			ktap_skip_rest("no thread");
		}
	}
	sleep((unsigned int)seconds);
	stop = 1;
	for (i = 0; i < nr_threads; i++)
		pthread_join(fz[i].thread, NULL);
	pthread_join(vmt, NULL);

	for (i = 0; i <= (int)IOCGEN_NR_CMDS; i++) {
		total += calls[i];
		ktap_diag("%-13s %8lu calls, %8lu succeeded", i < (int)IOCGEN_NR_CMDS ?
			  iocgen_cmds[i].name : "unknown", calls[i], successes[i]);
	}
	for (i = 0; i < nr_bad; i++)
		ktap_diag("%s", bad[i]);
	ktap_result(!bad_calls && total > 0,
		    "%lu fuzzed calls, %lu with an undocumented or wrong answer",
		    total, bad_calls);
	if (vm_failed)
		ktap_diag("%s", vm_error);
	ktap_result(!vm_failed && vm_cycles > 0,
		    "%u VM start/stop cycles under the fuzzers", vm_cycles);

	ok = clean_up();
	ktap_result(ok, "every policy the fuzzers set removed, sampling disabled");
	ok = version_answers() && final_vm();
	ktap_result(ok, "the module answers: version, a new VM's 5 vectors with no policy, then none");
	ok = modstate_list(fd, shared ? self : 0, NULL, 0) == 0 && !modcounts_read(&now) &&
	     (shared || modcounts_get(&now, "records") == 0);
	ktap_result(ok, "no record left (records %ld%s)", modcounts_get(&now, "records"),
		    shared ? ", the other processes' VMs' included" : "");
	ok = modcounts_wait_same(&base, &now, 3000);
	modcounts_diag("after", &now);
	ktap_result(ok, "allocation counts equal to those before the run");
	n = kernel_complaints(kmsg);
	ktap_result(n == 0, "no WARNING, BUG or Oops in the kernel log since the start (%d)", n);
	ktap_result(unprivileged_eperm(),
		    "without CAP_SYS_ADMIN: EPERM for every command and an unknown number");
	close(kmsg);
	close(fd);
	ktap_finish();
}
