#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a 3-CPU rig for make bench (vm-run --cpus 3): the mechanism
# benchmark (mech_bench.c), VM exits, IPIs and host IRQs per CPU for 1000
# interrupts with follow, adversarial (static on the other vCPU's CPU), no
# module and housekeeping, written to $PISTEER_RIG_DIR/out/mechanism-<kernel>.json.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${PISTEER_RIG_DIR:-/tmp}/out
mkdir -p "$out"
echo
echo "== what steering saves: VM exits, IPIs and host IRQs per 1000 interrupts =="
"$top/build/selftests/mech_bench" -m "$top/build/modules/$(uname -r)/kmod/pisteer.ko" \
	-p "$top/build/pisteer" -n "${PISTEER_BENCH_MECH_N:-2000}" \
	-o "$out/mechanism-$(uname -r).json"
