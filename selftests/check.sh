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
# Each stage prints its own `took N s` (st).
__ktap_took() { :; }
# shellcheck source=lib/debinst.sh
. selftests/lib/debinst.sh
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

# In build/sparse/KVER, a copy of the sources of its own: sparse does not
# share objects with the W=1 build of the same kernel, so the two can run
# beside each other (and the suite's modules stay the W=1 ones).
# sparse_check KVER: 0 clean, 1 a warning or a failed build, 4 sparse did
# not run (Kbuild found no usable checker: said, never a pass).
sparse_check() {
	local kver=$1 out
	make --no-print-directory "build/sparse/$kver/.copied" || return 1
	out=$(scripts/kbuild.sh "$kver" "build/sparse/$kver" C=2 modules 2>&1) ||
		{ printf '%s\n' "$out"; return 1; }
	if printf '%s\n' "$out" | grep -E ': (warning|error):'; then
		return 1
	fi
	if printf '%s\n' "$out" | grep -q 'specified, but .* is not available'; then
		echo "sparse did not run for $kver; Kbuild said:"
		printf '%s\n' "$out" | grep 'specified, but' | sed 's/^.*Makefile:[0-9]*: //'
		return 4
	fi
}

# sparse_stage DESC KVER: the sparse stage, a skip with its reason when
# sparse did not run (7.x: the headers package has no
# scripts/checker-valid.sh, and trixie's sparse 0.6.4 cannot parse those
# headers' __typeof_unqual__ anyway).
sparse_stage() {
	local desc=$1 out rc=0
	out=$(sparse_check "$2" 2>&1) || rc=$?
	case $rc in
	0) ktap_ok "$desc" ;;
	4) printf '%s\n' "$out" | sed 's/^/# /'
	   ktap_skip "$desc" ;;
	*) [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
	   ktap_fail "$desc" ;;
	esac
}

checkpatch_all() {
	local f out bad=0
	[ -f "$checkpatch" ] || { echo "no $checkpatch: run scripts/deps.sh"; return 1; }
	# Exit status 0 only without errors, warnings and (--strict) checks.
	# The compat layers are where kernel versions are compared: there
	# only, LINUX_VERSION_CODE (advice for upstream code) is allowed.
	for f in $(git ls-files 'kmod/*.[ch]' 'guest/*.[ch]' 'uapi/*.h' 'selftests/kmod/*.c'); do
		ign=()
		case "$f" in
		*/compat/* | *compat.h) ign=(--ignore LINUX_VERSION_CODE) ;;
		esac
		out=$(perl "$checkpatch" --no-tree --strict --terse --show-types \
			"${ign[@]}" -f "$f") || { printf '%s\n' "$out"; bad=1; }
	done
	return $bad
}

# One clang-tidy per file, $check_jobs at a time; their outputs in file
# order.  Nearly all of its time is the static analyzer
# (clang-analyzer-*) in each file's own functions: the headers take
# 0.1 s a file.
clang_tidy_all() {
	local d f out rc=0
	d=$(mktemp -d) || return 1
	git ls-files 'tools/*.c' 'selftests/*.c' ':!selftests/kmod/' >"$d/files" || rc=1
	# shellcheck disable=SC2016
	[ "$rc" -ne 0 ] || xargs -d '\n' -P "$check_jobs" -n 1 bash -c '
		d=$1 v=$2 f=$3 log=$d/${f//\//_}.log
		clang-tidy --quiet "$f" -- -std=gnu11 -Iuapi -DPISTEER_RELEASE="\"$v\"" >"$log" 2>&1 ||
			{ echo "clang-tidy $f: exit status $?" >>"$log"; exit 1; }
		' clang-tidy "$d" "$(cat VERSION)" <"$d/files" || rc=1
	# (Without the "N warnings generated." each file's run ends with.)
	out=$(while read -r f; do
		grep -vE '^[0-9]+ warnings? generated\.$' "$d/${f//\//_}.log"
	done <"$d/files")
	rm -rf "$d"
	[ -z "$out" ] || printf '%s\n' "$out"
	if [ "$rc" -ne 0 ] || printf '%s\n' "$out" | grep -qE '(warning|error):'; then
		return 1
	fi
}

# The commands reach the module through tools/lib/pisteer_dev.c only.
no_raw_ioctl() {
	local hits
	hits=$(grep -nE '(^|[^[:alnum:]_])ioctl[[:space:]]*\(|<sys/ioctl\.h>' tools/cmd_*.c)
	[ -z "$hits" ] || { printf '%s\n' "$hits"; return 1; }
}

# The model's record is the module's own type: only the model fills the
# uapi struct (pst_vec_export()), chrdev.c copies it out, debugfs.c prints it.
uapi_vector_at_edge() {
	local hits
	hits=$(grep -lw 'struct pisteer_vector' kmod/*.[ch] |
		grep -vxE 'kmod/pisteer_model\.[ch]|kmod/pisteer_(chrdev|debugfs)\.c')
	[ -z "$hits" ] || { echo "struct pisteer_vector used in: $hits"; return 1; }
	grep -q 'TP_PROTO(const struct pst_vec \*v)' kmod/pisteer_trace.h ||
		{ echo "the vector tracepoints do not take the model's record"; return 1; }
}

dkms_version() {
	local want have
	want=$(cat VERSION)
	have=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
	[ "$have" = "$want" ] || { echo "dkms.conf says '$have', VERSION '$want'"; return 1; }
}

deb_version() {
	local want have
	want=$(cat VERSION)
	have=$(dpkg-parsechangelog -l debian/changelog -S Version) || return 1
	[ "$have" = "$want" ] || { echo "debian/changelog says '$have', VERSION '$want'"; return 1; }
}

# A package make deb built; built (again) when it is not there or a file
# of the tree is newer than it, so that a stage run alone checks this tree.
# Under a lock: the stages of a group that want one build it once.
deb_file() {
	(
		flock 9 || exit 1
		deb_file_locked "$@"
	) 9>build/.deb.lock
}

deb_file_locked() {
	local f newer
	f=build/deb/$1_$(cat VERSION)_$2.deb
	[ ! -f "$f" ] || newer=$(git ls-files -co --exclude-standard | while read -r g; do
		[ ! "$g" -nt "$f" ] || { echo "$g"; break; }
	done)
	if [ ! -f "$f" ] || [ -n "$newer" ]; then
		make --no-print-directory deb >/dev/null || return 1
	fi
	[ -f "$f" ] || { echo "make deb made no $f"; return 1; }
	echo "$f"
}

lintian_check() {
	local changes
	deb_file pisteer amd64 >/dev/null || return 1
	changes=build/deb/pisteer_$(cat VERSION)_amd64.changes
	# Warnings fail too: one that is wrong for pisteer goes, with the
	# reason, into a debian/*.lintian-overrides file.
	lintian --fail-on error,warning --display-info "$changes"
}

# make install, then make uninstall, into an empty DESTDIR: install puts
# exactly the CLI, its man pages, its bash completion, the module
# sources git knows of, the boot unit, the modules-load.d entry,
# pisteer.conf and the libvirt hook;
# uninstall leaves no file and no directory but the shared ones.
install_roundtrip() {
	local d rc=0
	d=$(mktemp -d) || return 1
	install_roundtrip_in "$d" || rc=1
	rm -rf "$d"
	return $rc
}

install_roundtrip_in() {
	local d=$1 p=usr/local src want have f
	src=$p/src/pisteer-$(cat VERSION)
	make --no-print-directory -s install DESTDIR="$d" || return 1
	want=$( {
		echo "$p/sbin/pisteer"
		git ls-files 'tools/man/*.8' | sed "s|^tools/man/|$p/share/man/man8/|"
		echo "$p/share/bash-completion/completions/pisteer"
		echo "$p/lib/systemd/system/pisteer.service"
		echo "$p/lib/modules-load.d/pisteer.conf"
		echo etc/pisteer/pisteer.conf
		echo etc/libvirt/hooks/qemu.d/pisteer
		git ls-files dkms.conf Kbuild VERSION kmod guest uapi | sed "s|^|$src/|"
	} | sort)
	have=$(cd "$d" && find . ! -type d | sed 's|^\./||' | sort)
	[ "$have" = "$want" ] || {
		echo "make install put (<) / should have put (>):"
		diff <(printf '%s\n' "$have") <(printf '%s\n' "$want")
		return 1
	}
	[ -x "$d/$p/sbin/pisteer" ] || { echo "$p/sbin/pisteer is not executable"; return 1; }
	cmp build/pisteer "$d/$p/sbin/pisteer" || return 1
	for f in $(git ls-files 'tools/man/*.8'); do
		cmp "$f" "$d/$p/share/man/man8/${f##*/}" || return 1
	done
	cmp tools/completion/pisteer "$d/$p/share/bash-completion/completions/pisteer" || return 1
	cmp tools/system/pisteer.conf "$d/etc/pisteer/pisteer.conf" || return 1
	cmp tools/system/pisteer.modules-load "$d/$p/lib/modules-load.d/pisteer.conf" || return 1
	[ -x "$d/etc/libvirt/hooks/qemu.d/pisteer" ] &&
		cmp tools/hooks/qemu-pisteer "$d/etc/libvirt/hooks/qemu.d/pisteer" || return 1
	grep -qx "ExecStart=/$p/sbin/pisteer config apply" "$d/$p/lib/systemd/system/pisteer.service" ||
		{ echo "the unit does not run /$p/sbin/pisteer"; return 1; }
	for f in $(git ls-files dkms.conf Kbuild VERSION kmod guest uapi); do
		cmp "$f" "$d/$src/$f" || return 1
	done
	make --no-print-directory -s uninstall DESTDIR="$d" || return 1
	have=$(cd "$d" && find . -mindepth 1 | sed 's|^\./||' | sort)
	want=$(printf '%s\n' usr "$p" "$p/sbin" "$p/share" "$p/share/man" "$p/share/man/man8" \
		"$p/share/bash-completion" "$p/share/bash-completion/completions" "$p/src" \
		"$p/lib" "$p/lib/systemd" "$p/lib/systemd/system" "$p/lib/modules-load.d" \
		etc etc/libvirt etc/libvirt/hooks etc/libvirt/hooks/qemu.d | sort)
	[ "$have" = "$want" ] || {
		echo "make uninstall left (<) / may leave (>):"
		diff <(printf '%s\n' "$have") <(printf '%s\n' "$want")
		return 1
	}
}

# dkms build (never dkms install) of the pisteer-dkms package's sources,
# unpacked into a temporary directory that is also DKMS's tree, against
# a pinned kernel's headers.  The 7.x headers (gcc-14) live in the trixie
# chroot: there this machine's dkms script runs in the chroot, the
# directory bind-mounted at the same path (as scripts/kbuild.sh does).
# sign_file: no module signing key is made (/var/lib/dkms/mok.key).
dkms_build() {
	local kver=$1 deb t rc=0
	deb=$(deb_file pisteer-dkms all) || return 1
	t=$(mktemp -d) || return 1
	dkms_build_in "$kver" "$deb" "$t" || rc=1
	rm -rf "$t"
	return $rc
}

dkms_build_in() {
	local kver=$1 deb=$2 t=$3 ver m f ko rc root=$cache/trixie
	local -a args kos=()
	ver=$(cat VERSION)
	dpkg-deb -x "$deb" "$t/root" || return 1
	mkdir "$t/dkms" || return 1
	args=(-m pisteer -v "$ver" --dkmstree "$t/dkms" --sourcetree "$t/root/usr/src")
	if [ -d "/lib/modules/$kver/build" ]; then
		sign_file=/nonexistent dkms add "${args[@]}" >"$t/log" 2>&1 &&
			sign_file=/nonexistent dkms build "${args[@]}" -k "$kver" >>"$t/log" 2>&1
	elif [ -d "$root/lib/modules/$kver/build" ]; then
		cp /usr/sbin/dkms "$t/dkms.sh" && mkdir -p "$root$t" || return 1
		# shellcheck disable=SC2016
		unshare --mount --propagation private -- sh -c '
			mount --bind "$1" "$2$1" && mount -t proc proc "$2/proc" || exit 1
			t=$1 root=$2 kver=$3
			shift 3
			set -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
				sign_file=/nonexistent bash "$t/dkms.sh" "$@"
			chroot "$root" "$@" add && chroot "$root" "$@" build -k "$kver"
		' dkms "$t" "$root" "$kver" "${args[@]}" >"$t/log" 2>&1
	else
		echo "no headers for $kver here or in $root: run scripts/deps.sh"
		return 1
	fi
	rc=$?
	[ ! -d "$root$t" ] || rmdir "$root$t"
	if [ "$rc" -ne 0 ]; then
		cat "$t/log"
		f=$t/dkms/pisteer/$ver/build/make.log
		[ ! -f "$f" ] || tail -n 40 "$f"
		return 1
	fi
	for m in pisteer pisteer_guest; do
		ko=
		for f in "$t/dkms/pisteer/$ver/$kver/x86_64/module/$m.ko"*; do
			[ -f "$f" ] && ko=$f
		done
		[ -n "$ko" ] || { cat "$t/log"; echo "dkms built no $m.ko for $kver"; return 1; }
		f=$(modinfo -F vermagic "$ko")
		[ "${f%% *}" = "$kver" ] || { echo "$ko: vermagic '$f', not $kver"; return 1; }
		kos+=("$ko")
	done
	[ ! -e /var/lib/dkms/pisteer ] || { echo "dkms wrote into /var/lib/dkms/pisteer"; return 1; }
	# What DKMS built, for the rig's dkms_module test.
	rm -rf "build/dkms/$kver" && mkdir -p "build/dkms/$kver" && cp "${kos[@]}" "build/dkms/$kver/"
}

# vm_suite SERIES KVER: the VM suite on one kernel.  With STAGE=vm (the
# static stages not run) the DKMS build dkms_module loads is made first,
# so that the inner loop tests this tree's sources, not a stale build.
vm_suite() {
	if [ "${STAGE:-}" = vm ] && { [ -z "${TEST:-}" ] || [ "$TEST" = dkms_module ]; }; then
		dkms_build "$2" >/dev/null ||
			ktap_diag "the DKMS build for $2 failed: dkms_module will say so"
	fi
	# --nvme 64: the scale test's NVMe on vfio-pci (no IRQ until a VM
	# holds it, so the other tests do not see it).
	selftests/rig/vm-run --kernel "$1" --timeout "$vm_timeout" --nvme 64 -- \
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

# The runner.  st KIND KVER DESC CMD...: one stage of KIND (static or vm),
# for kernel KVER (- for none); counted when $counting, else run if
# selected.  A stage runs alone (after every stage before it has ended,
# before any after it starts) unless a `group NAME` line is above it: the
# stages from there to the next `group` line run beside each other,
# $check_jobs at a time, started in their order; each one's output is held
# until it has ended and printed in stage order, so the KTAP document is
# the one a run of one stage after another prints (numbers, results,
# `took N s`).  `group -` ends a group: the stages after it run alone again.
# PISTEER_CHECK_JOBS=1 runs every stage alone.
counting=1
nr_stages=0
check_jobs=${PISTEER_CHECK_JOBS:-$(nproc)}
[[ $check_jobs =~ ^[1-9][0-9]*$ ]] ||
	{ echo "make check: PISTEER_CHECK_JOBS is a number, not '$check_jobs'" >&2; exit 2; }
vm_kvers=()

selected() {
	local kind=$1 kver=$2 desc=$3
	[ -z "${STAGE:-}" ] || [ "$STAGE" = "$kind" ] || return 1
	if [ -n "$want_kver" ] && [ "$kver" != - ] && [ "$kver" != "$want_kver" ]; then
		return 1
	fi
	if [ -n "$want_kver" ] && [ "$kver" = - ] && [ "$kind" = vm ]; then
		return 1
	fi
	if [ -n "${TEST:-}" ] && [ "$kind" = static ] && [[ $desc != *"$TEST"* ]]; then
		return 1
	fi
}

st() {
	local kind=$1 kver=$2 desc=$3 t0=$SECONDS
	shift 3
	selected "$kind" "$kver" "$desc" || return 0
	if [ -n "$counting" ]; then
		nr_stages=$((nr_stages + 1))
		[ "$kind" != vm ] || vm_kvers+=("$kver")
		return 0
	fi
	nr_started=$((nr_started + 1))
	if [ -z "$grp" ] || [ "$check_jobs" -le 1 ]; then
		"$1" "$desc" "${@:2}"
		ktap_diag "took $((SECONDS - t0)) s"
		grp_next=$((nr_started + 1))
		return 0
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$check_jobs" ]; do
		wait -n
		group_print
	done
	grp_desc[nr_started]=$desc
	stage_bg "$nr_started" "$desc" "$@" >"$grp_dir/$nr_started.out" 2>&1 </dev/null &
}

# group NAME | group -: see st.
group() {
	[ -z "$counting" ] || return 0
	group_end
	[ "$1" = - ] || grp=$1
}

# A stage of a group, in the background: its KTAP result numbered as it
# would be in order; what it counted goes to N.end.
stage_bg() {
	local n=$1 desc=$2 t0=$SECONDS
	shift 2
	__ktap_n=$((n - 1)) __ktap_pass=0 __ktap_fail=0 __ktap_skip=0
	"$1" "$desc" "${@:2}"
	ktap_diag "took $((SECONDS - t0)) s"
	echo "$__ktap_pass $__ktap_fail $__ktap_skip" >"$grp_dir/$n.tmp" &&
		mv "$grp_dir/$n.tmp" "$grp_dir/$n.end"
}

# Print the group's stages that have ended, in order, up to the first one
# still running.  group_print all: after every one has ended; a stage that
# left no count (its shell died) is a failure, with what it printed.
group_print() {
	local p f s
	while [ "$grp_next" -le "$nr_started" ]; do
		if [ -e "$grp_dir/$grp_next.end" ]; then
			cat "$grp_dir/$grp_next.out"
			read -r p f s <"$grp_dir/$grp_next.end"
			__ktap_n=$grp_next
			__ktap_pass=$((__ktap_pass + p)) __ktap_fail=$((__ktap_fail + f))
			__ktap_skip=$((__ktap_skip + s))
		elif [ "${1:-}" = all ]; then
			cat "$grp_dir/$grp_next.out"
			__ktap_n=$((grp_next - 1))
			ktap_diag "the stage ended without a result"
			ktap_fail "${grp_desc[grp_next]}"
		else
			break
		fi
		rm -f "$grp_dir/$grp_next".*
		grp_next=$((grp_next + 1))
	done
}

group_end() {
	[ -n "$grp" ] || return 0
	wait
	group_print all
	grp=
}

stages() {
	st static - "build: CLI, test programs, modules against KDIR (make)" \
		ktap_check make --no-print-directory -j"$check_jobs" all
	# What reads the build stage's files and writes only its own: beside
	# each other (see st).
	group built
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
	st static - "kmod/: struct pisteer_vector only at the edge (model export, chrdev, debugfs)" \
		ktap_check uapi_vector_at_edge
	st static - "dkms.conf PACKAGE_VERSION equals VERSION" ktap_check dkms_version
	st static - "debian/changelog version equals VERSION" ktap_check deb_version
	st static - "man pages: render clean (groff -ww, man --warnings), say what each --help says" \
		ktap_run selftests/tools/man_help.sh build/pisteer
	st static - "bash completion: commands, options and values, as each --help has them" \
		ktap_run selftests/tools/completion.sh build/pisteer
	st static - "make install/uninstall with DESTDIR round-trips (install puts the files, uninstall leaves nothing)" \
		ktap_check install_roundtrip
	st static - "packages build (make deb)" ktap_check make --no-print-directory deb
	# What needs make deb's packages or builds in a directory of its own;
	# and the rig's self-test (four short boots that measure nothing), first
	# because it takes longest.
	group packaged
	st static - "rig self-test: exit status, kernel-log bug detection, timeout" \
		ktap_run selftests/rig/selftest.sh
	st static - "lintian clean on the packages" ktap_check lintian_check
	st static - "packages: apt-get install in a clean bookworm chroot, DKMS builds, purge leaves nothing" \
		ktap_run debinst_check
	st static "$KVER_61" "pisteer-dkms: dkms builds both modules for $KVER_61" \
		ktap_check dkms_build "$KVER_61"
	st static "$KVER_612" "pisteer-dkms: dkms builds both modules for $KVER_612" \
		ktap_check dkms_build "$KVER_612"
	st static "$KVER_7" "pisteer-dkms: dkms builds both modules for $KVER_7 (trixie chroot)" \
		ktap_check dkms_build "$KVER_7"
	st static "$KVER_61" "modules build for $KVER_61 with W=1, no warnings" \
		ktap_check modules_build "$KVER_61"
	st static "$KVER_612" "modules build for $KVER_612 with W=1, no warnings" \
		ktap_check modules_build "$KVER_612"
	st static "$KVER_7" "modules build for $KVER_7 with W=1, no warnings (trixie chroot)" \
		ktap_check modules_build "$KVER_7"
	st static "$KVER_61" "sparse clean on $KVER_61 (C=2)" sparse_stage "$KVER_61"
	st static "$KVER_612" "sparse clean on $KVER_612 (C=2)" sparse_stage "$KVER_612"
	st static "$KVER_7" "sparse clean on $KVER_7 (C=2)" sparse_stage "$KVER_7"
	st static - "checkpatch --strict clean: kmod/ guest/ uapi/" ktap_check checkpatch_all
	st static - "clang-tidy clean: tools/ selftests/" ktap_check clang_tidy_all
	# The VM suites run alone: they measure time.
	group -
	st vm "$KVER_61" "vm suite on $KVER_61" ktap_run vm_suite 6.1 "$KVER_61"
	st vm "$KVER_612" "vm suite on $KVER_612" ktap_run vm_suite 6.12 "$KVER_612"
	st vm "$KVER_7" "vm suite on $KVER_7" ktap_run vm_suite "$K7_SERIES" "$KVER_7"
}

run_all() {
	local -a want
	local k
	stages
	counting=
	# A stage run alone needs what the build stage makes, a VM stage the
	# modules for its kernel.
	if [ -n "${STAGE:-}${TEST:-}${KERNEL:-}" ]; then
		want=(all)
		for k in "${vm_kvers[@]}"; do
			want+=("build/modules/$k/.built")
		done
		make --no-print-directory -j"$check_jobs" "${want[@]}" >build/check-build.log 2>&1 ||
			{ cat build/check-build.log; echo "# make check: the build failed"; return 1; }
	fi
	grp='' grp_next=1 nr_started=0 grp_desc=()
	grp_dir=$(mktemp -d build/check-stages.XXXXXX) || return 1
	trap 'rm -rf "$grp_dir"' EXIT
	ktap_plan "$nr_stages"
	stages
	group_end
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
