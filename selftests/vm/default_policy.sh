#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# default_policy: zero-touch steering.  With the module parameter
# default_policy=follow set through sysfs, a VM started afterwards has its
# host IRQs on its vCPUs' CPUs with no pisteer steer run; an explicit off
# keeps the default off it and none gives it back; a bad value is refused
# and changes nothing; default_policy=none restores the affinity; pisteer
# config apply refuses a bad file naming its line and applies a good one.
# Runs in the rig (2 CPUs).
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

params=/sys/module/pisteer/parameters
ktap_plan 11
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null

set_default() {
	insmod "$mods/kmod/pisteer.ko" || return 1
	[ "$(cat $params/default_policy)" = none ] || { echo "loaded with '$(cat $params/default_policy)'"; return 1; }
	echo follow > $params/default_policy && [ "$(cat $params/default_policy)" = follow ]
}
ktap_check "insmod: default_policy is none; set to follow through sysfs" set_default

holder_start A "$bdf"
pid=$A_pid
json() { "$cli" status --vm "$pid" --json; }
# The vectors show up with the first rescan after the VM's irqfds.
for _ in $(seq 50); do [ "$(json | jq length)" -eq 5 ] && break; sleep 0.1; done
irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
ktap_diag "host IRQs: $irqs; vCPU threads $tid0 $tid1"
# The affinity each IRQ had before pisteer (steered from its first scan
# on): the kernel's default for a new IRQ, as masks.
orig=$(for i in $irqs; do cat /proc/irq/default_smp_affinity; done | tr '\n' ' ')
affinity() { for i in $irqs; do cat "/proc/irq/$i/smp_affinity"; done | tr '\n' ' '; }
# wait_affinity WANT MS: the IRQs' affinity lists, in index order, are WANT.
wait_affinity() {
	local now n
	for n in $(seq $(($2 / 20))); do
		now=$(affinity)
		[ "$now" = "$1" ] && return 0
		sleep 0.02
	done
	echo "affinity '$now', expected '$1'"
	return 1
}
steered_by_default() {
	json | jq -e 'length == 5 and all(.[]; .policy == "follow" and .policy_default and
		.steer_cpu == .vcpu_pinned_cpu)' >/dev/null ||
		{ json | jq -c '[.[] | {host_irq, policy, policy_default, vcpu_pinned_cpu, steer_cpu}]'; return 1; }
}

# vCPU 0 on CPU 1, vCPU 1 on CPU 0: not where VFIO put the IRQs.
taskset -pc 1 "$tid0" >/dev/null && taskset -pc 0 "$tid1" >/dev/null
later_vm() {
	expect_effective "1 0 1 0 1 " 1000 && steered_by_default || return 1
	"$cli" status --vm "$pid" | grep -c " default:follow " | grep -qx 5 ||
		{ "$cli" status --vm "$pid"; return 1; }
}
ktap_check "a VM started later: its host IRQs on its vCPUs' CPUs, no steer run; status says default:follow" later_vm

garbage() {
	local before
	before=$(affinity)
	! echo garbage > $params/default_policy 2>/dev/null || { echo "garbage accepted"; return 1; }
	! echo 0-x > $params/housekeeping_cpus 2>/dev/null || { echo "0-x accepted"; return 1; }
	! echo 4000 > $params/housekeeping_cpus 2>/dev/null || { echo "CPU 4000 accepted"; return 1; }
	[ "$(cat $params/default_policy)" = follow ] && [ -z "$(cat $params/housekeeping_cpus)" ] ||
		{ echo "now '$(cat $params/default_policy)' '$(cat $params/housekeeping_cpus)'"; return 1; }
	sleep 0.2
	[ "$(affinity)" = "$before" ] && steered_by_default
}
ktap_check "garbage in default_policy or housekeeping_cpus: -EINVAL, nothing changed" garbage

explicit_off() {
	"$cli" steer --vm "$pid" off && [ "$(affinity)" = "$orig" ] || { echo "affinity '$(affinity)'"; return 1; }
	sleep 0.2
	[ "$(affinity)" = "$orig" ] &&
		json | jq -e 'all(.[]; .policy == "off" and (.policy_default | not) and .steer_cpu == null)' >/dev/null
}
ktap_check "steer --vm PID off: the default is kept off the VM, its affinity restored" explicit_off

explicit_none() {
	"$cli" steer --vm "$pid" none && expect_effective "1 0 1 0 1 " 1000 && steered_by_default
}
ktap_check "steer --vm PID none: the VM's own policy removed, the default steers it again" explicit_none

default_none() {
	echo none > $params/default_policy && wait_affinity "$orig" 1000 || return 1
	json | jq -e 'all(.[]; .policy == null and (.policy_default | not) and .steer_cpu == null)' >/dev/null
}
ktap_check "default_policy=none: the IRQs' affinity from before pisteer is back" default_none

conf=$(mktemp)
bad_file() {
	local out rc
	printf '# zero touch\nHOUSEKEEPING_CPUS=1\nDEFAULT_POLICY=follow\nLATENCY_SAMPLING=sometimes\n' > "$conf"
	out=$("$cli" config apply --file "$conf" 2>&1); rc=$?
	echo "$out"
	[ "$rc" -eq 1 ] && grep -q "$conf:4: LATENCY_SAMPLING" <<<"$out" || return 1
	[ "$(cat $params/default_policy)" = none ] && [ -z "$(cat $params/housekeeping_cpus)" ] &&
		[ "$(affinity)" = "$orig" ]
}
ktap_check "config apply, a bad line 4: named, nothing applied" bad_file

good_file() {
	printf 'DEFAULT_POLICY="follow"   # every VM\nHOUSEKEEPING_CPUS=0\nLATENCY_SAMPLING=yes\n' > "$conf"
	"$cli" config apply --file "$conf" || return 1
	[ "$(cat $params/default_policy)" = follow ] && [ "$(cat $params/housekeeping_cpus)" = 0 ] ||
		return 1
	expect_effective "1 0 1 0 1 " 1000 && steered_by_default || return 1
	"$cli" lat --json | jq -e '.sampling.all_vms' >/dev/null || { "$cli" lat --json | jq -c .sampling; return 1; }
}
ktap_check "config apply, a good file: default follow, CPUs, sampling on" good_file

housekeeping() {
	printf 'DEFAULT_POLICY=housekeeping\nLATENCY_SAMPLING=no\n' > "$conf"
	"$cli" config apply --file "$conf" || return 1
	# housekeeping_cpus=0 from before: every IRQ on CPU 0.
	expect_effective "0 0 0 0 0 " 1000 || return 1
	"$cli" lat --json | jq -e '.sampling.all_vms | not' >/dev/null
}
ktap_check "config apply: housekeeping on HOUSEKEEPING_CPUS=0 (kept), sampling off" housekeeping

unload() {
	rmmod pisteer && [ "$(affinity)" = "$orig" ]
}
ktap_check "rmmod with a default policy: the affinity from before pisteer is back" unload

# As modprobe.d options give them: checked at load, applied by the first scan.
load_params() {
	! insmod "$mods/kmod/pisteer.ko" default_policy=bogus 2>/dev/null || { echo "loaded with bogus"; return 1; }
	[ ! -e /sys/module/pisteer ] || return 1
	insmod "$mods/kmod/pisteer.ko" default_policy=follow housekeeping_cpus=1 || return 1
	[ "$(cat $params/housekeeping_cpus)" = 1 ] && expect_effective "1 0 1 0 1 " 1000 &&
		steered_by_default && rmmod pisteer && [ "$(affinity)" = "$orig" ]
}
ktap_check "insmod default_policy=bogus fails; default_policy=follow steers the running VM" load_params
rm -f "$conf"
holder_stop A
ktap_finish
