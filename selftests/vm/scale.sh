#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scale: many vectors of one VM (the small version of make soak's scale
# stage).  A VM holds 64 MSI-X vectors of the NVMe controller vm-run
# --nvme adds, another an 82574L; pisteer.ko lists each vector with its
# device and VM, follow puts each host IRQ on its vCPU's CPU (and moves
# all 64 when the guest reroutes them), static on the CPU named, unload
# restores every affinity, and when the VMs exit their records go and
# the allocation counts are back.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff scale

nv=64
plan=10
ktap_plan $plan
nvme=$(vfio_nvme_bdf)
nic=$(vfio_82574l_bdfs | head -1)
if [ -z "$nvme" ] || [ -z "$nic" ] || [ ! -x "$vec_hold" ]; then
	ktap_diag "needs the rig's NVMe on vfio-pci (vm-run --nvme $nv), an 82574L and $vec_hold"
	while [ "$__ktap_n" -lt $plan ]; do ktap_skip "no NVMe on vfio-pci"; done
	ktap_finish
fi
t0=$SECONDS
allocs=/sys/kernel/debug/pisteer/allocs
rmmod pisteer 2>/dev/null
# The counts of a module that has seen no VM: the end must match them.
insmod "$mods/kmod/pisteer.ko" && fresh=$(cat "$allocs") && rmmod pisteer

nvme_holder_start N "$nvme" "$nv"
holder_start E "$nic"
irqs=$(vfio_irqs "$nvme" "$nic")
# shellcheck disable=SC2086
before=$(irq_affinities $irqs)
# shellcheck disable=SC2086
count() { set -- $irqs; echo $#; }
ktap_diag "NVMe $nvme ($nv vectors) in VM $N_pid, 82574L $nic in VM $E_pid; $(count) host IRQs; set up in $((SECONDS - t0)) s"

ktap_check "insmod with the two VMs running" insmod "$mods/kmod/pisteer.ko"
both_listed() {
	listed "$N_pid" "$nvme" "$nv" && listed "$E_pid" "$nic" 5 &&
		[ "$(count)" = $((nv + 5)) ]
}
ktap_check "$nv + 5 vectors listed, each with its device and VM" both_listed

follow() {
	pin_vcpus "$N_pid" && "$cli" steer --vm "$N_pid" follow >/dev/null &&
		steered "$N_pid" '.steer_cpu == .vcpu_pinned_cpu' 5000 &&
		echo "$steer_ms" > "$fifos/steer_ms"
}
ktap_check "follow: each of the $nv host IRQs on its vCPU's pinned CPU" follow
ktap_diag "follow: all steered after $(cat "$fifos/steer_ms" 2>/dev/null) ms"
reroute() {
	local v0
	v0=$("$cli" status --vm "$N_pid" --json | jq -r '.[] | select(.index == 0) | .vcpu')
	tell N r rerouted && steered "$N_pid" ".steer_cpu == .vcpu_pinned_cpu and
		(.index != 0 or .vcpu != $v0)" 5000 && echo "$steer_ms" > "$fifos/steer_ms"
}
ktap_check "the guest moves all $nv to the other vCPU: the host IRQs follow" reroute
ktap_diag "reroute: all steered after $(cat "$fifos/steer_ms" 2>/dev/null) ms"
static() {
	"$cli" steer --vm "$E_pid" static 1 >/dev/null && steered "$E_pid" '.steer_cpu == 1' 5000
}
ktap_check "static 1 on the 82574L's VM: its 5 host IRQs on CPU 1" static

restored() {
	local now
	rmmod pisteer || return 1
	# shellcheck disable=SC2086
	now=$(irq_affinities $irqs)
	[ "$now" = "$before" ] || { diff <(echo "$before") <(echo "$now") | head; return 1; }
}
ktap_check "rmmod: all $(count) affinities as before the load" restored

found_again() {
	insmod "$mods/kmod/pisteer.ko" && listed "$N_pid" "$nvme" "$nv"
}
ktap_check "reloaded: all $nv NVMe vectors found again" found_again
holder_stop N
holder_stop E
removed() {
	local n
	n=$("$cli" status --json | jq length)
	[ "$n" = 0 ] || { echo "$n vectors listed with the VMs gone"; return 1; }
}
ktap_check "the VMs exit: no vector listed" removed
allocs_back() {
	local i
	for i in $(seq 100); do
		[ "$(cat "$allocs")" = "$fresh" ] && return 0
		sleep 0.05
	done
	diff <(echo "$fresh") "$allocs"
	return 1
}
ktap_check "allocation counts as on a fresh load" allocs_back
ktap_check "rmmod" rmmod pisteer
ktap_diag "took $((SECONDS - t0)) s"
ktap_finish
