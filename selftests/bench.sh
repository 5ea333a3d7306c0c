#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the benchmarks (selftests/bench/) in the rig, on each pinned
# kernel.  Not a test: it prints figures and writes them to build/bench/:
#   round-trip  (2 CPUs, multi-threaded TCG) irq-bench-<kernel>-<mode>.json,
#               scan-bench-<kernel>.json, entry-bench-<kernel>.json
#   mechanism   (3 CPUs, single-threaded TCG: it counts, it does not time,
#               and the emulator is faster so) mechanism-<kernel>.json, and
#               mechanism.json for the first kernel benched
# PISTEER_BENCH_KERNELS (default "6.12 6.1") and PISTEER_BENCH_PARTS (default
# "round-trip mechanism") choose.
#
# A boot that dies of the known multi-threaded TCG text-patching race
# (an "int3 in __schedule" oops while booting) is retried, at most twice per run;
# every retry is counted and printed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/kernels.sh
. "$top/scripts/kernels.sh"
out=$top/build/bench
mkdir -p "$out"
kernels=${PISTEER_BENCH_KERNELS:-6.12 6.1}
parts=${PISTEER_BENCH_PARTS:-round-trip mechanism}
for p in $parts; do
	case "$p" in
	round-trip | mechanism) ;;
	*) echo "bench: PISTEER_BENCH_PARTS has round-trip and mechanism, not '$p'" >&2; exit 2 ;;
	esac
done
retries=0 rc=0

# rig_run WHAT KERNEL LOG VM-RUN-ARGS...: one rig run, retried after the int3 race.
rig_run() {
	local what=$1 k=$2 log=$3 attempt r=0
	shift 3
	for attempt in 1 2 3; do
		echo "== $what on $k (attempt $attempt) =="
		"$top/selftests/rig/vm-run" --kernel "$k" --log "$log" --out "$out" "$@"
		r=$?
		if [ $r -ne 0 ] && grep -aq "int3" "$log"; then
			retries=$((retries + 1))
			echo "bench: the $k boot hit the TCG text-patching race (int3); retry $retries"
			continue
		fi
		[ $r -eq 0 ] || echo "bench: $what on $k failed with status $r"
		return $r
	done
	return $r
}

first=
for k in $kernels; do
	if [[ " $parts " == *" round-trip "* ]]; then
		rig_run bench "$k" "$out/console-$k.log" --multi --timeout 1500 -- \
			env PISTEER_BENCH_N="${PISTEER_BENCH_N:-10000}" \
			selftests/bench/bench-guest.sh || rc=1
	fi
	if [[ " $parts " == *" mechanism "* ]]; then
		kver=$(pisteer_kver "$k") || { echo "bench: no kernel $k" >&2; rc=1; continue; }
		rm -f "$out/mechanism-$kver.json"
		rig_run "mechanism bench" "$k" "$out/console-mech-$k.log" --cpus 3 --timeout 900 -- \
			selftests/bench/mech-guest.sh || rc=1
		[ -z "$first" ] && [ -s "$out/mechanism-$kver.json" ] &&
			first=$kver && cp "$out/mechanism-$kver.json" "$out/mechanism.json"
	fi
done
echo "bench: $retries retr$([ $retries -eq 1 ] && echo y || echo ies) after the TCG int3 race"
ls "$out"/irq-bench-*.json "$out"/scan-bench-*.json "$out"/entry-bench-*.json \
	"$out"/mechanism*.json 2>/dev/null
exit $rc
