#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: builds, static checks and the VM suite on the pinned kernels,
# as one KTAP document.  The last line counts every leaf test:
#   N passed, N failed, N skipped
# and the exit status is non-zero when anything failed.
# (scripts/deps.sh has run before: make check calls it.)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=../scripts/kernels.sh
. scripts/kernels.sh
# shellcheck source=lib/ktap.sh
. selftests/lib/ktap.sh
cache=${PISTEER_CACHE:-/var/cache/pisteer}
checkpatch=$cache/linux-source-6.12/scripts/checkpatch.pl
vm_timeout=${PISTEER_VM_TIMEOUT:-900}

modules_build() {
	local kver=$1 log=build/modules/$1/build.log
	make --no-print-directory "build/modules/$kver/.built" || return 1
	if grep -E 'warning:|error:' "$log"; then
		return 1
	fi
}

sparse_check() {
	local kver=$1 out
	out=$(scripts/kbuild.sh "$kver" "build/modules/$kver" C=2 modules 2>&1) ||
		{ printf '%s\n' "$out"; return 1; }
	if printf '%s\n' "$out" | grep -E ': (warning|error):'; then
		return 1
	fi
}

checkpatch_all() {
	local f out bad=0
	[ -f "$checkpatch" ] || { echo "no $checkpatch: run scripts/deps.sh"; return 1; }
	# Exit status 0 only without errors, warnings and (--strict) checks.
	# The compat layers are where kernel versions are compared: there
	# only, LINUX_VERSION_CODE (advice for upstream code) is allowed.
	for f in $(git ls-files 'kmod/*.[ch]' 'guest/*.[ch]' 'uapi/*.h'); do
		ign=()
		case "$f" in
		*/compat/* | *compat.h) ign=(--ignore LINUX_VERSION_CODE) ;;
		esac
		out=$(perl "$checkpatch" --no-tree --strict --terse --show-types \
			"${ign[@]}" -f "$f") || { printf '%s\n' "$out"; bad=1; }
	done
	return $bad
}

clang_tidy_all() {
	local out
	# shellcheck disable=SC2046
	out=$(clang-tidy --quiet $(git ls-files 'tools/*.c' 'selftests/*.c') -- \
		-std=gnu11 -Iuapi -DPISTEER_RELEASE="\"$(cat VERSION)\"" 2>&1)
	if printf '%s\n' "$out" | grep -E '(warning|error):'; then
		return 1
	fi
}

man_lint() {
	local out
	out=$(groff -man -ww -z tools/pisteer.8 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
	# Every command pisteer --help lists is in the man page.
	build/pisteer --help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit }
		on { print $1 }' | while read -r c; do
		grep -qx "\.B pisteer $c" tools/pisteer.8 || { echo "pisteer.8 lacks '$c'"; exit 1; }
	done
}

dkms_version() {
	local want have
	want=$(cat VERSION)
	have=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	[ "$have" = "$want" ] || { echo "dkms.conf says '$have', VERSION '$want'"; return 1; }
}

vm_suite() {
	selftests/rig/vm-run --kernel "$1" --timeout "$vm_timeout" -- selftests/vm/suite.sh
}

stage() {
	local t0=$SECONDS
	"$@"
	ktap_diag "took $((SECONDS - t0)) s"
}

run_all() {
	ktap_plan 20
	stage ktap_check "build: CLI, test programs, modules against KDIR (make)" \
		make --no-print-directory all
	stage ktap_run "unit: CLI code" build/selftests/cli_unit build/pisteer
	stage ktap_run "unit: pisteer guest against a sysfs fixture" \
		build/selftests/guest_unit build/pisteer
	stage ktap_run "unit: pin and isolate code (CPU lists, placement, cgroups, state, QMP)" \
		build/selftests/pin_unit build/pisteer
	stage ktap_run "pin against real QEMU processes (tcg, -S)" \
		build/selftests/pin_qemu build/pisteer
	stage ktap_run "unit: rdma-lat code" build/selftests/rdma_unit build/pisteer
	stage ktap_check "dkms.conf PACKAGE_VERSION equals VERSION" dkms_version
	stage ktap_check "man page pisteer.8: groff -ww clean, documents every command" man_lint
	stage ktap_check "modules build for $KVER_61 with W=1, no warnings" \
		modules_build "$KVER_61"
	stage ktap_check "modules build for $KVER_612 with W=1, no warnings" \
		modules_build "$KVER_612"
	stage ktap_check "modules build for $KVER_7 with W=1, no warnings (trixie chroot)" \
		modules_build "$KVER_7"
	stage ktap_check "sparse clean on $KVER_61 (C=2)" sparse_check "$KVER_61"
	stage ktap_check "sparse clean on $KVER_612 (C=2)" sparse_check "$KVER_612"
	stage ktap_check "sparse clean on $KVER_7 (C=2)" sparse_check "$KVER_7"
	stage ktap_check "checkpatch --strict clean: kmod/ guest/ uapi/" checkpatch_all
	stage ktap_check "clang-tidy clean: tools/ selftests/" clang_tidy_all
	stage ktap_run "rig self-test: exit status, kernel-log bug detection, timeout" \
		selftests/rig/selftest.sh
	stage ktap_run "vm suite on $KVER_61" vm_suite 6.1
	stage ktap_run "vm suite on $KVER_612" vm_suite 6.12
	stage ktap_run "vm suite on $KVER_7" vm_suite "$K7_SERIES"
	ktap_finish
}

# Count leaf results: a result line is a parent when the result line before
# it was indented deeper.  A failed parent whose subtests all passed (a
# crash, a timeout, a kernel warning) counts as one failure of its own.
count_results() {
	awk '
	/^ *(not )?ok [0-9]+/ {
		match($0, /^ */)
		d = RLENGTH
		fail = ($0 ~ /^ *not ok/)
		skip = ($0 ~ /# *SKIP/)
		if (seen && prev > d) {
			if (fail && !below[d]) { failed++; mark(d) }
		} else if (skip) {
			skipped++
		} else if (fail) {
			failed++; mark(d)
		} else {
			passed++
		}
		below[d] = 0
		prev = d; seen = 1
	}
	function mark(d,   i) { for (i = 0; i < d; i++) below[i] = 1 }
	END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
	      exit failed ? 1 : 0 }
	'
}

mkdir -p build
t0=$SECONDS
run_all 2>&1 | tee build/check.log
plan_rc=${PIPESTATUS[0]}
echo "# make check took $((SECONDS - t0)) s"
count_results < build/check.log
count_rc=$?
[ "$plan_rc" -eq 0 ] && [ "$count_rc" -eq 0 ]
