// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

const char *pst_state_dir(void)
{
	const char *d = getenv("PISTEER_STATE_DIR");

	return d && *d ? d : "/run/pisteer";
}

void pst_pin_state_path(int pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pin-%d.json", pst_state_dir(), pid);
}

void pst_isolate_state_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/isolate.json", pst_state_dir());
}

int pst_state_write(const char *path, const char *doc)
{
	char tmp[600];
	size_t len = strlen(doc), off = 0;
	ssize_t n;
	int fd, err;

	if (mkdir(pst_state_dir(), 0755) < 0 && errno != EEXIST) {
		err = errno;
		fprintf(stderr, "pisteer: cannot create the state directory %s: %s\n",
			pst_state_dir(), strerror(err));
		return -err;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	while (off < len) {
		n = write(fd, doc + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail_fd;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail_fd;
	if (close(fd) < 0)
		goto fail_tmp;
	if (rename(tmp, path) < 0)
		goto fail_tmp;
	return 0;
fail_fd:
	err = errno;
	close(fd);
	errno = err;
fail_tmp:
	err = errno;
	unlink(tmp);
	errno = err;
fail:
	err = errno;
	fprintf(stderr, "pisteer: cannot write %s: %s\n", path, strerror(err));
	return -err;
}

static json_object *cpus_json(const struct pst_cpus *s)
{
	char buf[4096];

	pst_cpus_format(s, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* A CPU list member of @o: "-" is the empty set.  0 or -EINVAL. */
static int get_cpus(json_object *o, const char *key, struct pst_cpus *s)
{
	char why[128];
	json_object *x;
	const char *str;

	if (!json_object_object_get_ex(o, key, &x) ||
	    json_object_get_type(x) != json_type_string)
		return -EINVAL;
	str = json_object_get_string(x);
	if (!strcmp(str, "-")) {
		pst_cpus_zero(s);
		return 0;
	}
	return pst_cpus_parse(str, false, s, why, sizeof(why));
}

static int get_int(json_object *o, const char *key, long long *v)
{
	json_object *x;

	if (!json_object_object_get_ex(o, key, &x) ||
	    json_object_get_type(x) != json_type_int)
		return -EINVAL;
	*v = json_object_get_int64(x);
	return 0;
}

/*
 * The array @key of @o, and a zeroed table of as many @size-byte entries
 * in *@table (at least one, free() it).  Returns its length, -EINVAL when
 * there is no such array, -ENOMEM.
 */
static long get_array(json_object *o, const char *key, size_t size,
		      json_object **arr, void **table)
{
	size_t n;

	if (!json_object_object_get_ex(o, key, arr) ||
	    json_object_get_type(*arr) != json_type_array)
		return -EINVAL;
	n = json_object_array_length(*arr);
	*table = calloc(n ? n : 1, size);
	return *table ? (long)n : -ENOMEM;
}

/* Parse @path, which must hold an object.  NULL with errno set. */
static json_object *load(const char *path)
{
	json_object *o = json_object_from_file(path);

	if (!o) {
		if (access(path, F_OK))
			return NULL;	/* errno from access() */
		errno = EINVAL;
		return NULL;
	}
	if (json_object_get_type(o) != json_type_object) {
		json_object_put(o);
		errno = EINVAL;
		return NULL;
	}
	return o;
}

int pst_pin_state_save(const struct pst_pin_state *st)
{
	json_object *root, *arr, *t;
	char path[512];
	unsigned int i;
	int rc;

	root = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(root, "pid", json_object_new_int(st->pid));
	json_object_object_add(root, "start", json_object_new_uint64(st->start));
	json_object_object_add(root, "steer", json_object_new_boolean(st->steer));
	if (st->domain[0])
		json_object_object_add(root, "domain", json_object_new_string(st->domain));
	for (i = 0; i < st->nr; i++) {
		t = json_object_new_object();
		json_object_object_add(t, "tid", json_object_new_int(st->t[i].tid));
		json_object_object_add(t, "vcpu", json_object_new_int(st->t[i].vcpu));
		json_object_object_add(t, "prev", cpus_json(&st->t[i].prev));
		json_object_object_add(t, "cpus", cpus_json(&st->t[i].cpus));
		json_object_array_add(arr, t);
	}
	json_object_object_add(root, "threads", arr);
	pst_pin_state_path(st->pid, path, sizeof(path));
	rc = pst_state_write(path, json_object_to_json_string_ext(root,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return rc;
}

void pst_pin_state_free(struct pst_pin_state *st)
{
	free(st->t);
	st->t = NULL;
	st->nr = 0;
}

int pst_pin_state_load(const char *path, struct pst_pin_state *st)
{
	json_object *root, *arr, *t, *x;
	long long v;
	size_t i, n;
	long len;
	int rc = -EINVAL;

	memset(st, 0, sizeof(*st));
	root = load(path);
	if (!root)
		return -errno;
	if (get_int(root, "pid", &v) || v <= 0)
		goto out;
	st->pid = (int)v;
	if (!json_object_object_get_ex(root, "start", &x) ||
	    json_object_get_type(x) != json_type_int)
		goto out;
	st->start = json_object_get_uint64(x);
	if (!json_object_object_get_ex(root, "steer", &x) ||
	    json_object_get_type(x) != json_type_boolean)
		goto out;
	st->steer = json_object_get_boolean(x);
	if (json_object_object_get_ex(root, "domain", &x)) {
		if (json_object_get_type(x) != json_type_string ||
		    !json_object_get_string_len(x) ||
		    (size_t)json_object_get_string_len(x) >= sizeof(st->domain))
			goto out;
		memcpy(st->domain, json_object_get_string(x),
		       (size_t)json_object_get_string_len(x) + 1);
	}
	len = get_array(root, "threads", sizeof(*st->t), &arr, (void **)&st->t);
	if (len < 0) {
		rc = (int)len;
		goto out;
	}
	n = (size_t)len;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(arr, i);
		if (get_int(t, "tid", &v) || v <= 0)
			goto out;
		st->t[i].tid = (int)v;
		if (get_int(t, "vcpu", &v) || v < -1)
			goto out;
		st->t[i].vcpu = (int)v;
		if (get_cpus(t, "prev", &st->t[i].prev) || get_cpus(t, "cpus", &st->t[i].cpus))
			goto out;
	}
	st->nr = (unsigned int)n;
	rc = 0;
out:
	if (rc)
		pst_pin_state_free(st);
	json_object_put(root);
	return rc;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int pst_pin_state_list(int **pids)
{
	int *p = NULL, *g, pid, end;
	unsigned int n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*pids = NULL;
	d = opendir(pst_state_dir());
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		end = -1;
		if (sscanf(de->d_name, "pin-%d.json%n", &pid, &end) != 1 || end < 0 ||
		    de->d_name[end] || pid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			g = realloc(p, cap * sizeof(*p));
			if (!g) {
				free(p);
				closedir(d);
				return -ENOMEM;
			}
			p = g;
		}
		p[n++] = pid;
	}
	closedir(d);
	if (n)
		qsort(p, n, sizeof(*p), cmp_int);
	*pids = p;
	return (int)n;
}

int pst_isolate_state_save(const struct pst_isolate_state *st)
{
	json_object *root, *arr, *t;
	char path[512];
	unsigned int i;
	int rc;

	root = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(root, "cpus", cpus_json(&st->cpus));
	json_object_object_add(root, "housekeeping", cpus_json(&st->housekeeping));
	for (i = 0; i < st->nr; i++) {
		t = json_object_new_object();
		json_object_object_add(t, "irq", json_object_new_int((int)st->irq[i].irq));
		json_object_object_add(t, "prev", cpus_json(&st->irq[i].prev));
		json_object_object_add(t, "set", cpus_json(&st->irq[i].set));
		json_object_array_add(arr, t);
	}
	json_object_object_add(root, "irqs", arr);
	pst_isolate_state_path(path, sizeof(path));
	rc = pst_state_write(path, json_object_to_json_string_ext(root,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return rc;
}

int pst_isolate_state_load(const char *path, struct pst_isolate_state *st)
{
	json_object *root, *arr, *t;
	long long v;
	size_t i, n;
	long len;
	int rc = -EINVAL;

	memset(st, 0, sizeof(*st));
	root = load(path);
	if (!root)
		return -errno;
	if (get_cpus(root, "cpus", &st->cpus) ||
	    get_cpus(root, "housekeeping", &st->housekeeping))
		goto out;
	len = get_array(root, "irqs", sizeof(*st->irq), &arr, (void **)&st->irq);
	if (len < 0) {
		rc = (int)len;
		goto out;
	}
	n = (size_t)len;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(arr, i);
		if (get_int(t, "irq", &v) || v < 0)
			goto out;
		st->irq[i].irq = (unsigned int)v;
		if (get_cpus(t, "prev", &st->irq[i].prev) || get_cpus(t, "set", &st->irq[i].set))
			goto out;
	}
	st->nr = (unsigned int)n;
	rc = 0;
out:
	if (rc) {
		free(st->irq);
		st->irq = NULL;
	}
	json_object_put(root);
	return rc;
}
