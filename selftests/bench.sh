#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the interrupt round-trip benchmark (selftests/bench/) in the
# rig with multi-threaded TCG, on each pinned kernel.  Not a test: it
# prints figures and writes them to build/bench/irq-bench-<kernel>-<mode>.json,
# build/bench/scan-bench-<kernel>.json and build/bench/entry-bench-<kernel>.json.
#
# A boot that dies of the known multi-threaded TCG text-patching race
# (an "int3 in __schedule" oops while booting) is retried, at most twice per kernel;
# every retry is counted and printed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
mkdir -p "$out"
kernels=${PISTEER_BENCH_KERNELS:-6.12 6.1}
retries=0 rc=0
for k in $kernels; do
	for attempt in 1 2 3; do
		log=$out/console-$k.log
		echo "== bench on $k (attempt $attempt) =="
		selftests/rig/vm-run --kernel "$k" --multi --timeout 1500 --log "$log" \
			--out "$out" -- env PISTEER_BENCH_N="${PISTEER_BENCH_N:-10000}" \
			selftests/bench/bench-guest.sh
		r=$?
		if [ $r -ne 0 ] && grep -aq "int3" "$log"; then
			retries=$((retries + 1))
			echo "bench: the $k boot hit the TCG text-patching race (int3); retry $retries"
			continue
		fi
		[ $r -eq 0 ] || { echo "bench on $k failed with status $r"; rc=1; }
		break
	done
done
echo "bench: $retries retr$([ $retries -eq 1 ] && echo y || echo ies) after the TCG int3 race"
ls "$out"/irq-bench-*.json "$out"/scan-bench-*.json "$out"/entry-bench-*.json 2>/dev/null
exit $rc
