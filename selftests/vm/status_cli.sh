#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# status_cli: the module discovers passthrough vectors of real VMs - one
# already running when it is loaded, one started after - follows route
# changes and VM exit, and `pisteer status` shows them.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan 20
if [ "${#bdfs[@]}" -lt 2 ]; then
	ktap_diag "needs two 82574Ls bound to vfio-pci, found ${#bdfs[@]}"
	ktap_skip_rest() { while [ "$__ktap_n" -lt 20 ]; do ktap_skip "$1"; done; }
	ktap_skip_rest "two 82574Ls"
	ktap_finish
fi
rmmod pisteer 2>/dev/null

# Holder A: a VM with the first 82574L, started before the module is loaded.
holder_start A "${bdfs[0]}"
pid_a=$A_pid

ktap_check "insmod pisteer.ko with a VM already running" insmod "$mods/kmod/pisteer.ko"

trace_start
route_log=$fifos/route_ms

# vcpu_of PID INDEX: the vCPU status --json reports for that vector.
json() { "$cli" status --json "$@"; }
routes() { json --vm "$1" | jq -r 'sort_by(.index) | map(.vcpu | tostring) | join(",")'; }

check_found() {
	local out n
	out=$(json --vm "$pid_a") || return 1
	n=$(jq length <<<"$out")
	[ "$n" -eq 5 ] || { echo "$n vectors for VM $pid_a"; return 1; }
	jq -e --arg d "${bdfs[0]}" --argjson p "$pid_a" '
		(map(.index) | sort) == [0, 1, 2, 3, 4] and all(.[]; .device == $d and .vm_pid == $p and .irq_type == "msix"
		    and .gsi == 32 + .index and .guest_vector == 64 + .index
		    and .mode == "remapped")' <<<"$out" >/dev/null
}
ktap_check "the running VM's 5 MSI-X vectors are found: device, pid, GSI, guest vector" check_found

check_host_irqs() {
	local i irq want
	for i in 0 1 2 3 4; do
		want=$(awk -v n="vfio-msix[$i](${bdfs[0]})" '$NF == n { sub(":", "", $1); print $1 }' /proc/interrupts)
		irq=$(json --vm "$pid_a" | jq ".[] | select(.index == $i) | .host_irq")
		[ -n "$want" ] && [ "$irq" = "$want" ] || { echo "vector $i: host IRQ $irq, /proc/interrupts $want"; return 1; }
	done
}
ktap_check "host IRQ numbers match /proc/interrupts" check_host_irqs

# What this kernel gives the module, as `pisteer version` reports it: the
# tracepoint only from 6.17 on, everything else on every supported kernel
# (the rig's CPU is AMD: the GA probe applies).
check_host_features() {
	local out tp_new major minor
	out=$("$cli" version --json) || return 1
	major=$(uname -r | cut -d. -f1)
	minor=$(uname -r | cut -d. -f2)
	tp_new=false
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 17 ]; } && tp_new=true
	jq -e --arg k "$(uname -r)" --argjson tp "$tp_new" '.module as $m | $m.kernel == $k
		and $m.host.vm_files.active and $m.host.event_probes.active
		and $m.host.irte_probe.active and $m.host.ga_probe.active
		and $m.host.apicv_param.active
		and ($m.host.lat_probes.active | not) and $m.host.lat_probes.error == "ENODATA"
		and (if $tp then $m.host.pi_irte_tp.active
		     else $m.host.pi_irte_tp.error == "EOPNOTSUPP" end)' <<<"$out" >/dev/null ||
		{ echo "$out"; return 1; }
	"$cli" version | grep -q "^  apicv_param   active" || { "$cli" version; return 1; }
}
ktap_check "pisteer version: per kernel mechanism active or why not" check_host_features

# No KVM-internal symbol: the target from APIC IDs, APICv from kvm_amd's
# own parameter (N in the rig: nested SVM has no AVIC).
check_public_facts() {
	local out avic
	avic=$(cat /sys/module/kvm_amd/parameters/avic)
	[ "$avic" = N ] || { echo "kvm_amd avic=$avic"; return 1; }
	out=$(json --vm "$pid_a") || return 1
	jq -e 'length == 5 and all(.[]; .target_how == "apic_id" and .vcpu_unknown == null
		and .apicv_unknown == false and .reason == "no APICv/AVIC")' <<<"$out" >/dev/null ||
		{ echo "$out" | head -40; return 1; }
	# The rig's CPU is AMD, its IOMMU an emulated VT-d: the IR chip decides.
	grep -q AuthenticAMD /proc/cpuinfo || { echo "not an AMD CPU"; return 1; }
	jq -e 'all(.[]; .iommu_ir == "intel")' <<<"$out" >/dev/null ||
		{ echo "$out" | jq -c '[.[].iommu_ir]'; return 1; }
}
ktap_check "target by APIC ID, APICv off from kvm_amd avic=N, VT-d by the IR chip on an AMD CPU" \
	check_public_facts

check_vcpus() {
	local got tids t
	got=$(routes "$pid_a")
	[ "$got" = "0,1,0,1,0" ] || { echo "routes $got"; return 1; }
	tids=$(ls "/proc/$pid_a/task")
	for t in $(json --vm "$pid_a" | jq '.[].vcpu_tid'); do
		grep -qx "$t" <<<"$tids" || { echo "vcpu_tid $t is not a thread of $pid_a"; return 1; }
	done
}
ktap_check "target vCPUs follow the guest MSI routes (0,1,0,1,0), vCPU threads are the VM's" check_vcpus

check_reason() {
	local want="no APICv/AVIC"
	[ "$(cat /sys/module/kvm_amd/parameters/avic 2>/dev/null)" = N ] || return 1
	json --vm "$pid_a" | jq -e --arg r "$want" \
		'length == 5 and all(.[]; .reason == $r and .mode_inferred and .posted_state == null)' >/dev/null &&
		grep -q irq_set_vcpu_affinity /sys/kernel/debug/kprobes/list &&
		grep -q amd_iommu_update_ga /sys/kernel/debug/kprobes/list
}
ktap_check "mode: remapped, reason 'no APICv/AVIC' (kvm_amd avic=N here); no IRTE update observed; IRTE and AVIC IsRun probes in place (AMD CPU)" check_reason

vm_a=$(json --vm "$pid_a" | jq -r '.[0].vm')
check_reroute() {
	# The module sees the new routes at once (each read scans); the
	# probes emit the events by themselves, nobody asking.
	reroute_within A "$pid_a" 100 1 0 1 0 1 &&
		wait_trace vector_update "$vm_a" 5 || return 1
	got=$(routes "$pid_a")
	[ "$got" = "1,0,1,0,1" ] || { echo "status: routes after reroute $got"; return 1; }
}
ktap_check "a guest MSI reprogram is visible within 100 ms, pisteer:vector_update per vector by itself; status follows (1,0,1,0,1)" \
	check_reroute
ktap_diag "reroute visible after $(cat "$route_log") ms"

check_debugfs() {
	local f=/sys/kernel/debug/pisteer/vectors
	[ "$(stat -c %a "$f")" = 400 ] || return 1
	[ "$(grep -c "^ *$pid_a-" "$f")" -eq 5 ] || { cat "$f"; return 1; }
}
ktap_check "debugfs pisteer/vectors lists the VM's 5 vectors (mode 0400)" check_debugfs

# Holder B: a second VM with the second 82574L, started after load.
holder_start B "${bdfs[1]}"
pid_b=$B_pid
vm_b=$(vm_id "$pid_b")
ktap_check "a VM wiring up its vectors emitted pisteer:vector_add for each" \
	wait_trace vector_add "$vm_b" 5

check_two() {
	local all
	all=$(json | jq length)
	[ "$all" -eq 10 ] || { echo "$all vectors in all"; return 1; }
	[ "$(json --vm "$pid_b" | jq -r --arg d "${bdfs[1]}" 'map(select(.device == $d)) | length')" -eq 5 ] || return 1
	[ "$(json --device "${bdfs[1]}" | jq -r --argjson p "$pid_b" 'map(select(.vm_pid == $p)) | length')" -eq 5 ] || return 1
	[ "$(json --device "${bdfs[0]#0000:}" | jq length)" -eq 5 ]
}
ktap_check "a VM started after load is found too; --vm and --device select each" check_two

check_msix_cycle() {
	tell B d disabled && wait_trace vector_del "$vm_b" 5 &&
		[ "$(json --vm "$pid_b" | jq length)" -eq 0 ] &&
		tell B e enabled && wait_trace vector_add "$vm_b" 10 &&
		[ "$(json --vm "$pid_b" | jq length)" -eq 5 ]
}
ktap_check "MSI-X disabled by the VMM: vectors go (vector_del); enabled again: back (vector_add)" \
	check_msix_cycle

check_table() {
	local out
	out=$("$cli" status --vm "$pid_a") || return 1
	printf '%s\n' "$out" | sed 's/^/# /'
	[ "$(printf '%s\n' "$out" | grep -c "^$pid_a-")" -eq 5 ] &&
		printf '%s\n' "$out" | head -1 | grep -q 'VM .*DEVICE .*IRQ .*GSI .*VCPU .*PCPU .*AFFINITY .*MODE'
}
ktap_check "the table: a header and one row per vector" check_table

ktap_run list_ioctl "$top/build/selftests/list_ioctl" "$pid_a" "${bdfs[0]}" 5

check_bad_args() {
	local rc
	"$cli" status --vm abc >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || { echo "--vm abc: exit $rc"; return 1; }
	"$cli" status --device 00:zz.0 >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || { echo "--device 00:zz.0: exit $rc"; return 1; }
	"$cli" status --vm 999999 | grep -q 'no passthrough vectors match' || return 1
	setpriv --reuid=65534 --regid=65534 --clear-groups "$cli" status >/dev/null 2>&1; rc=$?
	[ $rc -eq 4 ] || { echo "unprivileged: exit $rc"; return 1; }
}
ktap_check "bad --vm/--device: exit 2; no match: says so; not root: exit 4" check_bad_args

# A logical destination to vCPUs in xAPIC mode (the test guest's): only
# KVM's private APIC state has their logical IDs, so the target must read
# as unknown, with the reason, never as a guess.
check_unknown_target() {
	local out i
	tell A l logical || return 1
	for i in $(seq 50); do
		out=$(json --vm "$pid_a") || return 1
		jq -e '.[] | select(.index == 0) | .dest_logical and .vcpu == null' \
			<<<"$out" >/dev/null && break
		sleep 0.02
	done
	jq -e '(.[] | select(.index == 0) | .vcpu_unknown != null
		and (.vcpu_unknown | test("xAPIC logical")) and .target_how == null
		and .vcpu_tid == null and .vcpu_pcpu == null)
		and ([.[] | select(.index != 0) | .target_how == "apic_id"] | all)' \
		<<<"$out" >/dev/null || { echo "$out" | jq -c '.[] | {index, vcpu, vcpu_unknown, target_how}'; return 1; }
	out=$("$cli" status --vm "$pid_a") || return 1
	printf '%s\n' "$out" | sed 's/^/# /'
	printf '%s\n' "$out" | grep -q "^VCPU ?: the module cannot tell the target (xAPIC logical" &&
		printf '%s\n' "$out" | awk '$3 == "msix0" && $7 == "?" { f = 1 } END { exit !f }' ||
		return 1
	# Back to the physical routes the later checks expect.
	tell A r rerouted && tell A r rerouted
}
ktap_check "logical destination to xAPIC vCPUs: target shown unknown (VCPU ?) with the reason" \
	check_unknown_target

holder_stop A
check_gone() {
	wait_trace vector_del "$vm_a" 5 &&
		[ "$(json --vm "$pid_a" | jq length)" -eq 0 ] &&
		[ "$(json | jq length)" -eq 5 ]
}
ktap_check "when a VM exits its vectors disappear (pisteer:vector_del), the other VM's stay" check_gone

check_unload() {
	local probes=/sys/kernel/debug/kprobes/list
	grep -q kvm_irqfd "$probes" || { echo "no pisteer kprobe while loaded"; return 1; }
	grep -q irq_do_set_affinity "$probes" && grep -q sched_setaffinity "$probes" &&
		grep -q set_cpus_allowed_ptr "$probes" ||
		{ echo "no affinity or vCPU watch probe while loaded"; cat "$probes"; return 1; }
	rmmod pisteer || return 1
	! grep -qw pisteer /proc/modules && ! test -e /dev/pisteer &&
		! test -e /sys/kernel/debug/pisteer &&
		! grep -qE 'kvm_irqfd|kvm_set_irq_routing|vfio_pci_set_irqs_ioctl|irq_set_vcpu_affinity|amd_iommu_update_ga|irq_do_set_affinity|sched_setaffinity|set_cpus_allowed_ptr' "$probes"
}
ktap_check "rmmod with a VM running: no kprobe, device or debugfs entry left" check_unload

check_after_unload() {
	tell B r rerouted && tell B t raised
}
ktap_check "that VM goes on after the unload: reroutes, every vector raised arrives on its routed vCPU" \
	check_after_unload
holder_stop B
ktap_check "and exits cleanly" test $? -eq 0
ktap_finish
