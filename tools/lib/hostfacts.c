// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfacts.h"
#include "irqs.h"
#include "sysfile.h"

/*
 * Posting capability bits: VT-d's capability register bit 59 (PI,
 * cap_pi_support() in drivers/iommu/intel/iommu.h), AMD's extended
 * feature register bit 7 (GASup, FEATURE_GA in amd_iommu_types.h).
 */
#define VTD_CAP_PI_BIT	59
#define AMD_EFR_GA_BIT	7

/* One IOMMU: can it post?  1, 0, or -1 when its registers are unreadable. */
static int iommu_can_post(const char *name, bool intel)
{
	char path[256], buf[64];
	unsigned long long reg;

	snprintf(path, sizeof(path), "/sys/class/iommu/%s/%s", name,
		 intel ? "intel-iommu/cap" : "amd-iommu/features");
	/* AMD: "efr" or, from 6.x, "efr:efr2". */
	if (pst_read_line(path, buf, sizeof(buf)) || sscanf(buf, "%llx", &reg) != 1)
		return -1;
	return (int)(reg >> (intel ? VTD_CAP_PI_BIT : AMD_EFR_GA_BIT) & 1);
}

void pst_iommu_read(struct pst_iommu *io)
{
	char cmdline[4096] = "";
	const char *no = NULL;
	struct dirent *de;
	bool intel;
	int post;
	DIR *d;

	memset(io, 0, sizeof(*io));
	io->can_post = -1;
	d = opendir("/sys/class/iommu");
	if (!d) {
		snprintf(io->post_why, sizeof(io->post_why), "no /sys/class/iommu");
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		intel = !strncmp(de->d_name, "dmar", 4);
		io->intel |= intel;
		io->amd |= !strncmp(de->d_name, "ivhd", 4);
		if (strlen(io->names) + strlen(de->d_name) + 2 < sizeof(io->names))
			snprintf(io->names + strlen(io->names), sizeof(io->names) - strlen(io->names),
				 "%s%s", io->nr ? " " : "", de->d_name);
		io->nr++;
		post = iommu_can_post(de->d_name, intel);
		if (post == 0 || io->can_post == -1 || (io->can_post == 1 && post < 0)) {
			io->can_post = post;
			if (post <= 0)
				snprintf(io->post_why, sizeof(io->post_why), "%.32s: %s", de->d_name,
					 post < 0 ? "capability registers unreadable" : intel ?
					 "VT-d capability PI (posted interrupts) is 0" :
					 "AMD-Vi feature GASup (guest virtual APIC) is 0");
		}
		if (!post)
			break;
	}
	closedir(d);
	if (!io->nr) {
		snprintf(io->post_why, sizeof(io->post_why), "no IOMMU in /sys/class/iommu");
		return;
	}
	/* The hardware can, the kernel may have been told not to. */
	pst_cmdline_read(cmdline, sizeof(cmdline));
	if (io->intel && pst_cmdline_has(cmdline, "intremap", "nopost"))
		no = "intremap=nopost";
	else if (io->amd && pst_cmdline_has(cmdline, "amd_iommu_intr", "legacy"))
		no = "amd_iommu_intr=legacy";
	if (no && io->can_post) {
		io->can_post = 0;
		snprintf(io->post_why, sizeof(io->post_why), "%s on the kernel command line", no);
	} else if (io->can_post == 1) {
		snprintf(io->post_why, sizeof(io->post_why), "%s", io->intel ?
			 "VT-d capability PI" : "AMD-Vi feature GASup");
	}
}

int pst_cmdline_read(char *buf, size_t len)
{
	return pst_read_line("/proc/cmdline", buf, len);
}

bool pst_cmdline_has(const char *cmdline, const char *name, const char *opt)
{
	char word[512], *save, *v;
	size_t nl = strlen(name), wl;
	const char *p = cmdline;

	for (; *p; p += wl) {
		p += strspn(p, " ");
		wl = strcspn(p, " ");
		if (!wl || wl >= sizeof(word))
			continue;
		memcpy(word, p, wl);
		word[wl] = '\0';
		if (strncmp(word, name, nl) != 0 || (word[nl] != '=' && word[nl]))
			continue;
		if (!opt)
			return true;
		if (!word[nl])
			continue;
		for (v = strtok_r(word + nl + 1, ",", &save); v; v = strtok_r(NULL, ",", &save))
			if (!strcmp(v, opt))
				return true;
	}
	return false;
}

void pst_kvm_apicv_read(struct pst_kvm_apicv *k)
{
	static const struct { const char *module, *param; } vendors[] = {
		{ "kvm_intel", "enable_apicv" },
		{ "kvm_amd", "avic" },
	};
	char path[128];
	size_t i;

	memset(k, 0, sizeof(*k));
	k->on = -1;
	for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", vendors[i].module);
		if (access(path, F_OK))
			continue;
		k->module = vendors[i].module;
		k->param = vendors[i].param;
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", k->module, k->param);
		if (!pst_read_line(path, k->value, sizeof(k->value)))
			k->on = k->value[0] == 'Y' || k->value[0] == '1';
		return;
	}
}

void pst_kvm_apicv_fix(const struct pst_kvm_apicv *k, char *buf, size_t len)
{
	if (!k->module)
		snprintf(buf, len, "modprobe kvm_intel enable_apicv=1 (Intel) or modprobe kvm_amd avic=1 (AMD)");
	else
		snprintf(buf, len, "modprobe -r %s && modprobe %s %s=1", k->module, k->module,
			 k->param);
}

void pst_cpu_vendor(char *buf, size_t len)
{
	char line[256];
	FILE *f;

	buf[0] = '\0';
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "vendor_id : %255s", line) == 1) {
			snprintf(buf, len, "%s", line);
			break;
		}
	}
	fclose(f);
}

/* "A,B" hex words, highest first: irqbalance's IRQBALANCE_BANNED_CPUS. */
static int parse_mask(const char *s, struct pst_cpus *set)
{
	unsigned int bit = 0;
	const char *p;
	int v;

	pst_cpus_zero(set);
	for (p = s + strlen(s); p > s;) {
		p--;
		if (*p == ',')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			v = (*p | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		for (int b = 0; b < 4; b++, bit++)
			if (v >> b & 1)
				pst_cpus_set(set, bit);
	}
	return 0;
}

/* NAME=VALUE (quotes dropped) into @set: true when it was a ban. */
static bool ban_setting(const char *kv, struct pst_cpus *set)
{
	char val[4096], why[128];
	size_t n;

	if (!strncmp(kv, "IRQBALANCE_BANNED_CPULIST=", 26)) {
		snprintf(val, sizeof(val), "%s", kv + 26 + (kv[26] == '"'));
		n = strlen(val);
		if (n && val[n - 1] == '"')
			val[n - 1] = '\0';
		return !pst_cpus_parse(val, true, set, why, sizeof(why));
	}
	if (!strncmp(kv, "IRQBALANCE_BANNED_CPUS=", 23)) {
		snprintf(val, sizeof(val), "%s", kv + 23 + (kv[23] == '"'));
		n = strlen(val);
		if (n && val[n - 1] == '"')
			val[n - 1] = '\0';
		return !parse_mask(val, set);
	}
	return false;
}

/* NUL-separated strings of /proc/PID/@what: a malloc'ed buffer and its size. */
static char *proc_strings(int pid, const char *what, size_t *len)
{
	char path[64], *buf = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			char *g = realloc(buf, cap + 8192);

			if (!g)
				break;
			buf = g;
			cap += 8192;
		}
		size_t n = fread(buf + *len, 1, 4096, f);

		*len += n;
		if (!n)
			break;
	}
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static void add_banirq(struct pst_irqbalance *ib, const char *s)
{
	char *end;
	unsigned long irq = strtoul(s, &end, 10);

	if (*s && !*end && ib->nr_banirq < PST_MAX_BANIRQ)
		ib->banirq[ib->nr_banirq++] = (unsigned int)irq;
}

void pst_irqbalance_read(const char *defaults, struct pst_irqbalance *ib)
{
	char line[4096], *buf, *p, *prev = NULL;
	size_t len;
	FILE *f;

	memset(ib, 0, sizeof(*ib));
	f = fopen(defaults, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		p = line + strspn(line, " \t");
		if (!strncmp(p, "export ", 7))
			p += 7;
		if (ban_setting(p, &ib->file_banned))
			ib->file_has_banned = true;
	}
	if (f)
		fclose(f);
	ib->pid = pst_find_process("irqbalance");
	if (!ib->pid)
		return;
	/* What the running one was started with: its environment, its arguments. */
	buf = proc_strings(ib->pid, "environ", &len);
	for (p = buf; p && p < buf + len; p += strlen(p) + 1)
		if (ban_setting(p, &ib->banned))
			ib->has_banned = true;
	free(buf);
	buf = proc_strings(ib->pid, "cmdline", &len);
	for (p = buf; p && p < buf + len; prev = p, p += strlen(p) + 1) {
		if (!strncmp(p, "--banirq=", 9))
			add_banirq(ib, p + 9);
		else if (prev && (!strcmp(prev, "--banirq") || !strcmp(prev, "-i")))
			add_banirq(ib, p);
	}
	free(buf);
}

bool pst_irqbalance_bans_irq(const struct pst_irqbalance *ib, unsigned int irq)
{
	unsigned int i;

	for (i = 0; i < ib->nr_banirq; i++)
		if (ib->banirq[i] == irq)
			return true;
	return false;
}
