#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot the emulated host (a pinned Debian kernel under QEMU,
# VT-d with interrupt remapping, an 82574L bound to vfio-pci, KVM), load
# pisteer.ko, run a passthrough VM that takes real device interrupts, and
# print what happened.  PISTEER_DEMO_KERNEL=6.1 boots the other kernel.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${PISTEER_DEMO_KERNEL:-6.12}
echo "pisteer demo: booting the emulated host (Debian $kernel kernel under QEMU TCG)..."
t0=$SECONDS
"$top/selftests/rig/vm-run" --kernel "$kernel" --timeout 600 -- \
	selftests/demo/demo-guest.sh
rc=$?
echo
echo "demo finished in $((SECONDS - t0)) s with status $rc"
exit $rc
