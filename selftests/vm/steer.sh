#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# steer: `pisteer steer` moves the host IRQs of a running passthrough VM's
# vectors - follow its vCPUs (through re-pinning and guest MSI rerouting),
# a static CPU, off - and restores the original affinity on off and on
# unload.  Interrupts keep arriving where routed.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

ktap_plan 16
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
pid=$A_pid

ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"
echo 1 > "$tracing/events/pisteer/steer/enable"
echo > "$tracing/trace"

json() { "$cli" status --vm "$pid" --json; }
irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
orig=$(for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
ktap_diag "host IRQs: $irqs; affinity before: $orig; vCPU threads $tid0 $tid1"

aff_log=$fifos/latency
report_latency() { ktap_diag "$1: the host IRQs were where wanted after $(tail -n1 "$fifos/latency") ms"; }

taskset -pc 0 "$tid0" >/dev/null && taskset -pc 1 "$tid1" >/dev/null
follow() {
	"$cli" steer --vm "$pid" follow && expect_effective "0 1 0 1 0 " 500 &&
		json | jq -e 'all(.[]; .policy == "follow" and .steer_cpu == .vcpu_pinned_cpu)' >/dev/null
}
ktap_check "follow: each host IRQ on its vCPU's pinned CPU (vCPU0 on 0, vCPU1 on 1)" follow
report_latency "follow"

repin() {
	taskset -pc 1 "$tid0" >/dev/null && taskset -pc 0 "$tid1" >/dev/null &&
		expect_effective "1 0 1 0 1 " 100
}
ktap_check "vCPU threads re-pinned: the host IRQs follow within 100 ms" repin
report_latency "re-pin"

reroute() {
	tell A r rerouted && expect_effective "0 1 0 1 0 " 100
}
ktap_check "guest reprograms its MSIs: the host IRQs follow within 100 ms" reroute
report_latency "guest reroute"

# Follow without polling: while nothing moves, nothing is scanned; a vCPU
# thread re-pinned moves its host IRQs (from the sched_setaffinity() call
# on, median of 20 re-pins within 10 ms); a guest reroute still rescans.
scans() { modcount scans "$@"; }
kvm_refs() { modcount allocs kvm_refs; }
quiet_follow() {
	local a0 a1
	a0=$(scans walks reuses reconciles)
	sleep 10
	a1=$(scans walks reuses reconciles)
	echo "in 10 s of following with nothing moving: $((a1 - a0)) scans" > "$fifos/scans"
	[ "$a1" = "$a0" ] || { cat "$fifos/scans"; return 1; }
	tell A r rerouted && expect_effective "1 0 1 0 1 " 100 || return 1
	[ "$(scans walks reuses reconciles)" -gt "$a1" ] || { echo "no rescan after the reroute"; return 1; }
	tell A r rerouted && expect_effective "0 1 0 1 0 " 100
}
ktap_check "following, nothing moving: no scan in 10 s; a guest reroute rescans" quiet_follow
ktap_diag "$(cat "$fifos/scans" 2>/dev/null)"
repin_median() {
	local v0
	v0=$(json | jq -r '.[] | select(.vcpu == 0) | .host_irq' | tr '\n' ' ')
	# shellcheck disable=SC2086
	"$top/build/selftests/repin_lat" "$tid0" 20 10 $v0 | tee "$fifos/repins"
}
ktap_check "20 re-pins of vCPU 0's thread: its host IRQs follow, median within 10 ms" repin_median
ktap_diag "$(cat "$fifos/repins" 2>/dev/null)"



ktap_check "interrupts still arrive on the routed vCPUs" tell A t raised

ktap_check "each move emitted pisteer:steer" \
	bash -c "[ \$(grep -c 'steer: irq=' '$tracing/trace') -ge 15 ]"

# A vCPU thread bounced between the CPUs every 1 ms for 1 s, with a 200 ms
# interval: each of its vectors' IRQs moves, but never twice within 200 ms
# (follow moves on every thread move, so without the bound it would move
# hundreds of times).  The gaps between an IRQ's moves are taken from the
# trace's global clock; moves held back during the storm may come after it.
storm() {
	local tid moves n i worst=0 total=0 gap t0 ms cap
	"$cli" steer --vm "$pid" --interval-us 200000 follow || return 1
	tid=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
	echo global > "$tracing/trace_clock"
	echo > "$tracing/trace"
	t0=$(date +%s%N)
	moves=$("$top/build/selftests/thread_bounce" "$tid" 1000 1000) || return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	sleep 0.5
	# One move per interval while the storm lasts (longer than 1 s on a
	# loaded rig), one held back to its end, one after: no more.
	cap=$((ms / 200 + 2))
	for i in $(json | jq -r '.[] | select(.vcpu == 0) | .host_irq'); do
		n=$(grep -c "steer: irq=$i from" "$tracing/trace")
		total=$((total + n))
		[ "$n" -gt "$worst" ] && worst=$n
		# the shortest gap between two moves of this IRQ, in ms
		gap=$(grep "steer: irq=$i from" "$tracing/trace" |
			awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^[0-9]+\.[0-9]+:$/) t = $f + 0
			       if (n++) { d = (t - p) * 1000; if (min == "" || d < min) min = d }
			       p = t }
			     END { print (min == "" ? 100000 : int(min)) }')
		[ "$gap" -ge 195 ] || { echo "IRQ $i moved twice within ${gap} ms"; grep "steer: irq=$i from" "$tracing/trace"; echo local > "$tracing/trace_clock"; return 1; }
	done
	echo local > "$tracing/trace_clock"
	echo "thread moved $moves times in $ms ms; host IRQ moves per vector at most $worst (cap $cap), $total in all, none within 200 ms of the last" |
		tee "$fifos/storm"
	[ "$moves" -ge 700 ] || { echo "the storm was too slow to test anything"; return 1; }
	[ "$total" -ge 1 ] && [ "$worst" -le "$cap" ] && return 0
	grep 'steer:' "$tracing/trace" | tail -n 8
	json | jq -c '.[] | [.host_irq, .vcpu, .vcpu_tid, .vcpu_pinned_cpu, .policy, .steer_cpu, .steer_moves]'
	return 1
}
ktap_check "affinity storm (1 ms re-pins for 1 s, interval 200 ms): no IRQ moves twice within 200 ms" storm
ktap_diag "storm: $(cat "$fifos/storm" 2>/dev/null)"
# Back to the default interval and the pinning the next checks expect.
taskset -pc 0 "$tid0" >/dev/null && taskset -pc 1 "$tid1" >/dev/null
"$cli" steer --vm "$pid" follow >/dev/null

static_cpu() {
	"$cli" steer --vm "$pid" static 1 && expect_effective "1 1 1 1 1 " 500 &&
		tell A t raised
}
ktap_check "static 1: every host IRQ on CPU 1, interrupts still arrive" static_cpu

bad_static() {
	local out rc
	out=$("$cli" steer --vm "$pid" static 7 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "CPU 7 is not an online CPU" <<<"$out" &&
		effective && [ "$eff" = "1 1 1 1 1 " ] &&
		json | jq -e 'all(.[]; .policy == "static")' >/dev/null || { echo "$rc: $out"; return 1; }
	out=$("$cli" steer --irq 99999 none 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "no policy is set" <<<"$out" || { echo "$rc: $out"; return 1; }
}
ktap_check "static 7 (offline), none on an unset scope: clear errors, nothing changed" bad_static

hysteresis() {
	# Moves made less than 2 s ago hold this one back too: allow 3 s.
	"$cli" steer --vm "$pid" --interval-us 2000000 static 0 &&
		expect_effective "0 0 0 0 0 " 3000 &&
		"$cli" steer --vm "$pid" --interval-us 2000000 static 1 || return 1
	sleep 0.5
	effective
	[ "$eff" = "0 0 0 0 0 " ] || { echo "moved again within the interval: '$eff'"; return 1; }
	expect_effective "1 1 1 1 1 " 3000
}
ktap_check "--interval-us 2 s: a second move waits for the interval, then happens" hysteresis

off() {
	local now
	"$cli" steer --vm "$pid" off || return 1
	now=$(for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
	[ "$now" = "$orig" ] || { echo "affinity '$now', before '$orig'"; return 1; }
	[ "$(kvm_refs)" -eq 0 ] || { echo "$(kvm_refs) VM references kept with no policy that follows"; return 1; }
}
ktap_check "off: the affinity from before pisteer is back; no VM reference kept" off

# wait_affinity WANT MS: the IRQs' smp_affinity_list, in index order, is WANT.
wait_affinity() {
	local i now n
	for n in $(seq $(($2 / 20))); do
		now=$(for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
		[ "$now" = "$1" ] && return 0
		sleep 0.02
	done
	echo "affinity '$now', expected '$1'"
	return 1
}
removal() {
	"$cli" steer --vm "$pid" static 0 && expect_effective "0 0 0 0 0 " 500 || return 1
	tell A u unhooked || return 1
	wait_affinity "$orig" 1000 || return 1
	[ "$(json | jq length)" -eq 0 ] || { echo "vectors still listed"; return 1; }
	# Hooked again, the VM's policy applies to the vectors as they return.
	tell A h hooked && expect_effective "0 0 0 0 0 " 1000 && tell A t raised
}
ktap_check "irqfds deassigned: the vectors go and their affinity is restored; back, re-steered" removal

unload() {
	local now
	"$cli" steer --vm "$pid" static 0 && expect_effective "0 0 0 0 0 " 500 &&
		rmmod pisteer || return 1
	now=$(for i in $irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
	[ "$now" = "$orig" ] || { echo "affinity '$now', before '$orig'"; return 1; }
}
ktap_check "rmmod while steering: the affinity from before pisteer is back" unload

# A steered VM exits: its IRQs are freed with its VFIO device.  Nothing of
# pisteer's must land on the next VM's IRQs (the same numbers come back).
# (Holders are started and stopped here, not in a check's subshell.)
insmod "$mods/kmod/pisteer.ko" && "$cli" steer --vm "$pid" static 0 >/dev/null &&
	expect_effective "0 0 0 0 0 " 500 >/dev/null
holder_stop A
holder_start B "$bdf"
vm_exit() {
	local b_irqs i now
	sleep 0.3
	b_irqs=$("$cli" status --vm "$B_pid" --json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
	[ -n "$b_irqs" ] || { echo "the new VM's vectors are not listed"; return 1; }
	now=$(for i in $b_irqs; do cat "/proc/irq/$i/smp_affinity_list"; done | tr '\n' ' ')
	echo "IRQs of the exited VM: $irqs; of the new one: $b_irqs; their affinity: $now"
	[ "$now" = "$orig" ] || return 1
	"$cli" status --vm "$B_pid" --json | jq -e 'all(.[]; .policy == null)' >/dev/null ||
		{ echo "the new VM has a policy"; return 1; }
}
ktap_check "a steered VM exits: the next VM's IRQs (same numbers) keep their own affinity" vm_exit
holder_stop B
rmmod pisteer
ktap_finish
