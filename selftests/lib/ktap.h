/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP output for pisteer's test programs (kselftest conventions): a plan,
 * one result line per test, diagnostics behind "# ", and an exit status of
 * 0 (all passed), 1 (a failure) or 4 (everything skipped).
 */
#ifndef PISTEER_KTAP_H
#define PISTEER_KTAP_H

#include <stdbool.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

void ktap_plan(int nr_tests);
void ktap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report one test; returns @ok so callers can chain on it. */
bool ktap_result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ktap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Is @got (an errno, 0 for success) @want?  Says what differs if not. */
bool ktap_expect_errno(int got, int want, const char *what);
/* Mark the remaining planned tests skipped with @why and exit. */
void __attribute__((noreturn)) ktap_skip_rest(const char *why);
/* Print the totals and exit with the kselftest status. */
void __attribute__((noreturn)) ktap_finish(void);

#endif
