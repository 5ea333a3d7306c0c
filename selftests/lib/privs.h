/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PISTEER_PRIVS_H
#define PISTEER_PRIVS_H

/*
 * Drop CAP_SYS_ADMIN from this process's effective set (for the "without
 * the capability" cases of ioctl tests, on an fd opened before).  0 or -1.
 */
int drop_cap_sys_admin(void);

#endif
