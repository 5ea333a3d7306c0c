// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning a libvirt domain through libvirt's C API (see lvpin.h).
 *
 * libvirt.so.0 is opened when a domain is, not linked: with its ~50
 * libraries it would double what the CLI needs everywhere else (the rig's
 * guests carry the CLI in their initramfs), and a host without libvirt
 * runs every other command.
 */
#include <dlfcn.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvpin.h"

/* The libvirt functions used, resolved once by load_libvirt(). */
static struct {
	__typeof__(virSetErrorFunc) *set_error_func;
	__typeof__(virGetLastErrorMessage) *last_error;
	__typeof__(virConnectOpen) *connect_open;
	__typeof__(virConnectClose) *connect_close;
	__typeof__(virNodeGetCPUMap) *node_cpumap;
	__typeof__(virDomainLookupByName) *lookup;
	__typeof__(virDomainIsActive) *is_active;
	__typeof__(virDomainFree) *dom_free;
	__typeof__(virDomainGetInfo) *get_info;
	__typeof__(virDomainGetVcpuPinInfo) *vcpu_pin_info;
	__typeof__(virDomainGetEmulatorPinInfo) *emulator_pin_info;
	__typeof__(virDomainPinVcpuFlags) *pin_vcpu;
	__typeof__(virDomainPinEmulator) *pin_emulator;
} lv_api;

#define LV_SYM(field, name)	{ (void **)&lv_api.field, #name }

/* Resolve libvirt's functions: 0, or -1 with @why. */
static int load_libvirt(char *why, size_t whylen)
{
	static const struct {
		void **slot;
		const char *name;
	} syms[] = {
		LV_SYM(set_error_func, virSetErrorFunc),
		LV_SYM(last_error, virGetLastErrorMessage),
		LV_SYM(connect_open, virConnectOpen),
		LV_SYM(connect_close, virConnectClose),
		LV_SYM(node_cpumap, virNodeGetCPUMap),
		LV_SYM(lookup, virDomainLookupByName),
		LV_SYM(is_active, virDomainIsActive),
		LV_SYM(dom_free, virDomainFree),
		LV_SYM(get_info, virDomainGetInfo),
		LV_SYM(vcpu_pin_info, virDomainGetVcpuPinInfo),
		LV_SYM(emulator_pin_info, virDomainGetEmulatorPinInfo),
		LV_SYM(pin_vcpu, virDomainPinVcpuFlags),
		LV_SYM(pin_emulator, virDomainPinEmulator),
	};
	static void *handle;
	size_t i;

	if (handle)
		return 0;
	handle = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(why, whylen, "--domain needs libvirt (libvirt0): %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(handle, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(why, whylen, "libvirt.so.0 has no %s", syms[i].name);
			dlclose(handle);
			handle = NULL;
			return -1;
		}
	}
	return 0;
}

struct pst_lv {
	virConnectPtr conn;
	virDomainPtr dom;
	char name[256];
	int maplen;		/* bytes of a cpumap for this host */
};

/* libvirt's errors go to @why, not to its default stderr printer. */
static void quiet_errors(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

static void lv_why(char *why, size_t whylen, const char *what)
{
	const char *msg = lv_api.last_error();

	snprintf(why, whylen, "%s: %s", what, msg && *msg ? msg : "unknown libvirt error");
}

unsigned int pst_lv_map_from_cpus(const struct pst_cpus *s, unsigned char *map, size_t len)
{
	unsigned int cpu, n = 0;

	memset(map, 0, len);
	for (cpu = 0; cpu < PST_MAX_CPUS && cpu / 8 < len; cpu++) {
		if (pst_cpus_test(s, cpu)) {
			map[cpu / 8] |= (unsigned char)(1U << (cpu % 8));
			n++;
		}
	}
	return n;
}

void pst_lv_map_to_cpus(const unsigned char *map, size_t len, struct pst_cpus *s)
{
	unsigned int cpu;

	pst_cpus_zero(s);
	for (cpu = 0; cpu < PST_MAX_CPUS && cpu / 8 < len; cpu++)
		if (map[cpu / 8] >> (cpu % 8) & 1)
			pst_cpus_set(s, cpu);
}

struct pst_lv *pst_lv_open(const char *uri, const char *name, char *why, size_t whylen)
{
	struct pst_lv *lv;
	int ncpus;

	if (load_libvirt(why, whylen))
		return NULL;
	if (!uri)
		uri = getenv("LIBVIRT_DEFAULT_URI");
	if (!uri || !*uri)
		uri = "qemu:///system";
	lv = calloc(1, sizeof(*lv));
	if (!lv) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(lv->name, sizeof(lv->name), "%s", name);
	lv_api.set_error_func(NULL, quiet_errors);
	lv->conn = lv_api.connect_open(uri);
	if (!lv->conn) {
		lv_why(why, whylen, uri);
		free(lv);
		return NULL;
	}
	lv->dom = lv_api.lookup(lv->conn, name);
	if (!lv->dom) {
		lv_why(why, whylen, name);
		goto fail;
	}
	if (lv_api.is_active(lv->dom) != 1) {
		snprintf(why, whylen, "libvirt domain %s is not running", name);
		goto fail;
	}
	ncpus = lv_api.node_cpumap(lv->conn, NULL, NULL, 0);
	if (ncpus <= 0) {
		lv_why(why, whylen, "the host's CPUs");
		goto fail;
	}
	lv->maplen = VIR_CPU_MAPLEN(ncpus);
	return lv;
fail:
	pst_lv_close(lv);
	return NULL;
}

void pst_lv_close(struct pst_lv *lv)
{
	if (!lv)
		return;
	if (lv->dom)
		lv_api.dom_free(lv->dom);
	if (lv->conn)
		lv_api.connect_close(lv->conn);
	free(lv);
}

int pst_lv_get_pins(struct pst_lv *lv, struct pst_cpus **vcpus, unsigned int *nr,
		    struct pst_cpus *emulator, char *why, size_t whylen)
{
	size_t ml = (size_t)lv->maplen;
	unsigned char *maps;
	virDomainInfo info;
	int n, i;

	*vcpus = NULL;
	*nr = 0;
	if (lv_api.get_info(lv->dom, &info) < 0) {
		lv_why(why, whylen, lv->name);
		return -1;
	}
	maps = calloc(info.nrVirtCpu ? info.nrVirtCpu : 1, ml);
	*vcpus = calloc(info.nrVirtCpu ? info.nrVirtCpu : 1, sizeof(**vcpus));
	if (!maps || !*vcpus) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	n = lv_api.vcpu_pin_info(lv->dom, (int)info.nrVirtCpu, maps, lv->maplen,
				    VIR_DOMAIN_AFFECT_CURRENT);
	if (n < 0) {
		lv_why(why, whylen, "virDomainGetVcpuPinInfo");
		goto fail;
	}
	for (i = 0; i < n; i++)
		pst_lv_map_to_cpus(maps + (size_t)i * ml, ml, &(*vcpus)[i]);
	if (lv_api.emulator_pin_info(lv->dom, maps, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT) < 0) {
		lv_why(why, whylen, "virDomainGetEmulatorPinInfo");
		goto fail;
	}
	pst_lv_map_to_cpus(maps, ml, emulator);
	free(maps);
	*nr = (unsigned int)n;
	return 0;
fail:
	free(maps);
	free(*vcpus);
	*vcpus = NULL;
	return -1;
}

/* @cpus as a cpumap of this host: NULL with @why when none of them fits. */
static unsigned char *host_map(struct pst_lv *lv, const struct pst_cpus *cpus, char *why,
			       size_t whylen)
{
	unsigned char *map = calloc(1, (size_t)lv->maplen);

	if (!map) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (pst_lv_map_from_cpus(cpus, map, (size_t)lv->maplen) != pst_cpus_count(cpus) ||
	    !pst_cpus_count(cpus)) {
		snprintf(why, whylen, "CPUs outside the host's %d", lv->maplen * 8);
		free(map);
		return NULL;
	}
	return map;
}

int pst_lv_pin_vcpu(struct pst_lv *lv, unsigned int vcpu, const struct pst_cpus *cpus,
		    char *why, size_t whylen)
{
	unsigned char *map = host_map(lv, cpus, why, whylen);
	char what[64];
	int rc;

	if (!map)
		return -1;
	rc = lv_api.pin_vcpu(lv->dom, vcpu, map, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT);
	if (rc < 0) {
		snprintf(what, sizeof(what), "virDomainPinVcpuFlags vCPU %u", vcpu);
		lv_why(why, whylen, what);
	}
	free(map);
	return rc < 0 ? -1 : 0;
}

int pst_lv_pin_emulator(struct pst_lv *lv, const struct pst_cpus *cpus, char *why,
			size_t whylen)
{
	unsigned char *map = host_map(lv, cpus, why, whylen);
	int rc;

	if (!map)
		return -1;
	rc = lv_api.pin_emulator(lv->dom, map, lv->maplen, VIR_DOMAIN_AFFECT_CURRENT);
	if (rc < 0)
		lv_why(why, whylen, "virDomainPinEmulator");
	free(map);
	return rc < 0 ? -1 : 0;
}
