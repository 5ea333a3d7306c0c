/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinning a libvirt domain through libvirt's C API, so that libvirt's
 * cgroups and its live XML stay the truth: the domain's vCPU and emulator
 * pinning read (virDomainGetVcpuPinInfo, virDomainGetEmulatorPinInfo) and
 * set (virDomainPinVcpuFlags, virDomainPinEmulator) on the running domain
 * (VIR_DOMAIN_AFFECT_CURRENT, which is the live state of an active domain:
 * pst_lv_open() takes only active ones).
 */
#ifndef PISTEER_LVPIN_H
#define PISTEER_LVPIN_H

#include <stddef.h>

#include "cpus.h"

struct pst_lv;

/*
 * Connect to @uri (NULL: $LIBVIRT_DEFAULT_URI, else qemu:///system) and
 * look up the running domain @name.  NULL with @why on failure.
 */
struct pst_lv *pst_lv_open(const char *uri, const char *name, char *why, size_t whylen);
void pst_lv_close(struct pst_lv *lv);

/*
 * The live pinning: *@vcpus (free() it) gets *@nr entries, the CPUs of
 * vCPU 0, 1, ...; @emulator the emulator threads' CPUs.  0, or -1 with @why.
 */
int pst_lv_get_pins(struct pst_lv *lv, struct pst_cpus **vcpus, unsigned int *nr,
		    struct pst_cpus *emulator, char *why, size_t whylen);
/* Pin vCPU @vcpu of the running domain: 0, or -1 with @why. */
int pst_lv_pin_vcpu(struct pst_lv *lv, unsigned int vcpu, const struct pst_cpus *cpus,
		    char *why, size_t whylen);
/* Pin the emulator threads: 0, or -1 with @why. */
int pst_lv_pin_emulator(struct pst_lv *lv, const struct pst_cpus *cpus, char *why,
			size_t whylen);

/*
 * libvirt's cpumaps (CPU n = bit n % 8 of byte n / 8): @s into @len
 * bytes of @map (CPUs past them are dropped; returns how many), and back.
 */
unsigned int pst_lv_map_from_cpus(const struct pst_cpus *s, unsigned char *map, size_t len);
void pst_lv_map_to_cpus(const unsigned char *map, size_t len, struct pst_cpus *s);

#endif
