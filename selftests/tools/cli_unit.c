// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the pisteer CLI code that need no module: error to exit
 * status mapping, the version reports (text and JSON), and the command
 * line of the built binary (usage errors, module-absent and wrong-device
 * diagnostics).
 *
 * usage: cli_unit PATH-TO-pisteer
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../tools/commands.h"
#include "../../tools/lib/pisteer_dev.h"
#include "../lib/ktap.h"

static const char *tool;
static char out_path[] = "/tmp/cli_unit.XXXXXX";
static char out[8192], err[8192];

/* Run "@env tool @args", capture stdout and stderr; return the exit status. */
static int run(const char *env, const char *args)
{
	char cmd[1024], path[64];
	int status, i;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s >%s.out 2>%s.err", env, tool,
		 args, out_path, out_path);
	status = system(cmd);
	for (i = 0; i < 2; i++) {
		char *buf = i ? err : out;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s.%s", out_path, i ? "err" : "out");
		f = fopen(path, "re");
		if (f) {
			n = fread(buf, 1, sizeof(out) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		unlink(path);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static struct pisteer_version sample_version(void)
{
	struct pisteer_version v;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.abi_major = PISTEER_ABI_MAJOR;
	v.abi_minor = 7;
	v.features = 0x5;
	strcpy(v.release, "9.8.7");
	return v;
}

static void test_exit_mapping(void)
{
	ktap_result(pst_exit_for(ENOENT) == PST_EXIT_NO_MODULE &&
		    pst_exit_for(ENODEV) == PST_EXIT_NO_MODULE &&
		    pst_exit_for(EACCES) == PST_EXIT_PERM &&
		    pst_exit_for(EPERM) == PST_EXIT_PERM &&
		    pst_exit_for(EPROTO) == PST_EXIT_ABI &&
		    pst_exit_for(EIO) == PST_EXIT_FAIL &&
		    pst_exit_for(ENOTTY) == PST_EXIT_FAIL,
		    "errno -> exit status mapping");
}

static void test_dev_path(void)
{
	bool ok;

	unsetenv("PISTEER_DEV");
	ok = !strcmp(pst_dev_path(), "/dev/pisteer");
	setenv("PISTEER_DEV", "/tmp/x", 1);
	ok = ok && !strcmp(pst_dev_path(), "/tmp/x");
	setenv("PISTEER_DEV", "", 1);
	ok = ok && !strcmp(pst_dev_path(), "/dev/pisteer");
	unsetenv("PISTEER_DEV");
	ktap_result(ok, "device path: /dev/pisteer unless PISTEER_DEV is set");
}

static void test_abi_check(void)
{
	struct pisteer_version v = sample_version();
	bool ok = pst_check_abi(&v) == 0;

	v.abi_major = PISTEER_ABI_MAJOR + 1;
	ok = ok && pst_check_abi(&v) == -EPROTO;
	ktap_result(ok, "ABI check: same major accepted, other major refused");
}

static void test_text_report(void)
{
	struct pisteer_version v = sample_version();
	char buf[512];
	size_t n;
	FILE *f;
	bool ok;

	f = fmemopen(buf, sizeof(buf), "w");
	version_print_text(f, &v);
	v.release[0] = '\0';		/* an older module that sent no release */
	version_print_text(f, &v);
	n = ftell(f);
	fclose(f);
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	ok = strstr(buf, "pisteer module 9.8.7 (ABI 0.7), features 0x5") &&
	     strstr(buf, "pisteer module (unknown)") &&
	     strstr(buf, "pisteer tool " PISTEER_RELEASE);
	if (!ok)
		ktap_diag("got: %s", buf);
	ktap_result(ok, "text report names tool, module release, ABI and features");
}

static void test_json_report(void)
{
	struct pisteer_version v = sample_version();
	json_object *root, *mod, *x;
	char *doc;
	bool ok;

	doc = version_to_json(&v, 0);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = root && json_object_object_get_ex(root, "module", &mod) &&
	     json_object_object_get_ex(mod, "release", &x) &&
	     !strcmp(json_object_get_string(x), "9.8.7") &&
	     json_object_object_get_ex(mod, "features", &x) &&
	     json_object_get_uint64(x) == 5 &&
	     json_object_object_get_ex(root, "tool", &x) &&
	     !strcmp(json_object_get_string(x), PISTEER_RELEASE);
	json_object_put(root);
	free(doc);

	doc = version_to_json(NULL, ENOENT);
	root = doc ? json_tokener_parse(doc) : NULL;
	ok = ok && root && !json_object_object_get_ex(root, "module", NULL) &&
	     json_object_object_get_ex(root, "module_error", &x) &&
	     !strcmp(json_object_get_string(x), strerror(ENOENT));
	json_object_put(root);
	free(doc);
	ktap_result(ok, "JSON report parses back with module or module_error");
}

static void test_cli(void)
{
	int rc;

	rc = run("", "--help");
	ktap_result(rc == 0 && strstr(out, "Exit status") && strstr(out, "version"),
		    "--help: exit 0, lists commands and exit statuses");
	rc = run("", "");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "usage"),
		    "no command: usage on stderr, exit 2");
	rc = run("", "frobnicate");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unknown command 'frobnicate'"),
		    "unknown command: named in the error, exit 2");
	rc = run("", "version --bogus");
	ktap_result(rc == PST_EXIT_USAGE, "unknown option: exit 2");
	rc = run("", "version extra");
	ktap_result(rc == PST_EXIT_USAGE && strstr(err, "unexpected argument 'extra'"),
		    "stray argument: named in the error, exit 2");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "version");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(err, "not loaded") &&
		    strstr(out, "pisteer tool"),
		    "no module: says 'not loaded', still prints the tool's version, exit 3");
	rc = run("PISTEER_DEV=/nonexistent/pisteer", "version --json");
	ktap_result(rc == PST_EXIT_NO_MODULE && strstr(out, "\"module_error\""),
		    "no module, --json: module_error in the document, exit 3");
	rc = run("PISTEER_DEV=/dev/null", "version");
	ktap_result(rc == PST_EXIT_FAIL && strstr(err, "version query"),
		    "a device that is not pisteer's: the failed query is reported, exit 1");
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-pisteer\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	fd = mkstemp(out_path);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(out_path);

	ktap_plan(13);
	test_exit_mapping();
	test_dev_path();
	test_abi_check();
	test_text_report();
	test_json_report();
	test_cli();
	ktap_finish();
}
