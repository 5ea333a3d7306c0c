# SPDX-License-Identifier: GPL-2.0
# KTAP output for pisteer's shell tests; source it.  Mirrors ktap.c:
# ktap_plan N; ktap_ok DESC (pass); ktap_fail DESC; ktap_check DESC CMD...;
# ktap_skip DESC; ktap_diag TEXT; ktap_finish (exit 0, 1, or 4 = all skipped).
# ktap_run NAME CMD... runs a KTAP-printing command as a subtest, its output
# indented, and reports it by its exit status (4: skipped).

__ktap_n=0 __ktap_pass=0 __ktap_fail=0 __ktap_skip=0 __ktap_plan=0
__ktap_t=$SECONDS

# Where a test's time goes: a result that came 5 s or more after the one
# before it (or the plan) says so, for finding what to make faster.
__ktap_took() {
	[ $((SECONDS - __ktap_t)) -lt 5 ] || echo "# took $((SECONDS - __ktap_t)) s"
	__ktap_t=$SECONDS
}

ktap_plan() {
	__ktap_plan=$1
	echo "KTAP version 1"
	echo "1..$1"
	__ktap_t=$SECONDS
}

ktap_diag() { echo "# $*"; }

ktap_ok() {
	__ktap_n=$((__ktap_n + 1)) __ktap_pass=$((__ktap_pass + 1))
	echo "ok $__ktap_n $*"
	__ktap_took
}

ktap_fail() {
	__ktap_n=$((__ktap_n + 1)) __ktap_fail=$((__ktap_fail + 1))
	echo "not ok $__ktap_n $*"
	__ktap_took
}

ktap_skip() {
	__ktap_n=$((__ktap_n + 1)) __ktap_skip=$((__ktap_skip + 1))
	echo "ok $__ktap_n $* # SKIP"
	__ktap_took
}

# ktap_check DESC CMD...: pass when CMD succeeds; its output becomes diagnostics.
ktap_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ktap_ok "$desc"
	else
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		ktap_fail "$desc"
	fi
}

ktap_run() {
	local name=$1 rc
	shift
	"$@" 2>&1 | sed -u 's/^/    /'
	rc=${PIPESTATUS[0]}
	case $rc in
	0) ktap_ok "$name" ;;
	4) ktap_skip "$name" ;;
	*) ktap_diag "$name exited with status $rc"; ktap_fail "$name" ;;
	esac
	return "$rc"
}

ktap_finish() {
	if [ "$__ktap_n" -ne "$__ktap_plan" ]; then
		ktap_diag "planned $__ktap_plan tests but ran $__ktap_n"
		__ktap_fail=$((__ktap_fail + 1))
	fi
	echo "# Totals: pass:$__ktap_pass fail:$__ktap_fail xfail:0 xpass:0 skip:$__ktap_skip error:0"
	[ "$__ktap_fail" -eq 0 ] || exit 1
	[ "$__ktap_pass" -gt 0 ] || exit 4
	exit 0
}
