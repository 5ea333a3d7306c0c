// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pisteer_dev.h"

const char *pst_dev_path(void)
{
	const char *p = getenv("PISTEER_DEV");

	return p && *p ? p : "/dev/" PISTEER_DEVICE_NAME;
}

int pst_exit_for(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return PST_EXIT_NO_MODULE;
	case EACCES:
	case EPERM:
		return PST_EXIT_PERM;
	case EPROTO:
		return PST_EXIT_ABI;
	default:
		return PST_EXIT_FAIL;
	}
}

/* Every ioctl of the module goes through here: 0 or -errno. */
static int dev_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int pst_dev_open_quiet(void)
{
	int fd = open(pst_dev_path(), O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pst_dev_open(void)
{
	const char *path = pst_dev_path();
	int fd, err;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	switch (pst_exit_for(err)) {
	case PST_EXIT_NO_MODULE:
		fprintf(stderr,
			"pisteer: %s: %s: the pisteer module is not loaded (insmod pisteer.ko)\n",
			path, strerror(err));
		break;
	case PST_EXIT_PERM:
		fprintf(stderr,
			"pisteer: %s: %s: run as root (CAP_SYS_ADMIN is required)\n",
			path, strerror(err));
		break;
	default:
		fprintf(stderr, "pisteer: %s: %s\n", path, strerror(err));
	}
	return -err;
}

int pst_query_version(int fd, struct pisteer_version *ver)
{
	struct pisteer_version v;

	int err;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	err = dev_ioctl(fd, PISTEER_IOC_VERSION, &v);
	if (err)
		return err;
	if (v.size < PISTEER_VERSION_SIZE_VER0 || v.size > sizeof(v))
		return -EPROTO;
	/* Whatever an older module did not fill in reads as zero. */
	memset((char *)&v + v.size, 0, sizeof(v) - v.size);
	v.release[sizeof(v.release) - 1] = '\0';
	v.kernel[sizeof(v.kernel) - 1] = '\0';
	*ver = v;
	return 0;
}

int pst_parse_bdf(const char *s, struct pst_bdf *bdf)
{
	unsigned int seg = 0, bus, dev, fn;
	int end = -1;

	/* Hex digits and separators only: scanf alone would take "0x". */
	if (!*s || s[strspn(s, "0123456789abcdefABCDEF:.")])
		return -EINVAL;
	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bus, &dev, &fn, &end) != 4 ||
	    s[end]) {
		seg = 0;
		end = -1;
		if (sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &end) != 3 || s[end])
			return -EINVAL;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	bdf->seg = seg;
	bdf->bus = bus;
	bdf->devfn = (dev << 3) | fn;
	return 0;
}

void pst_format_bdf(unsigned int seg, unsigned int bus, unsigned int devfn,
		    char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", seg, bus, devfn >> 3, devfn & 7);
}

static bool cpu_set(const __u64 *words, unsigned int cpu)
{
	return words[cpu / 64] >> (cpu % 64) & 1;
}

void pst_format_cpulist(const __u64 *words, unsigned int nr_words, char *buf,
			size_t len)
{
	unsigned int cpu = 0, last, max = nr_words * 64;
	size_t off = 0;

	buf[0] = '\0';
	while (cpu < max && off < len) {
		if (!cpu_set(words, cpu)) {
			cpu++;
			continue;
		}
		last = cpu;
		while (last + 1 < max && cpu_set(words, last + 1))
			last++;
		if (last == cpu)
			off += snprintf(buf + off, len - off, "%s%u", off ? "," : "", cpu);
		else
			off += snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "",
					cpu, last);
		cpu = last + 1;
	}
	if (!off)
		snprintf(buf, len, "-");
}

const char *pst_mode_name(unsigned int mode)
{
	switch (mode) {
	case PISTEER_MODE_REMAPPED:
		return "remapped";
	case PISTEER_MODE_POSTED:
		return "posted";
	default:
		return "unknown";
	}
}

const char *pst_reason_name(unsigned int reason)
{
	switch (reason) {
	case PISTEER_REASON_NONE:
		return "";
	case PISTEER_REASON_NO_APICV:
		return "no APICv/AVIC";
	case PISTEER_REASON_APICV_INHIBITED:
		return "APICv inhibited";
	case PISTEER_REASON_NOT_SINGLE_DEST:
		return "guest MSI not single-destination";
	case PISTEER_REASON_IOMMU_NO_POSTING:
		return "IOMMU cannot post";
	case PISTEER_REASON_NOT_PAIRED:
		return "not paired";
	case PISTEER_REASON_NOT_MSI_ROUTE:
		return "GSI not routed as MSI";
	case PISTEER_REASON_NOT_POSTABLE:
		return "delivery mode not postable";
	case PISTEER_REASON_APICV_UNKNOWN:
		return "APICv state unknown";
	case PISTEER_REASON_TARGET_UNKNOWN:
		return "target vCPU unknown";
	default:
		return "unknown reason";
	}
}

const char *pst_target_how_name(unsigned int how)
{
	switch (how) {
	case PISTEER_TARGET_BY_APIC_ID:
		return "apic_id";
	case PISTEER_TARGET_BY_X2APIC_LDR:
		return "x2apic_ldr";
	case PISTEER_TARGET_BY_VECTOR_HASH:
		return "vector_hash";
	default:
		return NULL;
	}
}

const char *pst_target_unknown_text(unsigned int why)
{
	switch (why) {
	case PISTEER_TARGET_UNK_XAPIC_LOGICAL:
		return "xAPIC logical destination: the guest-written LDR/DFR is KVM-private";
	default:
		return "not known";
	}
}

static const struct {
	const char *name;
	const char *what;
} host_features[PISTEER_HOST_NR] = {
	[PISTEER_HOST_VM_FILES] = { "vm_files", "VMs found by their kvm-vm files" },
	[PISTEER_HOST_EVENT_PROBES] = { "event_probes",
		"rescans on kvm_irqfd, kvm_set_irq_routing, kvm_irqfd_release, vfio_pci_set_irqs_ioctl" },
	[PISTEER_HOST_IRTE_PROBE] = { "irte_probe",
		"posting requests seen at irq_set_vcpu_affinity" },
	[PISTEER_HOST_GA_PROBE] = { "ga_probe", "AMD IsRun/doorbell at amd_iommu_update_ga" },
	[PISTEER_HOST_PI_IRTE_TP] = { "pi_irte_tp",
		"IRTE changes confirmed by kvm:kvm_pi_irte_update (6.17+)" },
	[PISTEER_HOST_APICV_PARAM] = { "apicv_param",
		"APICv/AVIC state from kvm_intel enable_apicv / kvm_amd avic" },
	[PISTEER_HOST_LAT_PROBES] = { "lat_probes",
		"latency probes on vfio_msihandler and the vendor's vcpu_run" },
};

const char *pst_host_feature_name(unsigned int feat)
{
	return feat < PISTEER_HOST_NR ? host_features[feat].name : "?";
}

const char *pst_host_feature_what(unsigned int feat)
{
	return feat < PISTEER_HOST_NR ? host_features[feat].what : "?";
}

/* Why a host feature is not in use, from the errno the module gave. */
const char *pst_host_feature_why(int err)
{
	switch (-err) {
	case 0:
		return "active";
	case ENOENT:
		return "not on this kernel (symbol or tracepoint absent or not exported)";
	case EOPNOTSUPP:
		return "does not apply to this kernel or CPU";
	case ENODATA:
		return "not known yet (needs a VM, or sampling enabled)";
	default:
		return strerror(-err);
	}
}

const char *pst_policy_name(unsigned int policy)
{
	switch (policy) {
	case PISTEER_POLICY_OFF:
		return "off";
	case PISTEER_POLICY_FOLLOW:
		return "follow";
	case PISTEER_POLICY_STATIC:
		return "static";
	case PISTEER_POLICY_HOUSEKEEPING:
		return "housekeeping";
	case PISTEER_POLICY_AUTO:
		return "auto";
	default:
		return "none";
	}
}

const char *pst_why_name(unsigned int why)
{
	switch (why) {
	case PISTEER_WHY_POSTED:
		return "posted";
	case PISTEER_WHY_NO_APICV:
		return "no_apicv";
	case PISTEER_WHY_APICV_REMAPPED:
		return "apicv_remapped";
	case PISTEER_WHY_MODE_UNKNOWN:
		return "mode_unknown";
	default:
		return "none";
	}
}

const char *pst_why_text(unsigned int why)
{
	switch (why) {
	case PISTEER_WHY_POSTED:
		return "the vector is posted: host IRQ affinity does not matter";
	case PISTEER_WHY_NO_APICV:
		return "no APICv/AVIC on the host: the injection exits anyway, so take the host IRQ on the vCPU's CPU";
	case PISTEER_WHY_APICV_REMAPPED:
		return "APICv on but the vector is remapped: a housekeeping CPU posts the notification without a VM exit";
	case PISTEER_WHY_MODE_UNKNOWN:
		return "the delivery mode is unknown: left alone";
	default:
		return "";
	}
}

/* A pst_filter into a list or lat-read request: the same fields in both. */
#define FILTER_TO(req, f) do {						\
	if ((f)->pid) {							\
		(req)->flags |= PISTEER_LIST_F_PID;			\
		(req)->pid = (f)->pid;					\
	}								\
	if ((f)->has_bdf) {						\
		(req)->flags |= PISTEER_LIST_F_PCI;			\
		(req)->pci_seg = (f)->bdf.seg;				\
		(req)->pci_bus = (__u8)(f)->bdf.bus;			\
		(req)->pci_devfn = (__u8)(f)->bdf.devfn;		\
	}								\
} while (0)

/*
 * Ask with room for 16 entries of @esize, and again with more while the
 * module answers -ENOSPC with the count it needs (entries can appear
 * between two asks).  @ask fills and sends one request; on 0 or -ENOSPC
 * it sets *@count to the entries written or needed.
 */
typedef int (*pst_ask_fn)(void *ctx, void *buf, unsigned int cap, unsigned int *count);

static int grow_until_fits(size_t esize, pst_ask_fn ask, void *ctx, void **out,
			   unsigned int *nr)
{
	unsigned int cap = 16, count = 0;
	void *buf = NULL, *n;
	int err;

	for (;;) {
		n = realloc(buf, cap * esize);
		if (!n) {
			free(buf);
			return -ENOMEM;
		}
		buf = n;
		memset(buf, 0, cap * esize);
		err = ask(ctx, buf, cap, &count);
		if (!err)
			break;
		if (err != -ENOSPC || count <= cap) {
			free(buf);
			return err;
		}
		cap = count + 16;	/* more may appear before the retry */
	}
	*out = buf;
	*nr = count;
	return 0;
}

struct list_ask {
	int fd;
	const struct pst_filter *f;
	struct pisteer_lat_read *hdr;	/* the lat read's header */
};

static int ask_list(void *ctx, void *buf, unsigned int cap, unsigned int *count)
{
	const struct list_ask *a = ctx;
	struct pisteer_list_vectors req = {
		.size = sizeof(req),
		.entry_size = sizeof(struct pisteer_vector),
		.count = cap,
		.entries = (uintptr_t)buf,
	};
	int err;

	FILTER_TO(&req, a->f);
	err = dev_ioctl(a->fd, PISTEER_IOC_LIST_VECTORS, &req);
	*count = req.count;
	return err;
}

int pst_list_vectors(int fd, const struct pst_filter *f,
		     struct pisteer_vector **vecs, unsigned int *nr)
{
	struct list_ask a = { .fd = fd, .f = f };
	void *buf;
	int err;

	err = grow_until_fits(sizeof(**vecs), ask_list, &a, &buf, nr);
	if (!err)
		*vecs = buf;
	return err;
}

int pst_check_abi(const struct pisteer_version *ver)
{
	return ver->abi_major == PISTEER_ABI_MAJOR ? 0 : -EPROTO;
}

int pst_dev_open_checked(struct pisteer_version *ver)
{
	struct pisteer_version v;
	int fd, err;

	fd = pst_dev_open();
	if (fd < 0)
		return fd;
	err = pst_query_version(fd, &v);
	if (err) {
		fprintf(stderr, "pisteer: %s: version query: %s%s\n", pst_dev_path(),
			strerror(-err), err == -ENOTTY ? " (not the pisteer module?)" : "");
	} else if (pst_check_abi(&v)) {
		fprintf(stderr, "pisteer: module ABI %u.%u, this tool speaks %d.x\n",
			v.abi_major, v.abi_minor, PISTEER_ABI_MAJOR);
		err = -EPROTO;
	}
	if (err) {
		close(fd);
		return err;
	}
	if (ver)
		*ver = v;
	return fd;
}

int pst_dev_set_policy(int fd, const struct pisteer_policy *p)
{
	return dev_ioctl(fd, PISTEER_IOC_SET_POLICY, (void *)p);
}

int pst_dev_lat_ctl(int fd, const struct pisteer_lat_ctl *c)
{
	return dev_ioctl(fd, PISTEER_IOC_LAT_CTL, (void *)c);
}

int pst_dev_lat_read(int fd, struct pisteer_lat_read *r)
{
	return dev_ioctl(fd, PISTEER_IOC_LAT_READ, r);
}

static int ask_lat(void *ctx, void *buf, unsigned int cap, unsigned int *count)
{
	const struct list_ask *a = ctx;
	struct pisteer_lat_read r = {
		.size = sizeof(r),
		.entry_size = sizeof(struct pisteer_lat_vector),
		.count = cap,
		.entries = (uintptr_t)buf,
	};
	int err;

	FILTER_TO(&r, a->f);
	err = pst_dev_lat_read(a->fd, &r);
	*count = r.count;
	if (!err)
		*a->hdr = r;
	return err;
}

int pst_lat_read(int fd, const struct pst_filter *f, struct pisteer_lat_read *hdr,
		 struct pisteer_lat_vector **vecs, unsigned int *nr)
{
	struct list_ask a = { .fd = fd, .f = f, .hdr = hdr };
	void *buf;
	int err;

	err = grow_until_fits(sizeof(**vecs), ask_lat, &a, &buf, nr);
	if (!err)
		*vecs = buf;
	return err;
}
