#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# status_devices: what the device side can do to the module's records.
# A VM holding an 82574L with MSI (one vector, not MSI-X); a VM whose VMM
# resizes its MSI-X vectors without disabling them; and PCI removal of a
# device a VM holds: VFIO asks the VMM for it back (its request eventfd),
# the VMM unplugs it, the records go, the VM goes on.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

plan=14

mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan $plan
if [ "${#bdfs[@]}" -lt 2 ]; then
	ktap_diag "needs two 82574Ls bound to vfio-pci, found ${#bdfs[@]}"
	while [ "$__ktap_n" -lt $plan ]; do ktap_skip "two 82574Ls"; done
	ktap_finish
fi
a=${bdfs[0]} b=${bdfs[1]}
rmmod pisteer 2>/dev/null
insmod "$mods/kmod/pisteer.ko" || { ktap_fail "insmod"; ktap_finish; }
trace_start
route_log=$fifos/route_ms

json() { "$cli" status --json "$@"; }
host_irq_of() {
	awk -v n="$1" '$NF == n { sub(":", "", $1); print $1 }' /proc/interrupts
}

# --- MSI ---------------------------------------------------------------
holder_start M "$a" -m msi
vm_m=$(vm_id "$M_pid")

check_msi_found() {
	local out want
	want=$(host_irq_of "vfio-msi[0]($a)")
	[ -n "$want" ] || { echo "no vfio-msi[0]($a) in /proc/interrupts"; return 1; }
	out=$(json --vm "$M_pid") || return 1
	jq -e --arg d "$a" --argjson p "$M_pid" --argjson irq "$want" '
		length == 1 and (.[0] | .irq_type == "msi" and .index == 0 and
		    .device == $d and .vm_pid == $p and .host_irq == $irq and
		    .gsi == 32 and .guest_vector == 64 and .vcpu == 0 and
		    .mode == "remapped")' <<<"$out" >/dev/null || { echo "$out"; return 1; }
	wait_trace vector_add "$vm_m" 1
}
ktap_check "MSI: one record, type msi, index 0, host IRQ of vfio-msi[0], GSI 32, vector 0x40, vCPU 0" \
	check_msi_found

check_msi_delivery() {
	local before after
	before=$(awk -v n="vfio-msi[0]($a)" '$NF == n { print $2 + $3 }' /proc/interrupts)
	tell M t raised || return 1
	after=$(awk -v n="vfio-msi[0]($a)" '$NF == n { print $2 + $3 }' /proc/interrupts)
	[ "$after" -gt "$before" ] || { echo "host IRQ count $before -> $after"; return 1; }
}
ktap_check "MSI: a raised interrupt goes through the host IRQ and arrives on vCPU 0" \
	check_msi_delivery

check_msi_reroute() {
	reroute_within M "$M_pid" 100 1 && wait_trace vector_update "$vm_m" 1 &&
		tell M t raised
}
ktap_check "MSI: reroute to vCPU 1 visible within 100 ms (vector_update); it arrives there" \
	check_msi_reroute
ktap_diag "reroute visible after $(cat "$route_log") ms"

check_msi_cycle() {
	tell M d disabled && wait_trace vector_del "$vm_m" 1 &&
		[ "$(json --vm "$M_pid" | jq length)" -eq 0 ] || return 1
	tell M e enabled &&
		[ "$(json --vm "$M_pid" | jq '[.[] | select(.irq_type == "msi")] | length')" -eq 1 ]
}
ktap_check "MSI disabled: the record goes; enabled again: it is back" check_msi_cycle

# --- MSI-X resize -----------------------------------------------------
holder_start X "$b"
vm_x=$(vm_id "$X_pid")
indices() { json --vm "$X_pid" | jq -c 'map(.index) | sort'; }

check_shrink() {
	local got
	echo > "$tracing/trace"
	tell X s3 resized || return 1
	wait_trace vector_del "$vm_x" 2 || return 1
	got=$(indices)
	[ "$got" = "[0,1,2]" ] || { echo "indices $got"; return 1; }
	[ -z "$(host_irq_of "vfio-msix[3]($b)")" ] || { echo "vfio-msix[3] still requested"; return 1; }
}
ktap_check "MSI-X resized 5 -> 3 without disabling: vectors 3, 4 go (vector_del), 0-2 stay" \
	check_shrink

check_grow() {
	local got
	tell X s5 resized || return 1
	wait_trace vector_add "$vm_x" 2 || return 1
	got=$(indices)
	[ "$got" = "[0,1,2,3,4]" ] || { echo "indices $got"; return 1; }
	tell X t raised
}
ktap_check "resized 3 -> 5: vectors 3, 4 back (vector_add), every vector delivered" check_grow

ktap_check "MSI-X vectors routed as before: 0,1,0,1,0" routes_are "$X_pid" 0 1 0 1 0

# A stream of route changes 5 ms apart for ~0.2 s: each change kicks a
# rescan due 20 ms later, and no kick may postpone one already due, so
# rescans happen during the stream, not only after it.  Each one that
# finds the routes swapped since the last emits vector_update for them.
check_stream() {
	local n s0 s1
	echo > "$tracing/trace"
	s0=$(modcount scans walks reuses)
	tell X R40 rerouted || return 1
	s1=$(modcount scans walks reuses)
	echo pisteer-stream-end > "$tracing/trace_marker"
	n=$(awk -v vm="vm=$vm_x " '/pisteer-stream-end/ { exit }
		/vector_update:/ && index($0, vm) { n++ } END { print n + 0 }' "$tracing/trace")
	echo "$((s1 - s0)) scans and $n vector_update during the stream" | tee "$fifos/stream_n"
	[ $((s1 - s0)) -ge 3 ] && [ "$n" -ge 10 ] && return 0
	echo "vm $vm_x; the trace:"
	grep -v '^#' "$tracing/trace" | head -n 20
	return 1
}
ktap_check "40 reroutes 5 ms apart: rescans run during the stream (>= 3, >= 10 updates), none starved" \
	check_stream
ktap_diag "$(cat "$fifos/stream_n" 2>/dev/null) (starved: no scan, 5 updates at most)"

# --- PCI removal while a VM holds the device ---------------------------
removed=$fifos/removed
echo > "$tracing/trace"
# Blocks until the VMM lets go of the device.
( echo 1 > "/sys/bus/pci/devices/$b/remove"; echo $? > "$removed" ) &

check_released() {
	local line
	read -r -t 60 -u "$X_out" line
	[ "$line" = released ] || { echo "holder said '$line'"; return 1; }
	for _ in $(seq 100); do [ -s "$removed" ] && break; sleep 0.1; done
	[ "$(cat "$removed" 2>/dev/null)" = 0 ] || { echo "removal not done"; return 1; }
	[ ! -e "/sys/bus/pci/devices/$b" ]
}
ktap_check "PCI removal: VFIO asks the VMM for the device (request eventfd), it unplugs, removal completes" \
	check_released

check_removed_records() {
	wait_trace vector_del "$vm_x" 5 || return 1
	[ "$(json --vm "$X_pid" | jq length)" -eq 0 ] &&
		[ "$(json --device "$b" | jq length)" -eq 0 ] &&
		[ "$(json --vm "$M_pid" | jq length)" -eq 1 ] &&
		! grep -q "($b)" /proc/interrupts
}
ktap_check "its 5 records are gone (vector_del), the MSI VM's record stays" check_removed_records

ktap_check "the VM goes on without the device: reroutes, device commands say so" \
	eval 'tell X r rerouted && tell X t "no device"'

check_rescan() {
	echo 1 > /sys/bus/pci/rescan
	for _ in $(seq 100); do [ -e "/sys/bus/pci/devices/$b" ] && break; sleep 0.1; done
	[ -e "/sys/bus/pci/devices/$b" ] || { echo "$b did not come back"; return 1; }
	rebind "$b" vfio-pci
}
ktap_check "rescan: the device is back and bound to vfio-pci" check_rescan

holder_start Y "$b"
check_back() {
	local out
	out=$(json --device "$b") || return 1
	jq -e --argjson p "$Y_pid" 'length == 5 and all(.[]; .vm_pid == $p)' <<<"$out" >/dev/null &&
		tell Y t raised
}
ktap_check "a new VM on the re-added device: 5 records, every vector delivered" check_back

holder_stop Y
holder_stop X
rc_x=$?
holder_stop M
rc_m=$?
check_end() {
	[ "$rc_x" -eq 0 ] && [ "$rc_m" -eq 0 ] || { echo "holders exited $rc_x, $rc_m"; return 1; }
	[ "$(json | jq length)" -eq 0 ] && rmmod pisteer
}
ktap_check "all VMs exit cleanly, no record left, rmmod" check_end
ktap_finish
