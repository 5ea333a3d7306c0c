// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"

struct reader {
	int fd;
	int timeout_ms;
	json_tokener *tok;
	char buf[4096];
	size_t len, off;
};

/* The next JSON message from the stream: 0, or -errno with @why. */
static int next_msg(struct reader *r, json_object **msg, char *why, size_t whylen)
{
	enum json_tokener_error jerr;
	struct pollfd p;
	json_object *o;
	ssize_t n;
	int rc;

	for (;;) {
		/* QEMU ends each message with CR LF: skip the white space. */
		while (r->off < r->len && strchr(" \t\r\n", r->buf[r->off]))
			r->off++;
		if (r->off < r->len) {
			o = json_tokener_parse_ex(r->tok, r->buf + r->off,
						  (int)(r->len - r->off));
			jerr = json_tokener_get_error(r->tok);
			if (jerr == json_tokener_continue) {
				r->off = r->len;
			} else if (jerr != json_tokener_success || !o) {
				snprintf(why, whylen, "QMP: malformed JSON: %s",
					 json_tokener_error_desc(jerr));
				return -EPROTO;
			} else {
				r->off += json_tokener_get_parse_end(r->tok);
				json_tokener_reset(r->tok);
				*msg = o;
				return 0;
			}
		}
		p = (struct pollfd){ .fd = r->fd, .events = POLLIN };
		rc = poll(&p, 1, r->timeout_ms);
		if (rc == 0) {
			snprintf(why, whylen, "QMP: no answer within %d ms", r->timeout_ms);
			return -ETIMEDOUT;
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			rc = errno ? errno : EIO;
			snprintf(why, whylen, "QMP: poll: %s", strerror(rc));
			return -rc;
		}
		n = read(r->fd, r->buf, sizeof(r->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "QMP: the connection closed%s%s",
				 n < 0 ? ": " : " (did QEMU exit?)",
				 n < 0 ? strerror(errno) : "");
			return n < 0 ? -errno : -ECONNRESET;
		}
		r->len = (size_t)n;
		r->off = 0;
	}
}

/*
 * The reply to the command just sent: events are skipped; an error reply
 * becomes -EREMOTEIO with QEMU's class and description.  *@ret is the
 * "return" value (owned by *@msg, which the caller puts).
 */
static int reply(struct reader *r, const char *cmd, json_object **msg,
		 json_object **ret, char *why, size_t whylen)
{
	json_object *m, *e, *x;
	int rc;

	for (;;) {
		m = NULL;
		rc = next_msg(r, &m, why, whylen);
		if (rc)
			return rc;
		if (!m)
			return -EPROTO;
		if (json_object_get_type(m) == json_type_object &&
		    json_object_object_get_ex(m, "return", ret)) {
			*msg = m;
			return 0;
		}
		if (json_object_get_type(m) == json_type_object &&
		    json_object_object_get_ex(m, "error", &e)) {
			const char *cls = "?", *desc = "?";

			if (json_object_object_get_ex(e, "class", &x))
				cls = json_object_get_string(x);
			if (json_object_object_get_ex(e, "desc", &x))
				desc = json_object_get_string(x);
			snprintf(why, whylen, "QMP: %s failed: %s: %s", cmd, cls, desc);
			json_object_put(m);
			return -EREMOTEIO;
		}
		if (json_object_get_type(m) == json_type_object &&
		    json_object_object_get_ex(m, "event", NULL)) {
			json_object_put(m);
			continue;
		}
		snprintf(why, whylen, "QMP: unexpected message to %s: %.80s", cmd,
			 json_object_to_json_string(m));
		json_object_put(m);
		return -EPROTO;
	}
}

static int send_cmd(int fd, const char *cmd, char *why, size_t whylen)
{
	char line[128];
	size_t len, off = 0;
	ssize_t n;

	len = (size_t)snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\r\n", cmd);
	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "QMP: sending %s: %s", cmd, strerror(errno));
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct pst_vcpu_tid *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* The vCPUs of a query-cpus-fast return value. */
static int cpus_of(json_object *ret, struct pst_vcpu_tid **cpus, unsigned int *nr,
		   char *why, size_t whylen)
{
	struct pst_vcpu_tid *v;
	json_object *e, *idx, *tid;
	size_t i, n;

	if (json_object_get_type(ret) != json_type_array) {
		snprintf(why, whylen, "QMP: query-cpus-fast returned no list");
		return -EPROTO;
	}
	n = json_object_array_length(ret);
	if (!n) {
		snprintf(why, whylen, "QMP: query-cpus-fast listed no vCPUs");
		return -ENOENT;
	}
	v = calloc(n, sizeof(*v));
	if (!v) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(ret, i);
		if (!json_object_object_get_ex(e, "cpu-index", &idx) ||
		    !json_object_object_get_ex(e, "thread-id", &tid) ||
		    json_object_get_type(idx) != json_type_int ||
		    json_object_get_type(tid) != json_type_int ||
		    json_object_get_int(idx) < 0 || json_object_get_int(tid) <= 0) {
			snprintf(why, whylen,
				 "QMP: query-cpus-fast entry %zu lacks a valid cpu-index or thread-id",
				 i);
			free(v);
			return -EPROTO;
		}
		v[i].index = json_object_get_int(idx);
		v[i].tid = json_object_get_int(tid);
	}
	qsort(v, n, sizeof(*v), by_index);
	for (i = 1; i < n; i++) {
		if (v[i].index == v[i - 1].index) {
			snprintf(why, whylen, "QMP: cpu-index %d listed twice", v[i].index);
			free(v);
			return -EPROTO;
		}
	}
	*cpus = v;
	*nr = (unsigned int)n;
	return 0;
}

int pst_qmp_query_cpus_fd(int fd, int timeout_ms, struct pst_vcpu_tid **cpus,
			  unsigned int *nr, char *why, size_t whylen)
{
	struct reader r = { .fd = fd, .timeout_ms = timeout_ms };
	json_object *m = NULL, *ret;
	int rc;

	r.tok = json_tokener_new();
	if (!r.tok) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rc = next_msg(&r, &m, why, whylen);
	if (!rc && (json_object_get_type(m) != json_type_object ||
		    !json_object_object_get_ex(m, "QMP", NULL))) {
		snprintf(why, whylen, "QMP: no greeting: is this a QMP socket?");
		rc = -EPROTO;
	}
	json_object_put(m);
	m = NULL;
	if (!rc)
		rc = send_cmd(fd, "qmp_capabilities", why, whylen);
	if (!rc)
		rc = reply(&r, "qmp_capabilities", &m, &ret, why, whylen);
	json_object_put(m);
	m = NULL;
	if (!rc)
		rc = send_cmd(fd, "query-cpus-fast", why, whylen);
	if (!rc)
		rc = reply(&r, "query-cpus-fast", &m, &ret, why, whylen);
	if (!rc)
		rc = cpus_of(ret, cpus, nr, why, whylen);
	json_object_put(m);
	json_tokener_free(r.tok);
	return rc;
}

int pst_qmp_query_cpus(const char *path, struct pst_vcpu_tid **cpus,
		       unsigned int *nr, int *peer_pid, char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, rc;

	*peer_pid = 0;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "QMP socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot connect to the QMP socket %s: %s%s", path,
			 strerror(errno),
			 errno == EAGAIN || errno == ECONNREFUSED ?
			 " (another client may hold it: QEMU serves one at a time)" : "");
		close(fd);
		return rc;
	}
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		*peer_pid = cred.pid;
	rc = pst_qmp_query_cpus_fd(fd, 5000, cpus, nr, why, whylen);
	close(fd);
	return rc;
}
