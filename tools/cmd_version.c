// SPDX-License-Identifier: GPL-2.0
/*
 * pisteer version: the tool's release and, when the module is loaded, the
 * module's release, ABI and features.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "lib/pisteer_dev.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pisteer version [--json]\n"
		"\n"
		"Print the release of this tool and of the loaded pisteer module\n"
		"(its ABI version and feature bits), and which of the running\n"
		"kernel's mechanisms the module uses, each with why not where it\n"
		"cannot (a probe point the kernel lacks, a feature of another CPU\n"
		"vendor or kernel, a fact not known before a VM exists).\n"
		"\n"
		"  --json   one JSON object: tool, abi, module {release, abi_major,\n"
		"           abi_minor, features, kernel, host {NAME: {active, error,\n"
		"           why}}} or module_error\n");
}

void version_print_text(FILE *out, const struct pisteer_version *ver)
{
	unsigned int i;

	fprintf(out, "pisteer tool %s (ABI %d.%d)\n", PISTEER_RELEASE,
		PISTEER_ABI_MAJOR, PISTEER_ABI_MINOR);
	if (!ver)
		return;
	fprintf(out, "pisteer module %s (ABI %u.%u), features %#llx\n",
		ver->release[0] ? ver->release : "(unknown)", ver->abi_major,
		ver->abi_minor, (unsigned long long)ver->features);
	if (!ver->kernel[0]) {
		fprintf(out, "the module does not report what the kernel gives it (ABI < 0.7)\n");
		return;
	}
	fprintf(out, "on kernel %.*s:\n", (int)sizeof(ver->kernel), ver->kernel);
	if (ver->probes_missed)
		fprintf(out, "  warning: %llu probe hits missed (debugfs pisteer/probes)\n",
			(unsigned long long)ver->probes_missed);
	for (i = 0; i < PISTEER_HOST_NR; i++)
		fprintf(out, "  %-13s %-7s %s%s%s\n", pst_host_feature_name(i),
			ver->host_err[i] ? "off" : "active", pst_host_feature_what(i),
			ver->host_err[i] ? ": " : "",
			ver->host_err[i] ? pst_host_feature_why(ver->host_err[i]) : "");
}

static json_object *host_to_json(const struct pisteer_version *ver)
{
	json_object *host = json_object_new_object(), *f;
	unsigned int i;

	for (i = 0; i < PISTEER_HOST_NR; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "active", json_object_new_boolean(!ver->host_err[i]));
		json_object_object_add(f, "error", ver->host_err[i] ?
				       json_object_new_string(strerrorname_np(-ver->host_err[i]) ?:
							      "?") : NULL);
		json_object_object_add(f, "why", ver->host_err[i] ?
				       json_object_new_string(pst_host_feature_why(ver->host_err[i])) :
				       NULL);
		json_object_object_add(host, pst_host_feature_name(i), f);
	}
	return host;
}

char *version_to_json(const struct pisteer_version *ver, int module_err)
{
	json_object *root = json_object_new_object(), *mod;
	char *doc;

	if (!root)
		return NULL;
	json_object_object_add(root, "tool", json_object_new_string(PISTEER_RELEASE));
	json_object_object_add(root, "abi_major", json_object_new_int(PISTEER_ABI_MAJOR));
	json_object_object_add(root, "abi_minor", json_object_new_int(PISTEER_ABI_MINOR));
	if (ver) {
		mod = json_object_new_object();
		json_object_object_add(mod, "release", json_object_new_string(ver->release));
		json_object_object_add(mod, "abi_major", json_object_new_int64(ver->abi_major));
		json_object_object_add(mod, "abi_minor", json_object_new_int64(ver->abi_minor));
		json_object_object_add(mod, "features",
				       json_object_new_uint64(ver->features));
		if (ver->kernel[0]) {
			json_object_object_add(mod, "kernel", json_object_new_string(ver->kernel));
			json_object_object_add(mod, "host", host_to_json(ver));
			json_object_object_add(mod, "probes_missed",
					       json_object_new_uint64(ver->probes_missed));
		}
		json_object_object_add(root, "module", mod);
	} else {
		json_object_object_add(root, "module_error",
				       json_object_new_string(strerror(module_err)));
	}
	doc = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return doc;
}

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cmd_operands ops = { 0 };
	struct pisteer_version ver = { 0 };
	int opt, fd, err = 0, json = 0;
	char *doc;

	while ((opt = cmd_getopt(argc, argv, "jh", opts, &ops)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return PST_EXIT_OK;
		default:
			usage(stderr);
			return PST_EXIT_USAGE;
		}
	}
	if (cmd_operands_max("version", &ops, 0))
		return PST_EXIT_USAGE;

	fd = pst_dev_open();
	if (fd < 0) {
		err = -fd;
	} else {
		err = -pst_query_version(fd, &ver);
		if (err)
			fprintf(stderr, "pisteer: version query: %s\n", strerror(err));
		close(fd);
	}

	if (json) {
		doc = version_to_json(err ? NULL : &ver, err);
		if (!doc)
			return PST_EXIT_FAIL;
		printf("%s\n", doc);
		free(doc);
	} else {
		version_print_text(stdout, err ? NULL : &ver);
	}
	if (!err && pst_check_abi(&ver)) {
		fprintf(stderr, "pisteer: module ABI %u.%u, this tool speaks %d.x\n",
			ver.abi_major, ver.abi_minor, PISTEER_ABI_MAJOR);
		return PST_EXIT_ABI;
	}
	return err ? pst_exit_for(err) : PST_EXIT_OK;
}
