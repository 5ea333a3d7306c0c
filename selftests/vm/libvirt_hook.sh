#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# libvirt_hook: tools/hooks/qemu-pisteer as libvirt runs it, against a
# running passthrough VM whose pid sits in a fake libvirt pid directory.
# On "started begin" it steers the VM (HOOK_POLICY) in the background and
# returns at once; on "release end" it turns the VM's policy off and the
# affinity is back.  It exits 0 whatever fails: no pisteer, no module, no
# pid file, a bad HOOK_POLICY, a pid that is another process's now.
# Runs in the rig (2 CPUs).
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

hook=$top/tools/hooks/qemu-pisteer
ktap_plan 8
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null

t=$(mktemp -d)
mkdir -p "$t/piddir" "$t/run"
export PISTEER PISTEER_HOOK_CONF=$t/pisteer.conf PISTEER_HOOK_PIDDIR=$t/piddir \
	PISTEER_HOOK_RUNDIR=$t/run PISTEER_HOOK_LOG=$t/log
printf 'DEFAULT_POLICY=none\nHOOK_POLICY="follow"  # the hook sets follow\n' > "$PISTEER_HOOK_CONF"
PISTEER=$cli
# The CLI 6 s late, so that a hook that waited for it would be seen to.
printf '#!/bin/sh\nsleep 6\nexec %s "$@"\n' "$cli" > "$t/slow-pisteer"
chmod +x "$t/slow-pisteer"
# hook OP SUB: run it as libvirt does for domain vm1 (the XML on stdin,
# its output read to the end): its exit status; it must be back within
# $hook_max_ms (4 s: before a slow CLI it started is done; under TCG its
# few forks alone take up to 2.5 s on a loaded machine).
hook_max_ms=4000
hook() {
	local t0=${EPOCHREALTIME/./} rc ms
	echo '<domain type="kvm"><name>vm1</name></domain>' | "$hook" vm1 "$1" "$2" - 2>&1 | cat
	rc=${PIPESTATUS[1]}
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	[ "$ms" -le "$hook_max_ms" ] || { echo "the hook took $ms ms"; return 1; }
	return "$rc"
}

ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"
holder_start A "$bdf"
pid=$A_pid
echo "$pid" > "$t/piddir/vm1.pid"
json() { "$cli" status --vm "$pid" --json; }
for _ in $(seq 50); do [ "$(json | jq length)" -eq 5 ] && break; sleep 0.1; done
irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
orig=$(for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
ktap_diag "host IRQs: $irqs; affinity before: $orig"
taskset -pc 1 "$tid0" >/dev/null && taskset -pc 0 "$tid1" >/dev/null

started() {
	PISTEER=$t/slow-pisteer hook started begin || return 1
	expect_effective "1 0 1 0 1 " 10000 || { cat "$t/log"; return 1; }
	json | jq -e 'all(.[]; .policy == "follow" and (.policy_default | not) and
		.steer_cpu == .vcpu_pinned_cpu)' >/dev/null || return 1
	[ "$(cat "$t/run/hook/vm1")" = "$pid $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" ] ||
		{ echo "state: '$(cat "$t/run/hook/vm1")'"; return 1; }
	for _ in $(seq 100); do grep -q "vm1: pisteer steer --vm $pid follow" "$t/log" && break; sleep 0.1; done
	grep -q "vm1: pisteer steer --vm $pid follow" "$t/log" || { cat "$t/log"; return 1; }
}
ktap_check "started begin: the hook returns before its (slow) CLI is done; then the IRQs follow the vCPUs, logged" started

now_affinity() { for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' '; }
released() {
	local n
	hook release end || return 1
	for n in $(seq 300); do [ "$(now_affinity)" = "$orig" ] && break; sleep 0.02; done
	[ "$(now_affinity)" = "$orig" ] || { echo "affinity '$(now_affinity)', before '$orig'"; cat "$t/log"; return 1; }
	[ ! -e "$t/run/hook/vm1" ] || { echo "state file left"; return 1; }
	for _ in $(seq 100); do json | jq -e 'all(.[]; .policy == "off")' >/dev/null && return 0; sleep 0.1; done
	json | jq -c '[.[] | .policy]'
	return 1
}
ktap_check "release end: the VM's policy off, its affinity from before is back, no state left" released

# A pid in the state file that is another process's now: left alone.
reused() {
	hook started begin || return 1
	for _ in $(seq 100); do json | jq -e 'all(.[]; .policy == "follow")' >/dev/null && break; sleep 0.1; done
	echo "$pid 1" > "$t/run/hook/vm1"
	hook release end || return 1
	sleep 2
	json | jq -e 'all(.[]; .policy == "follow")' >/dev/null || { json | jq -c '[.[] | .policy]'; return 1; }
	"$cli" steer --vm "$pid" none
}
ktap_check "release end for a pid whose start time differs: nothing turned off" reused

no_pisteer() {
	PISTEER=/nonexistent/pisteer hook started begin || return 1
	PISTEER=/nonexistent/pisteer hook release end || return 1
	grep -q "/nonexistent/pisteer not found" "$t/log" || { cat "$t/log"; return 1; }
	sleep 0.3
	json | jq -e 'all(.[]; .policy == null)' >/dev/null
}
ktap_check "no pisteer: the hook exits 0 and logs it, nothing steered" no_pisteer

odd_input() {
	rm -f "$t/piddir/vm1.pid"
	hook started begin || return 1
	grep -q "vm1: no QEMU pid" "$t/log" || return 1
	echo "$pid" > "$t/piddir/vm1.pid"
	PISTEER_HOOK_CONF=$t/nonexistent.conf hook prepare begin || return 1
	printf 'HOOK_POLICY=static\n' > "$t/bad.conf"
	PISTEER_HOOK_CONF=$t/bad.conf hook started begin || return 1
	grep -q "HOOK_POLICY 'static' is not" "$t/log" || { cat "$t/log"; return 1; }
	"$hook" ../x started begin - </dev/null && "$hook" && PISTEER_HOOK_RUNDIR=/proc/nowhere hook started begin &&
		PISTEER_HOOK_RUNDIR=/proc/nowhere hook release end
}
ktap_check "no pid file, other operations, a bad HOOK_POLICY, an unwritable rundir: exit 0" odd_input
# (The hook with the unwritable rundir still steered: wait for it.)
sleep 2
"$cli" steer --vm "$pid" none 2>/dev/null

no_module() {
	rmmod pisteer || return 1
	hook started begin || return 1
	for _ in $(seq 100); do grep -q "steer --vm $pid follow failed (exit 3)" "$t/log" && break; sleep 0.1; done
	grep -q "steer --vm $pid follow failed (exit 3)" "$t/log" || { cat "$t/log"; return 1; }
	hook release end
}
ktap_check "module not loaded: the hook exits 0, the failure is logged" no_module

holder_stop A
no_process() {
	echo "$pid" > "$t/piddir/vm1.pid"
	hook started begin && hook release end
}
ktap_check "the VM's process is gone: the hook exits 0" no_process
ktap_diag "hook log: $(tr '\n' '|' < "$t/log")"
rm -rf "$t"
ktap_finish
