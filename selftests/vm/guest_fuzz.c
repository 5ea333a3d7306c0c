// SPDX-License-Identifier: GPL-2.0
/*
 * guest_fuzz: the sysfs files of pisteer_guest.ko under random writes while
 * the device's queues are reprogrammed and its driver unbound and bound.
 *
 * usage: guest_fuzz -d BDF [-t SECONDS] [-n WRITES] [-j THREADS] [-s SEED]
 *                   [-a NAME]... [-c CLI] [-H]
 *
 * BDF is a NIC bound to e1000e (or any driver with MSI-X) and attached or
 * not; pisteer_guest.ko is loaded.  THREADS threads (default 4) write
 * random and boundary inputs (empty, a lone newline, valid and
 * out-of-range CPU numbers, offline CPUs, negative numbers, CPU lists,
 * garbage, random bytes, embedded NULs, strings of 63 to 65536 bytes,
 * device names and near-names) to every file of /sys/kernel/pisteer/ (the
 * read-only ones too: they must refuse the open), as one write, a prefix,
 * two writes on one descriptor, a pwrite or a writev, and read every file
 * (the write-only ones must refuse).  Meanwhile one thread unbinds and
 * binds the driver and takes the interface up and down, one writes random
 * masks to /proc/irq/N/smp_affinity{,_list} of the device's vectors and
 * attaches and detaches it, one runs `pisteer guest set/spread/status/
 * attach/detach` with random arguments (-c), one takes CPU 1 offline and
 * online (-H).  NAME (-a) are more names for the fuzzers' pool (other
 * devices: an NVMe controller, a NIC without a driver, ...).
 *
 * Every write must return its whole count or fail with an error the ABI
 * documents for the file (kernfs' own: E2BIG above a page; ENODEV from a
 * file whose device went; ENOENT from an open of a file that went, ENODEV
 * from one of a file that is going: kernfs_fop_open()); every
 * read must be well formed.  Every 100 ms (about) everything pauses and
 * a checker writes valid and invalid values: a valid write must read back
 * (cpu, spread, map, /proc/irq), an invalid one must fail with EINVAL and
 * change nothing; queues/ must be the device's MSI/MSI-X vectors.  The
 * driver's worker's binds, the affinity writes and the CLI (exit 0, 1 or
 * 2, never a signal) are checked too.  At the end the driver is bound, the
 * interface up and the device attached, and one last check runs.  Stops
 * at WRITES writes (default: none) or after SECONDS (default 10).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/ktap.h"

#define PG		"/sys/kernel/pisteer"
#define MAX_THREADS	16
#define MAX_NAMES	16
#define MAX_BAD		20
#define MAX_QUEUES	64
#define NR_QFILES	7
#define BIG		65536
#define PAGE		4096
#define LINE		256

/* Options. */
static const char *bdf, *cli;
static char short_bdf[16];
static const char *names[MAX_NAMES];
static int nr_names;
static bool hotplug;
static int ncpus;		/* configured CPUs: 0..ncpus-1 */

static volatile int stop;
/* Workers hold it shared around each step, the checker exclusive. */
static pthread_rwlock_t quiet;

/* Results. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long writes, write_ok, open_refused, reads, read_ok, checks;
static unsigned long rebinds, affinity_writes, cli_runs, attaches, hotplugs;
static unsigned long bad_writes, bad_reads, bad_checks, bad_workers, deferred;
static int nr_bad;
static char bad[MAX_BAD][LINE];

/* Errors seen per file kind, for the summary. */
enum kind { K_ATTACH, K_DETACH, K_VERSION, K_SPREAD, K_GENERATION, K_MAP,
	    K_IRQ, K_NAME, K_CPU, K_EFFECTIVE, K_SINGLE, K_MSI, K_COUNT, NR_KINDS };
static const char *const kind_name[NR_KINDS] = {
	"attach", "detach", "version", "spread", "generation", "map", "irq",
	"name", "cpu", "effective_cpu", "single_dest", "msi_dest", "count",
};
static const enum kind qkinds[NR_QFILES] = {
	K_IRQ, K_NAME, K_CPU, K_EFFECTIVE, K_SINGLE, K_MSI, K_COUNT,
};
static unsigned long errs[NR_KINDS][134];

static void note_bad(unsigned long *counter, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_bad(unsigned long *counter, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	(*counter)++;
	if (nr_bad < MAX_BAD) {
		va_start(ap, fmt);
		vsnprintf(bad[nr_bad++], LINE, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&lock);
}

static void count(unsigned long *counter)
{
	pthread_mutex_lock(&lock);
	(*counter)++;
	pthread_mutex_unlock(&lock);
}

/* xorshift64*, one state per thread. */
static unsigned long rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (unsigned long)((*s * 2685821657736338717ULL) >> 11);
}

static unsigned long rn(uint64_t *s, unsigned long n)
{
	return n ? rnd(s) % n : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read a small file; its length, or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Write @len bytes in one write(); 0 when all were taken, else -errno. */
static int write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EMSGSIZE;
	close(fd);
	return ret;
}

static int write_str(const char *path, const char *s)
{
	return write_file(path, s, strlen(s));
}

static bool is_online(unsigned int cpu)
{
	char p[64], b[8];

	if (!cpu)
		return true;
	if (cpu >= (unsigned int)ncpus)
		return false;
	snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%u/online", cpu);
	return read_file(p, b, sizeof(b)) > 0 && b[0] == '1';
}

/* The device's interface name now ("" when none). */
static void netdev(char *out, size_t size)
{
	char p[128];
	struct dirent *e;
	DIR *d;

	out[0] = '\0';
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/net", bdf);
	d = opendir(p);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			size_t l = strnlen(e->d_name, size - 1);

			memcpy(out, e->d_name, l);
			out[l] = '\0';
			break;
		}
	closedir(d);
}

/* The device's MSI/MSI-X IRQs, sorted; their number. */
static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static int msi_irqs(unsigned int *irqs, int max)
{
	char p[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	d = opendir(p);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			irqs[n++] = strtoul(e->d_name, NULL, 10);
	closedir(d);
	qsort(irqs, n, sizeof(*irqs), cmp_uint);
	return n;
}

static bool driver_bound(void)
{
	char p[128], l[256];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(p, l, sizeof(l) - 1);
	if (n < 0)
		return false;
	l[n] = '\0';
	return strstr(l, "/e1000e") != NULL;
}

/* --- inputs ---------------------------------------------------------- */

struct input {
	char *buf;
	size_t len;
};

/* A random input of one of the families; @buf has BIG + 64 bytes. */
static void gen_input(uint64_t *s, struct input *in)
{
	static const char *const fixed[] = {
		"", "\n", " ", "\t\n", "0", "0\n", "1", "1\n", "+1", "01", "00",
		"-1", "-0", "2", "3", "7", "63", "64", "255", "256", "1023", "4096",
		"8191", "4294967295", "4294967296", "18446744073709551615",
		"99999999999999999999999", "0x1", "1e3", " 1", "1 ", "1 1", "\t0\n",
		"0-1", "0,1", "1-0", "0-", "-", ",", "0,,1", "0-1:1/2", "0-4095",
		"0-1\n", "all", "all\n", "al", "ALL", "all ", " all", "none",
		"abc", "\xff\xfe", "1\n\n", "\n1", "0-1x",
		"nosuchdev0", "rdma:", "rdma:rxe0", "pci:", "net:", "net:lo", "lo",
		"0000:00:00.0", "00:00.0", "ffff:ff:1f.7", "0000:00:00.8",
		"0000:100:00.0", "10000:00:00.0", "0000:00:20.0", "pci:nosuch",
		"net:nosuch0", "a b", "eth", "eth0", "eth1", "eth99",
	};
	char nd[IFNAMSIZ + 8];
	size_t n, i;
	unsigned long k = rn(s, 100);
	char *b = in->buf;

	if (k < 35) {
		i = rn(s, sizeof(fixed) / sizeof(fixed[0]));
		n = strlen(fixed[i]);
		memcpy(b, fixed[i], n);
	} else if (k < 55) {		/* a CPU, online, offline or beyond */
		n = snprintf(b, 64, rn(s, 2) ? "%lu\n" : "%lu",
			     rn(s, 4) ? rn(s, ncpus + 1) : rn(s, 5000));
	} else if (k < 65) {		/* a CPU list */
		unsigned long a = rn(s, ncpus + 2), c = rn(s, ncpus + 2);

		n = snprintf(b, 64, "%s%lu%s%lu%s", rn(s, 8) ? "" : " ", a,
			     rn(s, 2) ? "-" : ",", c, rn(s, 2) ? "\n" : "");
	} else if (k < 80) {		/* a device name */
		switch (rn(s, 6)) {
		case 0:
			n = snprintf(b, 64, "%s", bdf);
			break;
		case 1:
			n = snprintf(b, 64, "%s\n", short_bdf);
			break;
		case 2:
			n = snprintf(b, 64, "pci:%s", bdf);
			break;
		case 3:
			netdev(nd, sizeof(nd));
			n = snprintf(b, 64, "%s%s", rn(s, 2) ? "net:" : "", nd);
			break;
		default:
			n = nr_names ? snprintf(b, 64, "%s", names[rn(s, nr_names)]) :
				       snprintf(b, 64, "%s", bdf);
			break;
		}
	} else if (k < 88) {		/* embedded NUL */
		const char *head = rn(s, 2) ? "1" : bdf;

		n = strlen(head);
		memcpy(b, head, n);
		b[n++] = '\0';
		i = rn(s, 8);
		while (i--)
			b[n++] = (char)('a' + rn(s, 26));
	} else if (k < 94) {		/* long */
		static const size_t lens[] = { 62, 63, 64, 65, 127, 128, 129, 4095,
					       4096, 4097, 8192, BIG };
		char c = "0x,1 "[rn(s, 5)];

		n = lens[rn(s, sizeof(lens) / sizeof(lens[0]))];
		memset(b, c, n);
		if (c == ',')
			for (i = 0; i < n; i += 2)
				b[i] = '0';
	} else {			/* random bytes */
		n = 1 + rn(s, 40);
		for (i = 0; i < n; i++)
			b[i] = (char)rnd(s);
	}
	in->len = n;
	b[n] = '\0';
}

/* --- files ----------------------------------------------------------- */

/* Queue indexes tried: those there are and a few beyond. */
#define NR_QTRY		5

/* A random file of the module; its kind and whether it is writable. */
static void pick_file(uint64_t *s, char *path, size_t size, enum kind *k)
{
	static const enum kind top[] = { K_ATTACH, K_DETACH, K_VERSION };
	static const enum kind devk[] = { K_SPREAD, K_GENERATION, K_MAP };
	const char *dev = bdf;
	unsigned long r = rn(s, 100);

	if (r < 15) {
		*k = top[rn(s, 3)];
		snprintf(path, size, PG "/%s", kind_name[*k]);
		return;
	}
	if (nr_names && !rn(s, 6))
		dev = names[rn(s, nr_names)];
	if (r < 40) {
		*k = devk[rn(s, 3)];
		snprintf(path, size, PG "/devices/%s/%s", dev, kind_name[*k]);
		return;
	}
	*k = qkinds[rn(s, NR_QFILES)];
	/* cpu, the file that moves interrupts, half the time. */
	if (rn(s, 2))
		*k = K_CPU;
	snprintf(path, size, PG "/devices/%s/queues/%lu/%s", dev, rn(s, NR_QTRY),
		 kind_name[*k]);
}

static bool writable(enum kind k)
{
	return k == K_ATTACH || k == K_DETACH || k == K_SPREAD || k == K_CPU;
}

/* May a write to a file of kind @k fail with @err (positive)? */
static bool write_err_ok(enum kind k, int err)
{
	/* kernfs: above a page; the file's device or queue went. */
	if (err == E2BIG || err == ENODEV)
		return true;
	switch (k) {
	case K_ATTACH:
		return err == EINVAL || err == EOPNOTSUPP || err == EEXIST ||
		       err == ENXIO;
	case K_DETACH:
		return err == EINVAL || err == EOPNOTSUPP || err == ENOENT;
	case K_SPREAD:
	case K_CPU:
		return err == EINVAL || err == EPERM;
	default:
		return false;
	}
}

static bool is_uint(const char *s)
{
	if (!*s || *s == '\n')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return !strcmp(s, "\n");
}

/* A CPU list as the kernel prints it ("" allowed for @empty_ok). */
static bool is_cpulist(const char *s, bool empty_ok)
{
	if (!strcmp(s, "\n"))
		return empty_ok;
	for (; *s && *s != '\n'; s++)
		if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
			return false;
	return !strcmp(s, "\n");
}

static bool map_ok(const char *t)
{
	char q[32], irq[32], cpu[LINE], eff[LINE], name[LINE];
	const char *l = t;

	while (*l) {
		const char *e = strchr(l, '\n');
		char line[LINE * 3];

		if (!e || (size_t)(e - l) >= sizeof(line))
			return false;
		memcpy(line, l, e - l);
		line[e - l] = '\0';
		if (sscanf(line, "%31s %31s %255s %255s %255s", q, irq, cpu, eff, name) != 5)
			return false;
		l = e + 1;
	}
	return true;
}

/* Is @t, read from a file of kind @k, well formed? */
static bool content_ok(enum kind k, const char *t)
{
	switch (k) {
	case K_SPREAD:
		/* The request as accepted, without blanks around it. */
		if (t[0] == ' ' || t[0] == '\t' || (strlen(t) > 1 && strchr(" \t", t[strlen(t) - 2])))
			return false;
		return strchr(t, '\n') == t + strlen(t) - 1;
	case K_VERSION:
	case K_NAME:
		return strchr(t, '\n') == t + strlen(t) - 1;
	case K_GENERATION:
	case K_IRQ:
	case K_COUNT:
		return is_uint(t);
	case K_CPU:
		return is_cpulist(t, false);
	case K_EFFECTIVE:
		return is_cpulist(t, true);
	case K_SINGLE:
		return !strcmp(t, "0\n") || !strcmp(t, "1\n");
	case K_MSI:
		return !strcmp(t, "remapped\n") || !strncmp(t, "physical 0x", 11) ||
		       !strncmp(t, "logical 0x", 10);
	case K_MAP:
		return map_ok(t);
	default:
		return false;
	}
}

static void note_err(enum kind k, int err)
{
	pthread_mutex_lock(&lock);
	errs[k][err > 0 && err < 134 ? err : 0]++;
	pthread_mutex_unlock(&lock);
}

/* One fuzzed write to a random file. */
static void fuzz_write(uint64_t *s, struct input *in)
{
	char path[256];
	struct iovec iov[2];
	enum kind k;
	size_t len, cut;
	ssize_t n = 0;
	int fd, err = 0, how = (int)rn(s, 16);

	pick_file(s, path, sizeof(path), &k);
	gen_input(s, in);
	len = in->len;
	if (how == 0 && len)		/* a prefix */
		len = rn(s, len);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		/* Read-only files refuse; a device's files come and go. */
		if (!(err == EACCES && !writable(k)) && err != ENOENT && err != ENODEV)
			note_bad(&bad_writes, "open %s for writing: %s", path, strerror(err));
		count(&open_refused);
		return;
	}
	if (!writable(k))
		note_bad(&bad_writes, "%s (read-only) opened for writing", path);
	cut = len ? rn(s, len) : 0;
	switch (how) {
	case 1:				/* two writes on one descriptor */
		n = write(fd, in->buf, cut);
		if (n == (ssize_t)cut) {
			count(&writes);
			n = write(fd, in->buf + cut, len - cut);
			len -= cut;
		}
		break;
	case 2:
		n = pwrite(fd, in->buf, len, (off_t)rn(s, 8192));
		break;
	case 3:
		iov[0].iov_base = in->buf;
		iov[0].iov_len = cut;
		iov[1].iov_base = in->buf + cut;
		iov[1].iov_len = len - cut;
		n = writev(fd, iov, 2);
		break;
	default:
		n = write(fd, in->buf, len);
		break;
	}
	err = n < 0 ? errno : 0;
	close(fd);
	count(&writes);
	/* kernfs takes at most a page of a write (a short write). */
	if (n >= 0 && len > PAGE && (size_t)n == PAGE)
		len = PAGE;
	if (n >= 0 && (size_t)n != len) {
		note_bad(&bad_writes, "write of %zu bytes to %s returned %zd", len, path, n);
		return;
	}
	if (!err) {
		count(&write_ok);
		return;
	}
	note_err(k, err);
	if (!write_err_ok(k, err)) {
		char shown[40];
		size_t i;

		for (i = 0; i < len && i < sizeof(shown) - 1; i++) {
			unsigned char ch = (unsigned char)in->buf[i];

			shown[i] = '.';
			if (ch >= 32 && ch < 127)
				shown[i] = in->buf[i];
		}
		shown[i] = '\0';
		note_bad(&bad_writes, "write '%s' (%zu bytes) to %s: %s (undocumented)",
			 shown, len, path, strerror(err));
	}
}

/* A page: what kernfs reads of a binary attribute in one call. */
#define MAP_PAGE	4096

/* One read of a random file, all of it, or for map part of it. */
static void fuzz_read(uint64_t *s)
{
	char path[256], buf[8192];
	enum kind k;
	ssize_t n, len = 0;
	int fd, err = 0;

	pick_file(s, path, sizeof(path), &k);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	count(&reads);
	if (fd < 0) {
		err = errno;
		if (!(err == EACCES && (k == K_ATTACH || k == K_DETACH)) && err != ENOENT &&
		    err != ENODEV)
			note_bad(&bad_reads, "open %s for reading: %s", path, strerror(err));
		return;
	}
	if (k == K_ATTACH || k == K_DETACH)
		note_bad(&bad_reads, "%s (write-only) opened for reading", path);
	if (k == K_MAP && rn(s, 2)) {
		/* Pieces at random offsets: an error or at most what was asked. */
		size_t want = 1 + rn(s, 300);

		n = pread(fd, buf, want, (off_t)rn(s, 400));
		close(fd);
		if (n < 0 && errno != ENODEV)
			note_bad(&bad_reads, "pread %s: %s", path, strerror(errno));
		else if (n > (ssize_t)want)
			note_bad(&bad_reads, "pread %s: %zd bytes for %zu", path, n, want);
		else
			count(&read_ok);
		return;
	}
	if (k == K_MAP) {
		/*
		 * map makes its text afresh at each read(2) (a binary
		 * attribute): only one call is one view, and kernfs gives at
		 * most a page a call.  Two calls may join two texts.
		 */
		n = read(fd, buf, MAP_PAGE);
		len = n > 0 ? n : 0;
	} else {
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += n;
	}
	err = n < 0 ? errno : 0;
	close(fd);
	buf[len] = '\0';
	if (err) {
		if (err != ENODEV)
			note_bad(&bad_reads, "read %s: %s", path, strerror(err));
		return;
	}
	if (k == K_MAP && len == MAP_PAGE) {
		count(&read_ok);	/* a longer text: not one view */
		return;
	}
	if (!content_ok(k, buf)) {
		buf[80] = '\0';
		note_bad(&bad_reads, "%s reads '%s'", path, buf);
		return;
	}
	count(&read_ok);
}

static void *fuzzer(void *arg)
{
	uint64_t s = *(const uint64_t *)arg;
	struct input in = { malloc(BIG + 64), 0 };

	if (!in.buf)
		return NULL;
	while (!stop) {
		pthread_rwlock_rdlock(&quiet);
		if (rn(&s, 3))
			fuzz_write(&s, &in);
		else
			fuzz_read(&s);
		pthread_rwlock_unlock(&quiet);
	}
	free(in.buf);
	return NULL;
}

/* --- workers --------------------------------------------------------- */

static void link_updown(bool up)
{
	struct ifreq ifr;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	netdev(ifr.ifr_name, sizeof(ifr.ifr_name));
	if (ifr.ifr_name[0] && !ioctl(sk, SIOCGIFFLAGS, &ifr)) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		ioctl(sk, SIOCSIFFLAGS, &ifr);
	}
	close(sk);
}

/* Bind the driver if it is not bound; true when it is then. */
static bool bind_driver(void)
{
	int ret, i;

	for (i = 0; i < 3 && !driver_bound(); i++) {
		ret = write_str("/sys/bus/pci/drivers/e1000e/bind", bdf);
		if (ret && !driver_bound())
			sleep_ms(50);
	}
	return driver_bound();
}

/* Unbinds and binds the driver; takes the interface up and down. */
static void *driver_worker(void *arg)
{
	uint64_t s = *(const uint64_t *)arg;
	int ret;

	while (!stop) {
		pthread_rwlock_rdlock(&quiet);
		switch (rn(&s, 4)) {
		case 0:
			if (driver_bound()) {
				ret = write_str("/sys/bus/pci/drivers/e1000e/unbind", bdf);
				if (ret)
					note_bad(&bad_workers, "unbind %s: %s", bdf, strerror(-ret));
				else
					count(&rebinds);
			}
			break;
		case 1:
			if (!bind_driver())
				note_bad(&bad_workers, "bind %s to e1000e failed", bdf);
			break;
		default:
			link_updown(rn(&s, 2));
			break;
		}
		pthread_rwlock_unlock(&quiet);
		sleep_ms(20 + (long)rn(&s, 200));
	}
	return NULL;
}

/* Random affinities of the device's IRQs; attach and detach. */
static void *irq_worker(void *arg)
{
	uint64_t s = *(const uint64_t *)arg;
	unsigned int irqs[MAX_QUEUES];
	char p[96], v[32];
	int n, ret;

	while (!stop) {
		pthread_rwlock_rdlock(&quiet);
		if (rn(&s, 4)) {
			n = msi_irqs(irqs, MAX_QUEUES);
			if (n) {
				unsigned int irq = irqs[rn(&s, n)];

				if (rn(&s, 2)) {
					snprintf(p, sizeof(p), "/proc/irq/%u/smp_affinity", irq);
					snprintf(v, sizeof(v), "%lx", 1 + rn(&s, (1UL << ncpus) - 1));
				} else {
					snprintf(p, sizeof(p), "/proc/irq/%u/smp_affinity_list", irq);
					snprintf(v, sizeof(v), "%lu", rn(&s, ncpus));
				}
				ret = write_str(p, v);
				/* The vector can go meanwhile; CPU 1 can be offline. */
				if (ret && ret != -ENOENT && ret != -EINVAL && ret != -EIO)
					note_bad(&bad_workers, "%s <- %s: %s", p, v, strerror(-ret));
				count(&affinity_writes);
			}
		} else {
			ret = write_str(rn(&s, 2) ? PG "/attach" : PG "/detach", bdf);
			if (ret && ret != -EEXIST && ret != -ENOENT && ret != -ENODEV &&
			    ret != -ENXIO)
				note_bad(&bad_workers, "attach/detach %s: %s", bdf, strerror(-ret));
			count(&attaches);
		}
		pthread_rwlock_unlock(&quiet);
		sleep_ms(2 + (long)rn(&s, 10));
	}
	return NULL;
}

/* `pisteer guest ...` with random arguments: exit 0, 1 or 2. */
static void *cli_worker(void *arg)
{
	uint64_t s = *(const uint64_t *)arg;
	static const char *const cmds[] = { "set", "spread", "status", "attach", "detach" };
	char q[16], c[32], nd[IFNAMSIZ];
	const char *argv[8];
	int st, devnull;
	pid_t pid;

	while (!stop) {
		const char *cmd = cmds[rn(&s, 5)];
		int a = 0;

		netdev(nd, sizeof(nd));
		argv[a++] = cli;
		argv[a++] = "guest";
		argv[a++] = cmd;
		argv[a++] = rn(&s, 3) || !nd[0] ? bdf : nd;
		snprintf(q, sizeof(q), "%lu", rn(&s, 4));
		snprintf(c, sizeof(c), rn(&s, 8) ? "%lu" : "-%lu", rn(&s, ncpus + 1));
		if (!strcmp(cmd, "set")) {
			argv[a++] = q;
			argv[a++] = c;
		} else if (!strcmp(cmd, "spread") && rn(&s, 2)) {
			argv[a++] = rn(&s, 2) ? "all" : c;
		}
		argv[a] = NULL;
		pthread_rwlock_rdlock(&quiet);
		pid = fork();
		if (!pid) {
			devnull = open("/dev/null", O_WRONLY);
			dup2(devnull, 1);
			dup2(devnull, 2);
			execv(cli, (char *const *)argv);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, &st, 0) == pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) > 2)
				note_bad(&bad_workers, "pisteer guest %s %s: %s %d", cmd, argv[3],
					 WIFEXITED(st) ? "exit" : "signal",
					 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			count(&cli_runs);
		}
		pthread_rwlock_unlock(&quiet);
		sleep_ms(10 + (long)rn(&s, 50));
	}
	return NULL;
}

/* CPU 1 offline and online again. */
static void *hotplug_worker(void *arg)
{
	uint64_t s = *(const uint64_t *)arg;
	const char *f = "/sys/devices/system/cpu/cpu1/online";

	while (!stop) {
		pthread_rwlock_rdlock(&quiet);
		int ret = write_str(f, is_online(1) ? "0" : "1");

		if (ret)
			note_bad(&bad_workers, "CPU 1 online/offline: %s", strerror(-ret));
		else
			count(&hotplugs);
		pthread_rwlock_unlock(&quiet);
		sleep_ms(200 + (long)rn(&s, 800));
	}
	write_str(f, "1");
	return NULL;
}

/* --- the checker, everything else paused ------------------------------ */

static char dpath[128];

static int qfile(int q, const char *f, char *out, size_t size)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/queues/%d/%s", dpath, q, f);
	return (int)read_file(p, out, size);
}

/* Number of queue directories now; -1 when the device is not attached. */
static int nr_qdirs(void)
{
	char p[160];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/queues", dpath);
	d = opendir(p);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool check_fail(const char *fmt, ...)
{
	char msg[LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_bad(&bad_checks, "check: %s", msg);
	return false;
}

/* queues/ are the device's vectors: the same IRQs, one directory each. */
static bool check_vectors(int *nq)
{
	unsigned int want[MAX_QUEUES], got[MAX_QUEUES];
	char b[LINE], map[8192];
	int n, i, lines = 0;
	ssize_t len;

	/* Reading generation settles the queue directories. */
	snprintf(b, sizeof(b), "%s/generation", dpath);
	if (read_file(b, map, sizeof(map)) < 0)
		return check_fail("%s unreadable", b);
	n = msi_irqs(want, MAX_QUEUES);
	if (nr_qdirs() != n)
		return check_fail("%d queue directories, %d vectors", nr_qdirs(), n);
	for (i = 0; i < n; i++) {
		if (qfile(i, "irq", b, sizeof(b)) <= 0)
			return check_fail("queue %d: irq unreadable", i);
		got[i] = strtoul(b, NULL, 10);
	}
	qsort(got, n, sizeof(*got), cmp_uint);
	if (memcmp(got, want, n * sizeof(*got)) != 0)
		return check_fail("queue IRQs are not the device's MSI/MSI-X IRQs");
	snprintf(b, sizeof(b), "%s/map", dpath);
	len = read_file(b, map, sizeof(map));
	for (i = 0; i < len; i++)
		lines += map[i] == '\n';
	if (lines != n)
		return check_fail("map has %d lines for %d queues", lines, n);
	*nq = n;
	return true;
}

/* The CPU list field of map's line for queue @q. */
static bool map_cpu(int q, char *out, size_t size)
{
	char p[160], map[8192], *l;
	int qq;

	snprintf(p, sizeof(p), "%s/map", dpath);
	if (read_file(p, map, sizeof(map)) < 0)
		return false;
	for (l = strtok(map, "\n"); l; l = strtok(NULL, "\n")) {
		char cpu[LINE];

		if (sscanf(l, "%d %*u %255s", &qq, cpu) == 2 && qq == q) {
			snprintf(out, size, "%s", cpu);
			return true;
		}
	}
	return false;
}

/*
 * Queue @q is on CPU @want (cpu and map say so), or the kernel deferred
 * the move (x86 moves a vector whose last move has not completed at its
 * next interrupt): then cpu, map and /proc/irq/N/smp_affinity_list, after
 * the same write to it, agree on the CPU it still has.
 */
static bool queue_on(int q, unsigned int want, const char *what)
{
	char b[LINE], m[LINE], irqp[64], pr[LINE];
	unsigned long irq;

	if (qfile(q, "cpu", b, sizeof(b)) <= 0 || !is_cpulist(b, false))
		return check_fail("%s: queue %d: cpu reads '%.20s'", what, q, b);
	if (!map_cpu(q, m, sizeof(m)) || strtoul(m, NULL, 10) != strtoul(b, NULL, 10))
		return check_fail("%s: queue %d: cpu reads '%.20s', map '%s'", what, q, b, m);
	if (strtoul(b, NULL, 10) == want && !strchr(b, ',') && !strchr(b, '-'))
		return true;
	if (qfile(q, "irq", pr, sizeof(pr)) <= 0)
		return check_fail("%s: queue %d: irq unreadable", what, q);
	irq = strtoul(pr, NULL, 10);
	snprintf(irqp, sizeof(irqp), "/proc/irq/%lu/smp_affinity_list", irq);
	snprintf(pr, sizeof(pr), "%u", want);
	if (write_str(irqp, pr) || read_file(irqp, pr, sizeof(pr)) <= 0 || strcmp(pr, b) != 0 ||
	    qfile(q, "cpu", m, sizeof(m)) <= 0 || strcmp(m, b) != 0)
		return check_fail("%s: queue %d (irq %lu) on '%.20s', not %u; %s reads '%.20s'",
				  what, q, irq, b, want, irqp, pr);
	count(&deferred);
	return true;
}

static const char *const bad_cpu[] = {
	"\n", "-1", "0-1", "0,1", "abc", "4294967296", "1 1", " 1", "all", "0x0",
};
static const char *const bad_spread[] = { "x", "\n", "0-5000", "al", "0-1x", "-", "," };

/* A valid cpu write reads back; an invalid one fails and changes nothing. */
static bool check_cpu(uint64_t *s, int nq)
{
	char p[192], b[LINE], before[8192], after[8192];
	unsigned int cpu = (unsigned int)rn(s, ncpus);
	int q = (int)rn(s, nq), ret;
	const char *v;

	snprintf(p, sizeof(p), "%s/queues/%d/cpu", dpath, q);
	if (!is_online(cpu))
		cpu = 0;
	snprintf(b, sizeof(b), rn(s, 2) ? "%u\n" : "%u", cpu);
	ret = write_str(p, b);
	if (ret)
		return check_fail("%s <- %u: %s", p, cpu, strerror(-ret));
	snprintf(b, sizeof(b), "cpu %u", cpu);
	if (!queue_on(q, cpu, b))
		return false;
	/* An invalid one: an offline CPU when there is one, else garbage. */
	snprintf(b, sizeof(b), "%s/map", dpath);
	read_file(b, before, sizeof(before));
	if (!is_online(1) && rn(s, 2))
		v = "1";
	else if (rn(s, 3))
		v = bad_cpu[rn(s, sizeof(bad_cpu) / sizeof(bad_cpu[0]))];
	else
		v = ncpus > 3 ? "4095" : "4";
	ret = write_str(p, v);
	read_file(b, after, sizeof(after));
	if (ret != -EINVAL)
		return check_fail("%s <- '%s': %s, expected EINVAL", p, v,
				  ret ? strerror(-ret) : "success");
	if (strcmp(before, after) != 0)
		return check_fail("map changed by a refused cpu write '%s'", v);
	return true;
}

static bool check_spread(uint64_t *s, int nq)
{
	char p[160], b[LINE], want[LINE], before[8192], after[8192], sp[LINE];
	unsigned int cpus[8], n = 0, c;
	int q, ret;
	const char *v;

	snprintf(p, sizeof(p), "%s/spread", dpath);
	for (c = 0; c < (unsigned int)ncpus && n < 8; c++)
		if (is_online(c) && (rn(s, 2) || !n))
			cpus[n++] = c;
	if (rn(s, 4)) {
		int l = 0;

		for (c = 0; c < n; c++)
			l += snprintf(want + l, sizeof(want) - l, "%s%u", c ? "," : "", cpus[c]);
	} else {
		snprintf(want, sizeof(want), "all");
		for (n = 0, c = 0; c < (unsigned int)ncpus && n < 8; c++)
			if (is_online(c))
				cpus[n++] = c;
	}
	if (!n)
		cpus[n++] = 0;
	snprintf(b, sizeof(b), rn(s, 2) ? "%s\n" : "%s", want);
	ret = write_str(p, b);
	if (ret)
		return check_fail("%s <- %s: %s", p, want, strerror(-ret));
	if (read_file(p, sp, sizeof(sp)) <= 0 || strncmp(sp, want, strlen(want)) != 0 ||
	    strcmp(sp + strlen(want), "\n") != 0)
		return check_fail("spread reads '%.40s' after writing '%s'", sp, want);
	snprintf(b, sizeof(b), "spread %.200s", want);
	for (q = 0; q < nq; q++)
		if (!queue_on(q, cpus[q % n], b))
			return false;
	snprintf(b, sizeof(b), "%s/map", dpath);
	read_file(b, before, sizeof(before));
	v = !is_online(1) && rn(s, 2) ? "0-1" :
	    bad_spread[rn(s, sizeof(bad_spread) / sizeof(bad_spread[0]))];
	ret = write_str(p, v);
	read_file(b, after, sizeof(after));
	if (ret != -EINVAL)
		return check_fail("%s <- '%s': %s, expected EINVAL", p, v,
				  ret ? strerror(-ret) : "success");
	if (strcmp(before, after) != 0)
		return check_fail("map changed by a refused spread '%s'", v);
	if (read_file(p, b, sizeof(b)) <= 0 || strcmp(b, sp) != 0)
		return check_fail("spread reads '%.40s' after a refused write, was '%s'", b, sp);
	return true;
}

/*
 * Everything paused: the device bound (bind it if need be) and attached
 * (attach it if need be: success or EEXIST), then the checks.
 */
static bool check_once(uint64_t *s, bool final)
{
	int nq = 0, ret;
	bool ok;

	if (!bind_driver())
		return check_fail("%s not bound to e1000e", bdf);
	if (final)
		link_updown(true);
	ret = write_str(PG "/attach", bdf);
	if (ret && ret != -EEXIST)
		return check_fail("attach %s: %s", bdf, strerror(-ret));
	ret = write_str(PG "/attach", bdf);
	if (ret != -EEXIST)
		return check_fail("attach of an attached device: %s, expected EEXIST",
				  ret ? strerror(-ret) : "success");
	if (!check_vectors(&nq))
		return false;
	if (!nq)
		return true;
	ok = check_cpu(s, nq);
	return check_spread(s, nq) && ok;
}

static void usage(void)
{
	fprintf(stderr, "usage: guest_fuzz -d BDF [-t SECONDS] [-n WRITES] [-j THREADS] [-s SEED]\n"
			"                  [-a NAME]... [-c CLI] [-H]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static uint64_t seeds[MAX_THREADS + 4];
	pthread_t fz[MAX_THREADS], drv, irq, cl = 0, hp = 0;
	pthread_rwlockattr_t ra;
	unsigned long target = 0, seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
	double secs = 10, t0, last = 0;
	int threads = 4, opt, i, k, e;
	uint64_t cs;
	char b[64];

	while ((opt = getopt(argc, argv, "d:t:n:j:s:a:c:H")) != -1) {
		switch (opt) {
		case 'd':
			bdf = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'n':
			target = strtoul(optarg, NULL, 10);
			break;
		case 'j':
			threads = atoi(optarg);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'a':
			if (nr_names < MAX_NAMES)
				names[nr_names++] = optarg;
			break;
		case 'c':
			cli = optarg;
			break;
		case 'H':
			hotplug = true;
			break;
		default:
			usage();
		}
	}
	if (!bdf || threads < 1 || threads > MAX_THREADS || secs <= 0 || strlen(bdf) != 12)
		usage();
	snprintf(short_bdf, sizeof(short_bdf), "%s", bdf + 5);
	snprintf(dpath, sizeof(dpath), PG "/devices/%s", bdf);
	ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (ncpus < 1 || ncpus > 32)
		ncpus = 1;
	hotplug = hotplug && ncpus > 1;

	ktap_plan(4);
	ktap_diag("seed %#lx, %d fuzzing threads, %.0f s%s, %d CPUs, device %s", seed,
		  threads, secs, hotplug ? ", CPU 1 hotplugged" : "", ncpus, bdf);
	if (access(PG "/attach", W_OK) || !driver_bound())
		ktap_skip_rest("needs pisteer_guest.ko loaded and the device on e1000e");

	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&quiet, &ra);
	for (i = 0; i < MAX_THREADS + 4; i++)
		seeds[i] = seed * 31 + i + 1;
	for (i = 0; i < threads; i++)
		pthread_create(&fz[i], NULL, fuzzer, &seeds[i]);
	pthread_create(&drv, NULL, driver_worker, &seeds[MAX_THREADS]);
	pthread_create(&irq, NULL, irq_worker, &seeds[MAX_THREADS + 1]);
	if (cli)
		pthread_create(&cl, NULL, cli_worker, &seeds[MAX_THREADS + 2]);
	if (hotplug)
		pthread_create(&hp, NULL, hotplug_worker, &seeds[MAX_THREADS + 3]);
	cs = seed * 53 + 1;
	t0 = now();
	while (now() - t0 < secs && (!target || writes < target)) {
		sleep_ms(100);
		pthread_rwlock_wrlock(&quiet);
		check_once(&cs, false);
		count(&checks);
		pthread_rwlock_unlock(&quiet);
		if (now() - last >= 30) {
			last = now();
			ktap_diag("%.0f s: %lu writes, %lu reads, %lu checks, %lu unbinds",
				  last - t0, writes, reads, checks, rebinds);
		}
	}
	stop = 1;
	for (i = 0; i < threads; i++)
		pthread_join(fz[i], NULL);
	pthread_join(drv, NULL);
	pthread_join(irq, NULL);
	if (cli)
		pthread_join(cl, NULL);
	if (hotplug)
		pthread_join(hp, NULL);
	secs = now() - t0;

	ktap_diag("%lu writes (%lu taken), %lu opens for writing refused, %lu reads (%lu well formed) in %.1f s",
		  writes, write_ok, open_refused, reads, read_ok, secs);
	for (k = 0; k < NR_KINDS; k++) {
		char line[LINE];
		int l = 0;

		for (e = 0; e < 134; e++)
			if (errs[k][e])
				l += snprintf(line + l, sizeof(line) - l, " %s:%lu",
					      e ? strerrorname_np(e) : "?", errs[k][e]);
		if (l)
			ktap_diag("  %s errors:%s", kind_name[k], line);
	}
	ktap_diag("%lu unbinds, %lu affinity writes, %lu attach/detach writes, %lu CLI runs, %lu hotplugs",
		  rebinds, affinity_writes, attaches, cli_runs, hotplugs);
	ktap_diag("%lu checked moves deferred by the kernel (cpu, map and /proc/irq agree)",
		  deferred);
	for (i = 0; i < nr_bad; i++)
		ktap_diag("%s", bad[i]);
	ktap_result(!bad_writes && writes, "%lu fuzzed writes: each took its count or a documented error",
		    writes);
	ktap_result(!bad_reads && read_ok, "%lu reads: well formed, or the file had gone", reads);
	ktap_result(!bad_workers, "workers: binds, affinity writes, attach/detach, CLI as expected");
	/* The device back to normal: bound, up, attached, and one last check. */
	write_str("/sys/devices/system/cpu/cpu1/online", "1");
	i = check_once(&cs, true);
	snprintf(b, sizeof(b), "%lu", checks + 1);
	ktap_result(i && !bad_checks && checks,
		    "%s quiesced checks: valid writes read back, invalid ones change nothing, queues the device's",
		    b);
	ktap_finish();
}
