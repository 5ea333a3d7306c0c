#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pin_module: `pisteer pin` with the module loaded sets the module's follow
# policy for the VM, and `pisteer pin --undo` removes it again, on a real
# (paused, TCG) QEMU started here.  Runs in the rig.  The QEMU is not a KVM
# VM, so no vector is steered: that a policy exists is read back through
# `pisteer steer --vm PID none`, which fails when none is set.
. "$(dirname "$0")/../lib/rigtest.sh"

dir=$(mktemp -d)
export PISTEER_STATE_DIR=$dir/state

ktap_plan 5
rmmod pisteer 2>/dev/null
ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"

qemu-system-x86_64 -name pm,debug-threads=on -accel tcg -smp 1 -m 64 -S \
	-display none -nodefaults -qmp "unix:$dir/q.sock,server=on,wait=off" 2>"$dir/qemu.log" &
qpid=$!
for _ in $(seq 100); do
	grep -qx "CPU 0/TCG" /proc/$qpid/task/*/comm 2>/dev/null && [ -S "$dir/q.sock" ] && break
	sleep 0.1
done
vtid=$(grep -lx "CPU 0/TCG" /proc/$qpid/task/*/comm | cut -d/ -f5)
ktap_diag "QEMU $qpid, vCPU thread $vtid"
before=$(taskset -pc "$vtid" | sed 's/.*: //')

pin() {
	local err
	err=$("$cli" pin --qmp "$dir/q.sock" 2>&1 >/dev/null) || { echo "$err"; return 1; }
	[ -z "$err" ] || { echo "unexpected: $err"; return 1; }
	[ "$(taskset -pc "$vtid" | sed 's/.*: //')" = 1 ] || { echo "vCPU not on CPU 1"; return 1; }
	jq -e '.steer == true' "$PISTEER_STATE_DIR/pin-$qpid.json" >/dev/null
}
ktap_check "pin via QMP: vCPU on CPU 1, the module took the follow policy, no warning" pin

policy_set() {
	"$cli" steer --vm "$qpid" none && "$cli" pin --undo >/dev/null &&
		[ "$(taskset -pc "$vtid" | sed 's/.*: //')" = "$before" ]
}
ktap_check "the policy pin set exists (steer none removes it); undo restores the vCPU" policy_set

undo_removes() {
	local out rc
	pin || return 1
	"$cli" pin --undo >/dev/null || return 1
	out=$("$cli" steer --vm "$qpid" none 2>&1); rc=$?
	[ "$rc" -eq 1 ] && grep -q "no policy is set" <<<"$out" || { echo "$rc: $out"; return 1; }
	[ ! -e "$PISTEER_STATE_DIR/pin-$qpid.json" ]
}
ktap_check "pin --undo removes the module policy and the state" undo_removes

no_module() {
	local err
	rmmod pisteer || return 1
	err=$("$cli" pin --qmp "$dir/q.sock" 2>&1 >/dev/null) || { echo "$err"; return 1; }
	grep -q "warning: host IRQs are not steered" <<<"$err" &&
		jq -e '.steer == false' "$PISTEER_STATE_DIR/pin-$qpid.json" >/dev/null &&
		"$cli" pin --undo >/dev/null
}
ktap_check "module absent: pinned all the same with a warning, undo works" no_module

kill "$qpid"
wait "$qpid" 2>/dev/null
rm -rf "$dir"
ktap_finish
