// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgcpuset.h"

/* Mount point of the v1 hierarchy with cpuset (@v2 false) or of cgroup2. */
static int mount_of(const char *mounts_file, bool v2, char *dir, size_t len)
{
	struct mntent *m;
	FILE *f;
	int rc = -ENOENT;

	f = setmntent(mounts_file, "re");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (v2 ? !strcmp(m->mnt_type, "cgroup2") :
			 !strcmp(m->mnt_type, "cgroup") && hasmntopt(m, "cpuset")) {
			snprintf(dir, len, "%s", m->mnt_dir);
			rc = 0;
			break;
		}
	}
	endmntent(f);
	return rc;
}

/*
 * The nearest of @path and its ancestors under @mnt that has @name: a v2
 * cgroup without the cpuset controller enabled has no cpuset files and
 * gets its CPUs from above.
 */
static int read_up(const char *mnt, const char *path, const char *name,
		   struct pst_cg_cpuset *cg)
{
	char p[512];
	char *slash;
	int rc;

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		snprintf(cg->file, sizeof(cg->file), "%s%s%s/%s", mnt,
			 p[0] == '/' ? "" : "/", strcmp(p, "/") ? p : "", name);
		rc = pst_cpus_read_file(cg->file, &cg->allowed);
		if (rc != -ENOENT)
			return rc;
		slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (!strcmp(p, "/"))
				return -ENOENT;
			snprintf(p, sizeof(p), "/");
			continue;
		}
		*slash = '\0';
	}
}

int pst_cg_cpuset_of(const char *cgroup_file, const char *mounts_file,
		     struct pst_cg_cpuset *cg)
{
	char line[1024], v1[512] = "", v2[512] = "", mnt[512];
	bool has_v1 = false, has_v2 = false;
	FILE *f;
	int rc;

	memset(cg, 0, sizeof(*cg));
	f = fopen(cgroup_file, "re");
	if (!f)
		return -errno;
	/* "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *ctl, *tok, *save = NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		ctl = c1 + 1;
		if (!*ctl && !strcmp(line, "0:")) {
			snprintf(v2, sizeof(v2), "%s", c2 + 1);
			has_v2 = true;
			continue;
		}
		for (tok = strtok_r(ctl, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, "cpuset")) {
				snprintf(v1, sizeof(v1), "%s", c2 + 1);
				has_v1 = true;
			}
		}
	}
	fclose(f);
	/* cpuset is in one hierarchy only: v1 if mounted there, else v2. */
	if (has_v1 && !mount_of(mounts_file, false, mnt, sizeof(mnt))) {
		snprintf(cg->cgroup, sizeof(cg->cgroup), "%s", v1);
		rc = read_up(mnt, v1, "cpuset.effective_cpus", cg);
		if (rc == -ENOENT)
			rc = read_up(mnt, v1, "cpuset.cpus", cg);
	} else if (has_v2 && !mount_of(mounts_file, true, mnt, sizeof(mnt))) {
		snprintf(cg->cgroup, sizeof(cg->cgroup), "%s", v2);
		rc = read_up(mnt, v2, "cpuset.cpus.effective", cg);
	} else {
		return 0;
	}
	if (rc == -ENOENT)
		return 0;	/* no cpuset files anywhere: not restricted */
	if (rc)
		return rc;
	cg->restricted = true;
	return 0;
}

int pst_cg_cpuset_of_tid(int pid, int tid, struct pst_cg_cpuset *cg)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	return pst_cg_cpuset_of(path, "/proc/self/mounts", cg);
}

bool pst_cg_refuses(const struct pst_cg_cpuset *cg, const struct pst_cpus *target,
		    int vcpu, int tid, char *msg, size_t len)
{
	char want[256], have[256], who[64], fix[320];

	if (!cg->restricted || pst_cpus_subset(target, &cg->allowed))
		return false;
	pst_cpus_format(target, want, sizeof(want));
	pst_cpus_format(&cg->allowed, have, sizeof(have));
	if (vcpu >= 0) {
		snprintf(who, sizeof(who), "vCPU %d (thread %d)", vcpu, tid);
		snprintf(fix, sizeof(fix), "virsh vcpupin DOMAIN %d %s", vcpu, want);
	} else {
		snprintf(who, sizeof(who), "emulator thread %d", tid);
		snprintf(fix, sizeof(fix), "virsh emulatorpin DOMAIN %s", want);
	}
	snprintf(msg, len,
		 "%s cannot go to CPU %s: its cpuset cgroup %s allows only CPUs %s (%s). Under libvirt that cgroup is libvirt's: run '%s' instead (it moves the cgroup and the thread), or widen the cgroup's cpuset.cpus",
		 who, want, cg->cgroup, have, cg->file, fix);
	return true;
}
