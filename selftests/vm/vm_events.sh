#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm_events: after load, pisteer.ko learns VMs from the events it probes
# (the VMM's KVM_IRQFD, KVM_SET_GSI_ROUTING, VFIO_DEVICE_SET_IRQS, the VM
# file's release) and walks every open file of the host only at load and
# as a fallback.  Counted in debugfs pisteer/scans: walks, reuses (scans
# from the known VMs) and each walk's reason.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

mapfile -t bdfs < <(vfio_82574l_bdfs)
scans() { modcount scans "$@"; }
# until_ms MS CMD...: CMD succeeds within MS milliseconds (polled).
until_ms() {
	local n=$(($1 / 20))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.02
	done
}
nr_listed() { "$cli" status --json | jq --argjson p "$1" '[.[] | select(.vm_pid == $p)] | length'; }
# The fd of the VM file pisteer names (vm is "PID-FD").
fd_listed() { "$cli" status --json | jq -r --argjson p "$1" '[.[] | select(.vm_pid == $p) | .vm | split("-")[1]] | unique | join(",")'; }
vm_fd_of() { vm_id "$1" | cut -d- -f2; }

ktap_plan 8
rmmod pisteer 2>/dev/null
insmod "$mods/kmod/pisteer.ko" || { ktap_diag "insmod failed"; exit 1; }

load_walk() {
	local n
	for n in $(seq 50); do
		[ "$(scans walk_load)" -ge 1 ] && return 0
		sleep 0.1
	done
	echo "no walk at load"; cat /sys/kernel/debug/pisteer/scans; return 1
}
ktap_check "at load every open file is walked once (walk_load)" load_walk

w0=$(scans walks)
holder_start A "${bdfs[0]}"
found_a() {
	[ "$(nr_listed "$A_pid")" -eq 5 ] || { echo "VM A: $(nr_listed "$A_pid") vectors listed, 5 expected"; return 1; }
	[ "$(scans walks)" -eq "$w0" ] || { echo "$(( $(scans walks) - w0 )) walks"; return 1; }
}
ktap_check "a VM started after load is found from its events, with no walk" found_a

reroute() {
	local r0=$(scans reuses)
	tell A r rerouted || return 1
	until_ms 3000 test "$(scans reuses)" -gt "$r0" || { echo "no rescan after the reroute"; return 1; }
	[ "$(scans walks)" -eq "$w0" ] || { echo "the reroute walked"; return 1; }
}
ktap_check "a guest reroute rescans from the known VMs, no walk" reroute

if [ "${#bdfs[@]}" -ge 2 ]; then
	holder_start B "${bdfs[1]}"
	found_b() {
		[ "$(nr_listed "$B_pid")" -eq 5 ] && [ "$(nr_listed "$A_pid")" -eq 5 ] &&
			[ "$(scans walks)" -eq "$w0" ] ||
			{ echo "B $(nr_listed "$B_pid"), A $(nr_listed "$A_pid") vectors, $(( $(scans walks) - w0 )) walks"; return 1; }
	}
	ktap_check "a second VM is found too, still no walk" found_b
	# At the top level: ktap_check runs its command in a subshell.
	holder_stop B
	gone_b() {
		# The VM and its device go when KVM's last reference does.
		until_ms 3000 test "$(nr_listed "$B_pid")" -eq 0
		[ "$(nr_listed "$B_pid")" -eq 0 ] && [ "$(nr_listed "$A_pid")" -eq 5 ] &&
			[ "$(scans walks)" -eq "$w0" ] ||
			{ echo "B $(nr_listed "$B_pid"), A $(nr_listed "$A_pid") vectors, $(( $(scans walks) - w0 )) walks"; return 1; }
	}
	ktap_check "the second VM exits: its vectors go (its release noted), no walk" gone_b
else
	ktap_skip "a second VM is found too (one 82574L only)"
	ktap_skip "the second VM exits (one 82574L only)"
fi

moved() {
	local m0=$(scans walk_fd_moved) before=$(fd_listed "$A_pid") now
	tell A F moved || return 1
	now=$(vm_fd_of "$A_pid")
	[ "$now" != "$before" ] || { echo "the VM fd did not move"; return 1; }
	tell A r rerouted || return 1
	until_ms 3000 test "$(scans walk_fd_moved)" -gt "$m0"
	[ "$(fd_listed "$A_pid")" = "$now" ] || { echo "listed fd $(fd_listed "$A_pid"), the VM's is $now"; return 1; }
	[ "$(nr_listed "$A_pid")" -eq 5 ] || { echo "$(nr_listed "$A_pid") vectors"; return 1; }
	[ "$(scans walk_fd_moved)" -gt "$m0" ] || { echo "no fallback walk counted"; return 1; }
}
ktap_check "the VM file moves to another fd unreleased: one fallback walk finds it there" moved

reload() {
	rmmod pisteer && insmod "$mods/kmod/pisteer.ko" || return 1
	[ "$(nr_listed "$A_pid")" -eq 5 ] || { echo "$(nr_listed "$A_pid") vectors after reload"; return 1; }
}
ktap_check "reloaded while the VM runs: the load walk finds it" reload
ktap_check "interrupts still arrive on the routed vCPUs" tell A t raised
ktap_diag "$(tr '\n' ' ' < /sys/kernel/debug/pisteer/scans)"
holder_stop A
rmmod pisteer
ktap_finish
