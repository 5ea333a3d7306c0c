// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
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

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (ioctl(fd, PISTEER_IOC_VERSION, &v) < 0)
		return -errno;
	if (v.size < PISTEER_VERSION_SIZE_VER0 || v.size > sizeof(v))
		return -EPROTO;
	/* Whatever an older module did not fill in reads as zero. */
	memset((char *)&v + v.size, 0, sizeof(v) - v.size);
	v.release[sizeof(v.release) - 1] = '\0';
	*ver = v;
	return 0;
}

int pst_check_abi(const struct pisteer_version *ver)
{
	return ver->abi_major == PISTEER_ABI_MAJOR ? 0 : -EPROTO;
}
