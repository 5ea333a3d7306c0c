/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What pisteer pin and isolate changed, kept so that --undo restores it
 * exactly: one JSON file per pinned VM (pin-PID.json) and one for isolate
 * (isolate.json) in $PISTEER_STATE_DIR, default /run/pisteer.  Written to
 * a temporary file and renamed, so a file is there whole or not at all.
 */
#ifndef PISTEER_STATE_H
#define PISTEER_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "cpus.h"

const char *pst_state_dir(void);

struct pst_pin_thread {
	int tid;
	int vcpu;			/* -1: emulator thread */
	struct pst_cpus prev;		/* affinity before pin */
	struct pst_cpus cpus;		/* affinity pin set */
};

struct pst_pin_state {
	int pid;
	unsigned long long start;	/* /proc/PID/stat starttime: pid reuse */
	bool steer;			/* pin set the module's follow policy */
	/*
	 * The libvirt domain pinned through libvirt ("" for none): --undo
	 * restores its pinning through libvirt, with the vCPU entries' prev
	 * and the emulator entries' prev (libvirt's emulatorpin).
	 */
	char domain[256];
	unsigned int nr;
	struct pst_pin_thread *t;
};

/* Paths: "DIR/pin-PID.json", "DIR/isolate.json". */
void pst_pin_state_path(int pid, char *buf, size_t len);
void pst_isolate_state_path(char *buf, size_t len);

/* 0 or -errno (with a message on stderr). */
int pst_pin_state_save(const struct pst_pin_state *st);
/* Load @path into @st (free with pst_pin_state_free): 0 or -errno/-EINVAL. */
int pst_pin_state_load(const char *path, struct pst_pin_state *st);
void pst_pin_state_free(struct pst_pin_state *st);

/*
 * The pids with a pin state file, in *@pids (free() it).  Returns how many,
 * or -errno.
 */
int pst_pin_state_list(int **pids);

struct pst_irq_change {
	unsigned int irq;
	struct pst_cpus prev;		/* smp_affinity_list before */
	struct pst_cpus set;		/* what isolate wrote */
};

struct pst_isolate_state {
	struct pst_cpus cpus;		/* isolated */
	struct pst_cpus housekeeping;
	unsigned int nr;
	struct pst_irq_change *irq;
};

int pst_isolate_state_save(const struct pst_isolate_state *st);
int pst_isolate_state_load(const char *path, struct pst_isolate_state *st);

/* Write @doc to @path through a temporary file and rename(): 0 or -errno. */
int pst_state_write(const char *path, const char *doc);

#endif
