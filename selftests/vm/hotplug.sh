#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hotplug: a CPU that steered IRQs or followed vCPU threads are on goes
# offline and comes back.  follow re-steers to where the vCPU threads then
# run; static reports the IRQ moved off its CPU by the kernel and puts it
# back once the CPU is online again.  Runs in the rig (2 CPUs: CPU 1 goes).
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

cpu1=/sys/devices/system/cpu/cpu1/online
ktap_plan 8
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
pid=$A_pid
ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"
json() { "$cli" status --vm "$pid" --json; }
irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
ktap_diag "host IRQs: $irqs; vCPU threads $tid0 $tid1"
taskset -pc 0 "$tid0" >/dev/null && taskset -pc 1 "$tid1" >/dev/null

follow() {
	"$cli" steer --vm "$pid" follow && expect_effective "0 1 0 1 0 " 1000
}
ktap_check "follow, vCPU 0 on CPU 0, vCPU 1 on CPU 1" follow

follow_offline() {
	echo 0 > "$cpu1" || return 1
	expect_effective "0 0 0 0 0 " 1000 || return 1
	# vCPU 1's thread, asleep, leaves CPU 1 when it next runs (the
	# scheduler's fallback): an interrupt wakes it, and then follow
	# re-steers its IRQs to where it runs, not only the kernel moved them.
	tell A t raised || return 1
	sleep 0.2
	json | jq -e 'all(.[]; .steer_cpu == 0)' >/dev/null ||
		{ json | jq -c '[.[] | {host_irq, vcpu, vcpu_pcpu, vcpu_pinned_cpu, steer_cpu}]'; return 1; }
}
ktap_check "CPU 1 offline: every host IRQ on CPU 0; once vCPU 1 runs again, steered there by follow" follow_offline

follow_online() {
	echo 1 > "$cpu1" || return 1
	taskset -pc 1 "$tid1" >/dev/null || return 1
	expect_effective "0 1 0 1 0 " 1000
}
ktap_check "CPU 1 online, vCPU 1 pinned there again: its IRQs follow" follow_online

static_offline() {
	"$cli" steer --vm "$pid" static 1 && expect_effective "1 1 1 1 1 " 1000 || return 1
	echo 0 > "$cpu1" || return 1
	expect_effective "0 0 0 0 0 " 1000 || return 1
	sleep 0.2
	json | jq -e 'all(.[]; .steer_cpu == 1 and .steer_overridden >= 1)' >/dev/null ||
		{ json | jq -c '[.[] | {host_irq, steer_cpu, steer_overridden}]'; return 1; }
	"$cli" status --vm "$pid" | grep -q "moved off CPU 1 by someone else" ||
		{ "$cli" status --vm "$pid"; return 1; }
}
ktap_check "static 1, CPU 1 offline: the kernel moves them to CPU 0, status reports it" static_offline

static_online() {
	echo 1 > "$cpu1" || return 1
	expect_effective "1 1 1 1 1 " 1000
}
ktap_check "CPU 1 online again: the static policy puts them back within 1 s" static_online

ktap_check "interrupts still arrive on the routed vCPUs" tell A t raised

unload() {
	rmmod pisteer || return 1
	[ "$(cat "$cpu1")" = 1 ]
}
echo 1 > "$cpu1" 2>/dev/null
holder_stop A
ktap_check "rmmod pisteer, CPU 1 online" unload
ktap_finish
