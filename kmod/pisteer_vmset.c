// SPDX-License-Identifier: GPL-2.0
/*
 * The VM set: which KVM VMs the host has, learnt from events.
 *
 * A VM is known by a key: its owner (pid and start time), the fd of its
 * VM file there, and its struct kvm, compared only, never followed: no
 * reference is kept between scans.  Each scan takes its references anew
 * by looking up each key's fd in its owner's fd table (one lookup per VM).
 *
 * Finding VMs from nothing means visiting every open file of every
 * process (vm_collect()).  That walk runs once after load, and after that
 * only as a fallback.  Everything that can make a VM matter to pisteer
 * passes through a function the events probe, in the process of the VMM
 * (KVM_IRQFD, KVM_SET_GSI_ROUTING, VFIO_DEVICE_SET_IRQS): their handlers
 * note that process, and the next scan visits only its fds.  The VM
 * file's release (kvm_irqfd_release()) is noted with the struct kvm, so
 * a key whose fd is gone is dropped when its VM was released.  The
 * fallback walk runs when what the events said cannot be trusted:
 *  - load, or a probed module (kvm, vfio_pci_core) came up since;
 *  - an event probe is absent or missed a hit;
 *  - more processes or releases were noted than fit in between scans;
 *  - a known VM's fd is gone but its VM was not released (the file was
 *    passed on or duplicated elsewhere, or a release is still on its way).
 * It is preemptible: one process at a time with nothing held across them.
 * The set is kept under the scan lock of pisteer_discover.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>

#include "pisteer.h"

#define NOTE_MAX	64	/* processes and releases noted between scans */

struct vm_key {
	const void *kvm;	/* compared only */
	pid_t pid;
	unsigned int fd;
	u64 start;
};

/* What the event handlers noted since the last scan (note_lock). */
struct vm_notes {
	pid_t pids[NOTE_MAX];
	const void *released[NOTE_MAX];
	unsigned int nr_pids, nr_released;
	bool overflow;
	bool walk;
};

static DEFINE_RAW_SPINLOCK(note_lock);
static struct vm_notes notes = { .walk = true };

/* The known VMs: under the scan lock. */
static struct vm_key *known;
static unsigned int nr_known;
static u64 last_missed;

/* Scans by how they found the VMs, and why they walked. */
enum { W_LOAD, W_EVENTS, W_OVERFLOW, W_MOVED, NR_WHY };
static const char *const why_name[NR_WHY] = {
	"walk_load", "walk_events_unsure", "walk_overflow", "walk_fd_moved",
};

static atomic64_t nr_why[NR_WHY];
static atomic64_t nr_walks, nr_reuses, walk_ns, reuse_ns;

/**
 * pisteer_vmset_note_current() - the current process changed something
 *	of a VM or of a VFIO device (an event probe's handler)
 *
 * Context: any but NMI.
 */
void pisteer_vmset_note_current(void)
{
	pid_t pid = task_tgid_nr(current);
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(&note_lock, flags);
	for (i = 0; i < notes.nr_pids && notes.pids[i] != pid; i++)
		;
	if (i == notes.nr_pids) {
		if (notes.nr_pids < NOTE_MAX)
			notes.pids[notes.nr_pids++] = pid;
		else
			notes.overflow = true;
	}
	raw_spin_unlock_irqrestore(&note_lock, flags);
}

/**
 * pisteer_vmset_note_release() - a VM file was released
 * @kvm: its struct kvm (compared only)
 *
 * Context: any but NMI.
 */
void pisteer_vmset_note_release(const void *kvm)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&note_lock, flags);
	if (notes.nr_released < NOTE_MAX)
		notes.released[notes.nr_released++] = kvm;
	else
		notes.overflow = true;
	raw_spin_unlock_irqrestore(&note_lock, flags);
}

/**
 * pisteer_vmset_request_walk() - the next scan walks every open file
 *
 * For when events may have gone unseen (a probed module came up).
 * Context: any but NMI.
 */
void pisteer_vmset_request_walk(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&note_lock, flags);
	notes.walk = true;
	raw_spin_unlock_irqrestore(&note_lock, flags);
}

struct vm_walk {
	struct pisteer_vm_ref *vms;
	unsigned int nr, cap;
	bool overflow;
	pid_t pid;
	u64 start;
};

/* iterate_fd() callback, under task_lock and files->file_lock. */
static int vm_file_cb(const void *p, struct file *file, unsigned int fd)
{
	struct vm_walk *w = (struct vm_walk *)p;
	struct module *vendor = NULL;
	struct kvm *kvm;
	unsigned int i;

	if (!pst_vm_file(file, &vendor))
		return 0;
	kvm = file->private_data;
	for (i = 0; i < w->nr; i++)
		if (w->vms[i].kvm == kvm)
			return 0;
	if (w->nr == w->cap) {
		w->overflow = true;
		return 0;
	}
	/* The file is in the fd table, so the VM still has users. */
	if (!pst_vm_ref_take(&w->vms[w->nr], kvm, vendor))
		return 0;
	w->vms[w->nr].pid = w->pid;
	w->vms[w->nr].start = w->start;
	w->vms[w->nr].fd = fd;
	w->nr++;
	return 0;
}

/* Add the VMs in @p's fd table to @w (the caller holds a reference on @p). */
static void visit_process(struct task_struct *p, pid_t nr, struct vm_walk *w)
{
	task_lock(p);
	w->pid = nr;
	w->start = p->start_boottime;
	if (p->files)
		iterate_fd(p->files, 0, vm_file_cb, w);
	task_unlock(p);
}

static void put_vms(struct pisteer_vm_ref *vms, unsigned int nr)
{
	while (nr--)
		pst_vm_ref_put(&vms[nr]);
}

/*
 * The process whose tgid is the first pid >= @nr, referenced, and its pid
 * in @nr; NULL when there is none.  RCU is held for this one step only.
 */
static struct task_struct *next_process(int *nr)
{
	struct task_struct *p = NULL;
	struct pid *pid;

	rcu_read_lock();
	while ((pid = find_ge_pid(*nr, &init_pid_ns))) {
		*nr = pid_nr(pid);
		/* A thread's pid names no thread group: its leader is visited. */
		p = pid_task(pid, PIDTYPE_TGID);
		if (p) {
			get_task_struct(p);
			break;
		}
		(*nr)++;
	}
	rcu_read_unlock();
	return p;
}

/* The process of thread group @nr, referenced; NULL if there is none. */
static struct task_struct *process_of(pid_t nr)
{
	struct task_struct *p = NULL;
	struct pid *pid;

	rcu_read_lock();
	pid = find_pid_ns(nr, &init_pid_ns);
	if (pid)
		p = pid_task(pid, PIDTYPE_TGID);
	if (p)
		get_task_struct(p);
	rcu_read_unlock();
	return p;
}

/*
 * Reference every VM of the host; returns their number or -ENOMEM.
 *
 * One process at a time, in pid order, rescheduling between processes:
 * neither RCU nor preemption is held across the host's processes, only
 * across one process's fd table (iterate_fd()'s own lock).  A process that
 * starts meanwhile with a lower pid is noted by its events.
 */
static int vm_collect(struct pisteer_vm_ref **out)
{
	struct vm_walk w = { .cap = 64 };
	struct task_struct *p;
	int nr;

	for (;;) {
		w.vms = pst_kvcalloc(w.cap, sizeof(*w.vms), GFP_KERNEL);
		if (!w.vms)
			return -ENOMEM;
		w.nr = 0;
		w.overflow = false;
		for (nr = 1; (p = next_process(&nr)); nr++) {
			visit_process(p, nr, &w);
			put_task_struct(p);
			cond_resched();
		}
		if (!w.overflow)
			break;
		put_vms(w.vms, w.nr);
		pst_kvfree(w.vms);
		w.cap *= 2;
	}
	*out = w.vms;
	return w.nr;
}

struct vm_at {
	const struct vm_key *key;
	struct pisteer_vm_ref *ref;
	bool found;
};

/* iterate_fd() callback from the key's fd on: is it still that VM? */
static int vm_at_cb(const void *p, struct file *file, unsigned int fd)
{
	struct vm_at *a = (struct vm_at *)p;
	struct module *vendor = NULL;

	if (fd == a->key->fd && pst_vm_file(file, &vendor) &&
	    file->private_data == a->key->kvm)
		a->found = pst_vm_ref_take(a->ref, file->private_data, vendor);
	return 1;	/* the first open fd from the key's on is the only one */
}

/* Reference the VM of @key into @ref if it is still where the key says. */
static bool vm_take_at(const struct vm_key *key, struct pisteer_vm_ref *ref)
{
	struct vm_at a = { .key = key, .ref = ref };
	struct task_struct *p = process_of(key->pid);

	if (!p)
		return false;
	task_lock(p);
	if (p->files && p->start_boottime == key->start)
		iterate_fd(p->files, key->fd, vm_at_cb, &a);
	task_unlock(p);
	put_task_struct(p);
	if (a.found) {
		ref->pid = key->pid;
		ref->start = key->start;
		ref->fd = key->fd;
	}
	return a.found;
}

static bool released(const struct vm_notes *n, const void *kvm)
{
	unsigned int i;

	for (i = 0; i < n->nr_released; i++)
		if (n->released[i] == kvm)
			return true;
	return false;
}

/* Remember the VMs a scan found as the known set; false on no memory. */
static bool remember(const struct pisteer_vm_ref *vms, unsigned int nr)
{
	struct vm_key *k = NULL;
	unsigned int i;

	if (nr) {
		k = pst_kvcalloc(nr, sizeof(*k), GFP_KERNEL);
		if (!k)
			return false;
	}
	for (i = 0; i < nr; i++)
		k[i] = (struct vm_key){ .kvm = vms[i].kvm, .pid = vms[i].pid,
					.fd = vms[i].fd, .start = vms[i].start };
	pst_kvfree(known);
	known = k;
	nr_known = nr;
	return true;
}

/* The known VMs and those of the noted processes; -EAGAIN: walk instead. */
static int from_events(const struct vm_notes *n, struct pisteer_vm_ref **out)
{
	struct vm_walk w = { .cap = nr_known + 16 };
	struct task_struct *p;
	unsigned int i;

	w.vms = pst_kvcalloc(w.cap, sizeof(*w.vms), GFP_KERNEL);
	if (!w.vms)
		return -ENOMEM;
	for (i = 0; i < nr_known; i++) {
		if (vm_take_at(&known[i], &w.vms[w.nr])) {
			w.nr++;
			continue;
		}
		if (released(n, known[i].kvm))
			continue;
		atomic64_inc(&nr_why[W_MOVED]);
		goto walk;
	}
	for (i = 0; i < n->nr_pids && !w.overflow; i++) {
		p = process_of(n->pids[i]);
		if (!p)
			continue;
		visit_process(p, n->pids[i], &w);
		put_task_struct(p);
	}
	if (!w.overflow) {
		*out = w.vms;
		return w.nr;
	}
	atomic64_inc(&nr_why[W_OVERFLOW]);
walk:
	put_vms(w.vms, w.nr);
	pst_kvfree(w.vms);
	return -EAGAIN;
}

/**
 * pisteer_vmset_get() - reference the host's VMs for one scan
 * @out: set to a new array (pst_kvfree() it) of the VMs, each referenced
 *	for the caller (drop with pst_vm_ref_put())
 * @walked: set when every open file of the host was visited for them
 *
 * Context: process, under the scan lock; may sleep.
 * Return: their number, or -ENOMEM.
 */
int pisteer_vmset_get(struct pisteer_vm_ref **out, bool *walked)
{
	struct vm_notes *n;
	unsigned long flags;
	bool complete;
	u64 missed;
	int nr = -EAGAIN;

	n = pst_kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	complete = pisteer_events_complete(&missed);
	raw_spin_lock_irqsave(&note_lock, flags);
	*n = notes;
	notes = (struct vm_notes){ };
	raw_spin_unlock_irqrestore(&note_lock, flags);

	*walked = false;
	if (n->walk)
		atomic64_inc(&nr_why[W_LOAD]);
	else if (!complete || missed != last_missed)
		atomic64_inc(&nr_why[W_EVENTS]);
	else if (n->overflow)
		atomic64_inc(&nr_why[W_OVERFLOW]);
	else
		nr = from_events(n, out);
	if (nr == -EAGAIN) {
		*walked = true;
		last_missed = missed;
		nr = vm_collect(out);
	}
	if (nr >= 0 && !remember(*out, nr))
		pisteer_vmset_request_walk();
	if (nr < 0)
		pisteer_vmset_request_walk();
	pst_kfree(n);
	return nr;
}

/**
 * pisteer_vmset_drop() - forget the known VMs (unloading)
 */
void pisteer_vmset_drop(void)
{
	pst_kvfree(known);
	known = NULL;
	nr_known = 0;
	pisteer_vmset_request_walk();
}

/**
 * pisteer_vmset_account() - count one scan and its duration
 * @walked: it walked every file (else the VMs came from events)
 * @ns: how long the whole scan took
 */
void pisteer_vmset_account(bool walked, u64 ns)
{
	atomic64_inc(walked ? &nr_walks : &nr_reuses);
	atomic64_add(ns, walked ? &walk_ns : &reuse_ns);
}

/**
 * pisteer_vmset_show() - the scan counts, for debugfs pisteer/scans
 * @m: the seq_file
 */
void pisteer_vmset_show(struct seq_file *m)
{
	unsigned int i;

	seq_printf(m, "walks %lld\nwalk_ns %lld\nreuses %lld\nreuse_ns %lld\n",
		   (long long)atomic64_read(&nr_walks),
		   (long long)atomic64_read(&walk_ns),
		   (long long)atomic64_read(&nr_reuses),
		   (long long)atomic64_read(&reuse_ns));
	for (i = 0; i < NR_WHY; i++)
		seq_printf(m, "%s %lld\n", why_name[i],
			   (long long)atomic64_read(&nr_why[i]));
	seq_printf(m, "known_vms %u\n", pisteer_vmset_count());
}

/**
 * pisteer_vmset_count() - how many VMs are known (debugfs pisteer/allocs)
 *
 * Read without the scan lock: a snapshot.
 */
unsigned int pisteer_vmset_count(void)
{
	return READ_ONCE(nr_known);
}
