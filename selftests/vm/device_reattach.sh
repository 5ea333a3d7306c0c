#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# device_reattach: the migration flow twice (make soak's device_reattach
# stage runs it 20 times; selftests/lib/reattach.sh).  A held VM, its
# vCPU threads pinned to CPU 0 and 1, steered by follow: its device is
# removed from the host (VFIO asks the VMM for it, the VMM unplugs it),
# rescanned, bound to vfio-pci and plugged back into the same VM process;
# the module must steer the new vectors by the VM's policy with no pisteer
# command, and they must reach their routed vCPUs.  The second cycle under
# static 1.  Then allocs as before the cycles, and rmmod puts the new IRQs
# back where VFIO put them.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff
# shellcheck source=../lib/reattach.sh
. "$top/selftests/lib/reattach.sh"

allocs=/sys/kernel/debug/pisteer/allocs
reattach_log=$fifos/steps
t0=$SECONDS
ktap_plan 6
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
pid=$A_pid
# Every IRQ's affinity before the module, one "IRQ LIST" a line.
affinities() {
	local f a
	for f in /proc/irq/[0-9]*; do
		read -r a < "$f/smp_affinity_list" && echo "${f#/proc/irq/} $a"
	done
}
# The lines of affinities() but those of IRQs $*.
others() {
	local skip=" $* " n a
	while read -r n a; do
		[[ "$skip" == *" $n "* ]] || echo "$n $a"
	done <<< "$all_before"
}
old_irqs=$(reattach_irqs "$bdf")
read -r first _ <<< "$old_irqs"
read -r vfio_default < "/proc/irq/$first/smp_affinity_list"
all_before=$(affinities)
ktap_diag "$bdf in VM $pid: host IRQs $old_irqs (affinity $vfio_default)"

setup() {
	local st tid0 tid1
	insmod "$mods/kmod/pisteer.ko" || return 1
	st=$("$cli" status --vm "$pid" --json) || return 1
	tid0=$(jq -r 'map(select(.vcpu == 0))[0].vcpu_tid' <<<"$st")
	tid1=$(jq -r 'map(select(.vcpu == 1))[0].vcpu_tid' <<<"$st")
	taskset -pc 0 "$tid0" >/dev/null && taskset -pc 1 "$tid1" >/dev/null &&
		"$cli" steer --vm "$pid" follow >/dev/null &&
		reattach_steered "$pid" "$bdf" "0 1 0 1 0 " 2000 || return 1
	# The start: the VM steered, its device plugged.
	cat "$allocs" > "$fifos/allocs"
}
ktap_check "insmod, vCPU threads on CPU 0 and 1, follow: steered 0 1 0 1 0" setup

ktap_check "follow: unplugged (request eventfd, removal), rescanned, plugged back; the new vectors steered again, delivered" \
	reattach_cycle A "$bdf" "0 1 0 1 0 "
ktap_check "static 1: the same; the new vectors steered to CPU 1 by the policy, delivered" \
	reattach_cycle A "$bdf" "1 1 1 1 1 " static 1

check_allocs() {
	local i
	for i in $(seq 40); do
		[ "$(cat "$allocs")" = "$(cat "$fifos/allocs")" ] && return 0
		sleep 0.05
	done
	echo "allocs now / before the cycles:"
	paste "$allocs" "$fifos/allocs"
	return 1
}
ktap_check "pisteer allocs as before the cycles (records, steered IRQs, policies, heap)" check_allocs

unload() {
	local new n a bad=0
	new=$(reattach_irqs "$bdf")
	rmmod pisteer || return 1
	for n in $new; do
		read -r a < "/proc/irq/$n/smp_affinity_list"
		[ "$a" = "$vfio_default" ] || { echo "IRQ $n: affinity $a, VFIO gave $vfio_default"; bad=1; }
	done
	# Every other IRQ as before the module (the old and new numbers aside).
	diff <(others $old_irqs $new) <(all_before=$(affinities); others $old_irqs $new) || bad=1
	return $bad
}
ktap_check "rmmod: the new IRQs back at VFIO's affinity ($vfio_default), every other IRQ as before" unload

holder_stop A
rc=$?
ktap_check "the VM exits cleanly (exit $rc)" test "$rc" -eq 0
ktap_diag "ms per step (set-up, raise, unplug, rescan+bind+plug, re-steer, raise): $(awk '{ printf "%s%s", (NR % 6 == 1 && NR > 1) ? "; " : " ", $2 }' "$reattach_log")"
ktap_diag "took $((SECONDS - t0)) s"
ktap_finish
