#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The inside of `make demo`: runs on the emulated host booted by vm-run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
mods=$top/build/modules/$(uname -r)
cli=$top/build/pisteer

section() { printf '\n== %s ==\n' "$*"; }

section "The emulated host"
echo "kernel:     $(uname -r), $(nproc) CPUs (QEMU TCG, q35)"
echo "IOMMU:      $(dmesg | grep -o 'Enabled IRQ remapping in [a-z0-9]* mode' | head -1)"
echo "KVM:        kvm_amd nested=$(cat /sys/module/kvm_amd/parameters/nested)" \
	"avic=$(cat /sys/module/kvm_amd/parameters/avic)" \
	"(no AVIC, an emulated VT-d that cannot post: every interrupt is remapped)"
for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
	[ -e "$d" ] || continue
	echo "device:     ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") (82574L)" \
		"bound to vfio-pci, IOMMU group $(basename "$(readlink "$d/iommu_group")")"
done

section "Loading pisteer.ko"
insmod "$mods/kmod/pisteer.ko" || exit 1
ls -l /dev/pisteer
"$cli" version || exit 1

section "pisteer status: what the module discovers"
fifo=$(mktemp -d)
mkfifo "$fifo/in" "$fifo/out"
"$top/build/selftests/ptvm_demo" -H <"$fifo/in" >"$fifo/out" &
holder=$!
exec {hin}>"$fifo/in" {hout}<"$fifo/out"
read -r -t 120 -u "$hout" line
echo "A passthrough VM (pid $holder) holds an 82574L; its guest routes the MSI-X"
echo "vectors alternately to vCPU 0 and 1:"
echo
"$cli" status
echo r >&"$hin"
read -r -t 60 -u "$hout" line
echo
echo "The guest reprograms every MSI to the other vCPU; pisteer sees it:"
echo
"$cli" status --vm "$holder"
echo
echo "The same as JSON (first vector): pisteer status --vm $holder --json"
"$cli" status --vm "$holder" --json | jq -M '.[0]'
exec {hin}>&- {hout}<&-
wait "$holder"
rm -rf "$fifo"
echo
echo "That VM has exited: $("$cli" status)"

section "A passthrough VM takes real device interrupts"
"$top/build/selftests/ptvm_demo" -n "${PISTEER_DEMO_COUNT:-20}"
rc=$?

section "Unloading pisteer.ko"
rmmod pisteer && echo "unloaded; /dev/pisteer $(test -e /dev/pisteer && echo still there || echo gone)"
exit $rc
