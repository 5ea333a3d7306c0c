// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktap.h"

static int planned, done, passed, failed, skipped;

void ktap_plan(int nr_tests)
{
	planned = nr_tests;
	printf("KTAP version 1\n1..%d\n", nr_tests);
	fflush(stdout);
}

void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

bool ktap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++done);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

bool ktap_expect_errno(int got, int want, const char *what)
{
	if (got != want)
		ktap_diag("%s: got '%s', expected '%s'", what, strerror(got),
			  strerror(want));
	return got == want;
}

void ktap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d ", ++done);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP\n");
	fflush(stdout);
	skipped++;
}

void ktap_skip_rest(const char *why)
{
	while (done < planned)
		ktap_skip("%s", why);
	ktap_finish();
}

void ktap_finish(void)
{
	if (done != planned) {
		ktap_diag("planned %d tests but ran %d", planned, done);
		failed++;
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       passed, failed, skipped);
	fflush(stdout);
	if (failed)
		exit(KSFT_FAIL);
	exit(passed ? KSFT_PASS : KSFT_SKIP);
}
