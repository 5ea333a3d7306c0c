#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the rig for make bench: the cost of one discovery scan and what it
# grows with (scan_bench.c), the VM entries per second with latency
# sampling off and on (entry_bench.c), then the four configurations of the
# interrupt round-trip benchmark in one VM's life (see irq_bench.c):
#   follow      pisteer.ko, steer follow: host IRQ on the target vCPU's CPU (1)
#   static-0    pisteer.ko, steer static 0: the other vCPU's CPU
#   no-module   pisteer.ko not loaded, the IRQ's affinity as the kernel left it
#   follow+lat  follow with pisteer's latency sampling on
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ko=$top/build/modules/$(uname -r)/kmod/pisteer.ko
cli=$top/build/pisteer
out=${PISTEER_RIG_DIR:-/tmp}/out
mkdir -p "$out"
n=${PISTEER_BENCH_N:-10000}

phases=(
	--phase "no-module:-:rmmod pisteer 2>/dev/null; true"
	--phase "follow:1:insmod $ko && $cli steer --vm {pid} follow"
	--phase "static-0:0:$cli steer --vm {pid} static 0"
)
if "$cli" lat --help >/dev/null 2>&1; then
	phases+=(--phase "follow+lat:1:$cli steer --vm {pid} follow && $cli lat --enable --vm {pid}")
	ratio4=(--ratio follow+lat/follow)
else
	echo "bench: this pisteer has no 'lat' command: configuration 4 (sampling on) left out"
	ratio4=()
fi
rc=0
echo
echo "== discovery scan cost =="
insmod "$ko" && "$top/build/selftests/scan_bench" -o "$out/scan-bench-$(uname -r).json" || rc=1
rmmod pisteer 2>/dev/null
echo
echo "== VM entries per second with latency sampling on and off =="
"$top/build/selftests/entry_bench" -m "$ko" -o "$out/entry-bench-$(uname -r).json" || rc=1
rmmod pisteer 2>/dev/null
# Halted vCPUs (an idle guest), then spinning ones (busy-polling MPI ranks).
for mode in halt spin; do
	echo
	echo "== vCPUs $mode between interrupts =="
	"$top/build/selftests/irq_bench" $([ $mode = spin ] && echo -s) -n "$n" -w 1000 \
		-o "$out/irq-bench-$(uname -r)-$mode.json" "${phases[@]}" \
		--ratio follow/static-0 --ratio follow/no-module "${ratio4[@]}" || rc=1
	rmmod pisteer 2>/dev/null
done
exit $rc
