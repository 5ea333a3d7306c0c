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

section "pisteer steer: host IRQs follow their vCPUs"
tid0=$("$cli" status --vm "$holder" --json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$("$cli" status --vm "$holder" --json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
taskset -pc 0 "$tid0" >/dev/null
taskset -pc 1 "$tid1" >/dev/null
echo "vCPU 0 (thread $tid0) pinned to CPU 0, vCPU 1 (thread $tid1) to CPU 1;"
echo "no APICv/AVIC here, so every interrupt is remapped: the host IRQ is best"
echo "taken on the CPU of the vCPU it is for.  pisteer steer --vm $holder follow:"
echo
"$cli" steer --vm "$holder" follow
"$cli" status --vm "$holder"
echo
echo "The threads swap CPUs; the host IRQs follow (rescanned every 50 ms):"
taskset -pc 1 "$tid0" >/dev/null
taskset -pc 0 "$tid1" >/dev/null
sleep 0.3
echo
"$cli" status --vm "$holder"
echo
echo "pisteer steer --vm $holder off: each IRQ back to its own affinity:"
"$cli" steer --vm "$holder" off
"$cli" status --vm "$holder"
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

section "The guest side: pisteer_guest.ko places the queue IRQs of a NIC"
# This kernel now plays the guest: its second 82574L goes to the e1000e
# driver, as a passthrough NIC would in a VM.
bdf=$(ls -d /sys/bus/pci/drivers/vfio-pci/0000:* 2>/dev/null | tail -n 1)
bdf=${bdf##*/}
dev=/sys/bus/pci/devices/$bdf
modprobe e1000e && modprobe ib_core
echo > "$dev/driver_override"
echo "$bdf" > "$dev/driver/unbind"
echo "$bdf" > /sys/bus/pci/drivers/e1000e/bind
nd=$(ls "$dev/net")
ip link set "$nd" up && ip addr add 10.0.2.15/24 dev "$nd"
echo "$bdf is now $nd (e1000e, MSI-X: rx, tx and other vectors)."
insmod "$mods/guest/pisteer_guest.ko" || exit 1
echo "pisteer guest attach $nd:"
"$cli" guest attach "$nd"
echo
echo "pisteer guest status: every queue where the driver left it:"
"$cli" guest status
echo
echo "pisteer guest spread $nd: one queue per vCPU, round-robin:"
"$cli" guest spread "$nd"
echo
echo "pisteer guest set $nd 1 1 (rx on vCPU 1), then 10 pings to the gateway:"
"$cli" guest set "$nd" 1 1 >/dev/null
busybox ping -q -c 10 -i 0.2 10.0.2.2 | tail -n 2
"$cli" guest status
grep -E "^ *[0-9]+:.* $nd(-|$)" /proc/interrupts | sed 's/^/  \/proc\/interrupts: /'
rmmod pisteer_guest
exit $rc
