#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# policy_identity: a VM policy belongs to the process it was set for, not
# to its pid.  A VM steered with follow exits; a new VM is started with
# the very same pid (clone3 set_tid, as pid reuse would on a busy host): it
# must not be steered, and the old policy must be gone.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

json() { "$cli" status --json "$@"; }

mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan 6
rmmod pisteer 2>/dev/null
ktap_check "insmod pisteer.ko" insmod "$mods/kmod/pisteer.ko"

trace_start
holder_start A "${bdfs[0]}"
pid=$A_pid
vm_a=$(vm_id "$pid")

steered() {
	wait_trace vector_add "$vm_a" 5 || return 1
	"$cli" steer --vm "$pid" follow || return 1
	json --vm "$pid" | jq -e 'length == 5 and all(.[]; .policy == "follow" and .vm_start > 0)' \
		>/dev/null
}
ktap_check "VM A (pid $pid) steered by follow" steered

# At top level: ktap_check runs its command in a subshell, whose closing
# of the holder's input would not reach the holder.
holder_stop A
gone() {
	wait_trace vector_del "$vm_a" 5 || return 1
	local out rc
	out=$("$cli" steer --vm "$pid" none 2>&1); rc=$?
	[ "$rc" -ne 0 ] && grep -q "no policy is set" <<<"$out" || { echo "$rc: $out"; return 1; }
}
ktap_check "VM A exits: its vectors go, and its policy with it" gone

holder_as_pid=$pid holder_start B "${bdfs[0]}"
unset holder_as_pid
vm_b=$(vm_id "$pid")

not_inherited() {
	local out
	wait_trace vector_add "$vm_b" 5 || return 1
	# Two scans' worth of time, for a policy that would wrongly apply.
	sleep 0.2
	out=$(json --vm "$pid") || return 1
	jq -e --argjson p "$pid" 'length == 5 and all(.[]; .vm_pid == $p and .policy == null
		and .steer_cpu == null and .steer_moves == 0)' <<<"$out" >/dev/null ||
		{ echo "$out" | jq -c '.[] | {vm_pid, vm_start, policy, steer_cpu, steer_moves}'; return 1; }
}
ktap_check "VM B gets pid $pid again: not steered by A's policy" not_inherited

no_process() {
	local out rc p=$((0x3ffffff0))
	out=$("$cli" steer --vm "$p" follow 2>&1); rc=$?
	[ "$rc" -ne 0 ] && grep -qi "no such process" <<<"$out" || { echo "$rc: $out"; return 1; }
}
ktap_check "a VM policy for a pid no process has: refused (ESRCH)" no_process

holder_stop B
ktap_check "rmmod pisteer" rmmod pisteer
ktap_finish
