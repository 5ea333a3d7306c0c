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

# The commands reach the module through tools/lib/pisteer_dev.c only.
no_raw_ioctl() {
	local hits
	hits=$(grep -nE '(^|[^[:alnum:]_])ioctl[[:space:]]*\(|<sys/ioctl\.h>' tools/cmd_*.c)
	[ -z "$hits" ] || { printf '%s\n' "$hits"; return 1; }
}

dkms_version() {
	local want have
	want=$(cat VERSION)
	have=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	[ "$have" = "$want" ] || { echo "dkms.conf says '$have', VERSION '$want'"; return 1; }
}

vm_suite() {
	selftests/rig/vm-run --kernel "$1" --timeout "$vm_timeout" -- \
		selftests/vm/suite.sh ${TEST:+"$TEST"}
}

# The inner loop: STAGE=static|vm, KERNEL=6.1|6.12|7.x (the kernel of the
# module builds, sparse and the VM suite), TEST=NAME (a VM suite test, or a
# word of a static stage's description).  Unset: everything.
kernel_of() {
	case $1 in
	6.1) echo "$KVER_61" ;;
	6.12) echo "$KVER_612" ;;
	7 | 7.x | "$K7_SERIES") echo "$KVER_7" ;;
	*) echo "$1" ;;
	esac
}
want_kver=
[ -n "${KERNEL:-}" ] && want_kver=$(kernel_of "$KERNEL")
case ${STAGE:-} in
'' | static | vm) ;;
*) echo "make check: STAGE is static or vm, not '$STAGE'" >&2; exit 2 ;;
esac
if [ -n "$want_kver" ] && [ "$want_kver" != "$KVER_61" ] &&
	[ "$want_kver" != "$KVER_612" ] && [ "$want_kver" != "$KVER_7" ]; then
	echo "make check: KERNEL is 6.1, 6.12 or $K7_SERIES, not '$KERNEL'" >&2
	exit 2
fi

# st KIND KVER DESC CMD...: one stage of KIND (static or vm), for kernel
# KVER (- for none); counted when $counting, else run if selected.
counting=1
nr_stages=0
st() {
	local kind=$1 kver=$2 desc=$3
	shift 3
	[ -z "${STAGE:-}" ] || [ "$STAGE" = "$kind" ] || return 0
	if [ -n "$want_kver" ] && [ "$kver" != - ] && [ "$kver" != "$want_kver" ]; then
		return 0
	fi
	if [ -n "$want_kver" ] && [ "$kver" = - ] && [ "$kind" = vm ]; then
		return 0
	fi
	if [ -n "${TEST:-}" ] && [ "$kind" = static ] && [[ $desc != *"$TEST"* ]]; then
		return 0
	fi
	if [ -n "$counting" ]; then
		nr_stages=$((nr_stages + 1))
		return 0
	fi
	local t0=$SECONDS
	"$1" "$desc" "${@:2}"
	ktap_diag "took $((SECONDS - t0)) s"
}

stages() {
	st static - "build: CLI, test programs, modules against KDIR (make)" \
		ktap_check make --no-print-directory all
	st static - "unit: CLI code" ktap_run build/selftests/cli_unit build/pisteer
	st static - "unit: pisteer guest against a sysfs fixture" \
		ktap_run build/selftests/guest_unit build/pisteer
	st static - "unit: pin and isolate code (CPU lists, placement, cgroups, state, QMP)" \
		ktap_run build/selftests/pin_unit build/pisteer
	st static - "pin against real QEMU processes (tcg, -S)" \
		ktap_run build/selftests/pin_qemu build/pisteer
	st static - "unit: rdma-lat code" ktap_run build/selftests/rdma_unit build/pisteer
	st static - "tools/cmd_*.c call no ioctl() (the ioctl layer: tools/lib/pisteer_dev.c)" \
		ktap_check no_raw_ioctl
	st static - "dkms.conf PACKAGE_VERSION equals VERSION" ktap_check dkms_version
	st static - "man page pisteer.8: groff -ww clean, documents every command" \
		ktap_check man_lint
	st static "$KVER_61" "modules build for $KVER_61 with W=1, no warnings" \
		ktap_check modules_build "$KVER_61"
	st static "$KVER_612" "modules build for $KVER_612 with W=1, no warnings" \
		ktap_check modules_build "$KVER_612"
	st static "$KVER_7" "modules build for $KVER_7 with W=1, no warnings (trixie chroot)" \
		ktap_check modules_build "$KVER_7"
	st static "$KVER_61" "sparse clean on $KVER_61 (C=2)" ktap_check sparse_check "$KVER_61"
	st static "$KVER_612" "sparse clean on $KVER_612 (C=2)" ktap_check sparse_check "$KVER_612"
	st static "$KVER_7" "sparse clean on $KVER_7 (C=2)" ktap_check sparse_check "$KVER_7"
	st static - "checkpatch --strict clean: kmod/ guest/ uapi/" ktap_check checkpatch_all
	st static - "clang-tidy clean: tools/ selftests/" ktap_check clang_tidy_all
	st static - "rig self-test: exit status, kernel-log bug detection, timeout" \
		ktap_run selftests/rig/selftest.sh
	st vm "$KVER_61" "vm suite on $KVER_61" ktap_run vm_suite 6.1
	st vm "$KVER_612" "vm suite on $KVER_612" ktap_run vm_suite 6.12
	st vm "$KVER_7" "vm suite on $KVER_7" ktap_run vm_suite "$K7_SERIES"
}

run_all() {
	stages
	counting=
	# A VM stage alone needs what the build stage makes.
	if [ -n "${STAGE:-}${TEST:-}${KERNEL:-}" ]; then
		make --no-print-directory all modules-all >build/check-build.log 2>&1 ||
			{ cat build/check-build.log; echo "# make check: the build failed"; return 1; }
	fi
	ktap_plan "$nr_stages"
	stages
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
