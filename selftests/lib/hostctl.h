/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PISTEER_HOSTCTL_H
#define PISTEER_HOSTCTL_H

#include <sys/types.h>

/* sched_setaffinity() of @tid to @cpu alone: 0 or -1 with errno. */
int host_pin_thread(pid_t tid, int cpu);
/* rmmod pisteer (not loaded: fine): 0 or -1, said on stderr. */
int host_module_unload(void);
/* insmod @ko and open /dev/pisteer: its fd, or -1, said on stderr. */
int host_module_load(const char *ko);

#endif /* PISTEER_HOSTCTL_H */
