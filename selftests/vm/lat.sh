#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lat: the auto and housekeeping steering policies, and latency sampling,
# on a running passthrough VM.  auto picks follow here (no APICv/AVIC in
# the rig: kvm_amd avic=N, vectors remapped) and says why; housekeeping
# puts the host IRQs on the configured CPUs; bad input changes nothing.
# Sampling registers its probes only while enabled, counts exactly the
# interrupts the host took, and `pisteer lat` prints text, JSON and SVG.
# Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

kprobes=/sys/kernel/debug/kprobes/list
ROUNDS=20

ktap_plan 20
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
pid=$A_pid

ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"

json() { "$cli" status --vm "$pid" --json; }
irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
taskset -pc 0 "$tid0" >/dev/null && taskset -pc 1 "$tid1" >/dev/null
ktap_diag "host IRQs: $irqs; vCPU threads $tid0 (CPU 0) $tid1 (CPU 1)"

auto() {
	local out
	"$cli" steer --vm "$pid" && expect_effective "0 1 0 1 0 " 500 || return 1
	json | jq -e 'length == 5 and all(.[]; .policy == "auto" and .policy_applied == "follow"
		and .policy_why == "no_apicv" and .mode == "remapped" and .steer_cpu == .vcpu_pinned_cpu)' \
		>/dev/null || { json; return 1; }
	out=$("$cli" status --vm "$pid")
	[ "$(grep -c ' auto=follow ' <<<"$out")" -eq 5 ] &&
		grep -q '^auto=follow: no APICv/AVIC on the host' <<<"$out" || { echo "$out"; return 1; }
}
ktap_check "steer without a policy is auto: follow here (no APICv/AVIC), status says why" auto

hk() {
	local cpus=$1 want=$2
	"$cli" steer --vm "$pid" housekeeping ${cpus:+--cpus "$cpus"} &&
		expect_effective "$want" 500 || return 1
	json | jq -e 'all(.[]; .policy == "housekeeping" and .policy_applied == "housekeeping"
		and .policy_why == null)' >/dev/null || { json; return 1; }
	tell A t raised
}
ktap_check "housekeeping --cpus 0: every host IRQ on CPU 0, interrupts arrive" hk 0 "0 0 0 0 0 "
ktap_check "housekeeping --cpus 1: every host IRQ on CPU 1" hk 1 "1 1 1 1 1 "
ktap_check "housekeeping --cpus 0-1: each host IRQ off its vCPU's CPU" hk 0-1 "1 0 1 0 1 "
ktap_check "housekeeping, kernel's CPUs: each host IRQ off its vCPU's CPU" hk "" "1 0 1 0 1 "

bad_steer() {
	local out rc args
	"$cli" steer --vm "$pid" housekeeping --cpus 1 && expect_effective "1 1 1 1 1 " 500 || return 1
	out=$("$cli" steer --vm "$pid" housekeeping --cpus 0,7 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "names a CPU that is not online" <<<"$out" || { echo "$rc: $out"; return 1; }
	for args in "housekeeping --cpus 0-" "housekeeping --cpus 2-1" "housekeeping --cpus x" \
		"follow --cpus 0" "static 1 --cpus 0" "sometimes"; do
		# shellcheck disable=SC2086
		out=$("$cli" steer --vm "$pid" $args 2>&1); rc=$?
		[ $rc -eq 2 ] || { echo "'$args': $rc: $out"; return 1; }
	done
	effective
	[ "$eff" = "1 1 1 1 1 " ] || { echo "moved: '$eff'"; return 1; }
	json | jq -e 'all(.[]; .policy == "housekeeping" and .steer_cpu == 1)' >/dev/null
}
ktap_check "bad CPU lists and policies: clear errors, nothing changed" bad_steer

ktap_run lat_ioctl "$top/build/selftests/lat_ioctl" "$pid"

ktap_check "steer off" "$cli" steer --vm "$pid" off

# The probes of latency sampling, as the kprobes list shows them.
lat_probes() { grep -cE ' (vfio_msihandler|svm_vcpu_run|vmx_vcpu_run)\+0x[0-9a-f]+ ' "$kprobes"; }
no_probes() {
	local n
	n=$(lat_probes)
	[ "$n" -eq 0 ] || { echo "$n latency probes registered:"; cat "$kprobes"; return 1; }
}
ktap_check "sampling off: no probe on vfio_msihandler or *_vcpu_run" no_probes

probes_on() {
	local n
	n=$(lat_probes)
	[ "$n" -eq 2 ] || { echo "$n latency probes registered:"; cat "$kprobes"; return 1; }
}
enable() { "$cli" lat --enable && probes_on; }
ktap_check "lat --enable: the two probes are registered" enable

# host_counts: each vector's host IRQ count (all CPUs), in index order
host_counts() {
	local i
	for i in $irqs; do
		awk -v irq="$i:" '$1 == irq { s = 0; for (c = 2; c <= NF && $c ~ /^[0-9]+$/; c++) s += $c; print s }' /proc/interrupts
	done | tr '\n' ' '
}
raise() {
	local r
	for r in $(seq "$1"); do
		tell A t raised || return 1
	done
}

counts() {
	local before after out
	before=$(host_counts)
	raise $ROUNDS || return 1
	after=$(host_counts)
	out=$("$cli" lat --vm "$pid" --json) || return 1
	printf '%s\n' "$out" > "$fifos/counts.json"
	ktap_diag "host IRQ counts before: $before after: $after"
	jq -c '.vectors | sort_by(.index) | .[] | {index, count, coalesced, min_ns, p50_ns, p99_ns, max_ns}' \
		<<<"$out" | sed 's/^/# /'
	jq -e --arg b "$before" --arg a "$after" --argjson n "$ROUNDS" '
		($b | split(" ") | map(select(. != "") | tonumber)) as $b |
		($a | split(" ") | map(select(. != "") | tonumber)) as $a |
		.sampling.all_vms and .sampling.probes and
		(.vectors | length == 5) and
		(.vectors | sort_by(.index) | to_entries | all(.[];
			.key as $k | .value |
			.count + .coalesced == ($a[$k] - $b[$k]) and .count >= $n and
			.min_ns <= .p50_ns.ge and .p50_ns.ge <= .p99_ns.ge and
			.p99_ns.ge <= .["p99.9_ns"].ge and .["p99.9_ns"].ge <= .max_ns and
			.p50_ns.lt <= .p99_ns.lt and .p99_ns.lt <= .max_ns + 1 and
			.min_ns <= .max_ns and .sum_ns >= .count * .min_ns and
			.sum_ns <= .count * .max_ns and
			([.hist[].count] | add) == .count))' <<<"$out" >/dev/null
}
# Every host IRQ of a vector is measured once, or counted as coalesced when
# its vCPU had a measurement pending (the rounds are spaced so that none
# should be; QEMU's 82574L can add a duplicate message at any time).
ktap_check "$ROUNDS rounds: per vector count (+ coalesced) == host IRQs taken, min <= p50 <= p99 <= max, histogram sums to count" counts
jq -r '.vectors | sort_by(.index) | .[] | "vector \(.index): count \(.count) coalesced \(.coalesced) min \(.min_ns) p50 [\(.p50_ns.ge), \(.p50_ns.lt)) p99 [\(.p99_ns.ge), \(.p99_ns.lt)) max \(.max_ns) ns"' \
	"$fifos/counts.json" 2>/dev/null | sed 's/^/# /'

text() {
	local out
	out=$("$cli" lat --vm "$pid") || return 1
	printf '%s\n' "$out" | sed -n '1,12p'
	grep -q '^sampling: on for every VM$' <<<"$out" &&
		[ "$(grep -cE '^VM [0-9]+-[0-9]+ 0000:00:0[0-9]\.0 msix\[[0-4]\] irq [0-9]+ vCPU [01]$' <<<"$out")" -eq 5 ] &&
		[ "$(grep -cE '^  count [0-9]+  min [0-9.]+[mun]?s  p50 \[[0-9.]+[mun]?s, [0-9.]+[mun]?s\)  p99 \[.*\)  p99\.9 \[.*\)  max [0-9.]+[mun]?s  mean [0-9.]+[mun]?s  coalesced [0-9]+$' <<<"$out")" -eq 5 ] &&
		grep -qE '^  \[[0-9]+[KMG]?, [0-9]+[KMG]?\) +[0-9]+ \|@+ *\|$' <<<"$out" &&
		[ "$(grep -cE '^  \[[0-9]+[KMG]?, [0-9]+[KMG]?\) +[0-9]+ \|@{52}\|$' <<<"$out")" -ge 5 ]
}
ktap_check "pisteer lat: per vector count, min, p50, p99, p99.9, max and a hist() drawing" text
"$cli" lat --vm "$pid" | sed -n '1,/^$/d; 1,/^$/p' | sed 's/^/# /'

svg() {
	local f=$fifos/lat.svg
	"$cli" lat --vm "$pid" --svg "$f" >/dev/null || return 1
	xmllint --noout "$f" || return 1
	[ "$(grep -c '^<g transform=' "$f")" -eq 5 ] &&
		[ "$(grep -c 'fill="steelblue"' "$f")" -ge 5 ] &&
		[ "$(head -c 5 "$f")" = "<?xml" ] || { head -n 20 "$f"; return 1; }
}
ktap_check "pisteer lat --svg: a well-formed SVG with one chart per vector" svg

interval() {
	local f=$fifos/interval.json before after bg
	"$cli" lat --vm "$pid" --json --interval 3 --count 1 > "$f" &
	bg=$!
	sleep 0.5
	before=$(host_counts)
	raise 1 || return 1
	after=$(host_counts)
	wait "$bg" || return 1
	[ "$(wc -l < "$f")" -eq 1 ] || { echo "not one JSON line:"; cat "$f"; return 1; }
	jq -e --arg b "$before" --arg a "$after" '
		($b | split(" ") | map(select(. != "") | tonumber)) as $b |
		($a | split(" ") | map(select(. != "") | tonumber)) as $a |
		.vectors | sort_by(.index) | to_entries | all(.[];
			.key as $k | .value | .count + .coalesced == ($a[$k] - $b[$k]) and
			([.hist[].count] | add // 0) == .count)' "$f" >/dev/null || { cat "$f"; return 1; }
}
ktap_check "pisteer lat --interval 3 --count 1 --json: one line, the interrupts of that interval" interval

reset() {
	"$cli" lat --reset && probes_on || return 1
	"$cli" lat --json | jq -e '.vectors | length == 5 and all(.[]; .count == 0 and .sum_ns == 0
		and .max_ns == null and .hist == [])' >/dev/null
}
ktap_check "lat --reset: every count zero, still sampling" reset

per_vm() {
	local out rc
	"$cli" lat --disable && no_probes || return 1
	"$cli" lat --enable --vm "$pid" && probes_on || return 1
	raise 2 || return 1
	"$cli" lat --vm "$pid" --json | jq -e '(.sampling.all_vms | not) and .sampling.vm_processes == 1
		and (.vectors | length == 5 and all(.[]; .count >= 2))' >/dev/null || return 1
	out=$("$cli" lat --disable --vm $((pid + 100000)) 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "not enabled" <<<"$out" && probes_on || { echo "$rc: $out"; return 1; }
	"$cli" lat --disable --vm "$pid" && no_probes || return 1
	[ "$("$cli" lat --json | jq '.vectors | length')" -eq 0 ]
}
ktap_check "per VM: --enable --vm, --disable of another VM fails and changes nothing, the last --disable unregisters" per_vm

# A VM that exits: its vectors' samples stay, marked gone, until a reset.
gone() {
	local bdf2 pid_b out
	bdf2=$(vfio_82574l_bdfs | sed -n 2p)
	[ -n "$bdf2" ] || { echo "no second 82574L"; return 1; }
	"$cli" lat --enable || return 1
	holder_start B "$bdf2"
	pid_b=$B_pid
	# Sampling starts at the first scan that sees a vector (a rescan follows
	# the VM's KVM_IRQFD calls by 20 ms); listing them scans too.
	[ "$("$cli" status --vm "$pid_b" --json | jq length)" -eq 5 ] || return 1
	tell B t raised && tell B t raised || return 1
	holder_stop B
	for _ in $(seq 40); do
		out=$("$cli" lat --vm "$pid_b" --json)
		jq -e '.vectors | length == 5 and all(.[]; .gone)' <<<"$out" >/dev/null && break
		sleep 0.05
	done
	jq -e '.vectors | length == 5 and all(.[]; .gone and .count >= 2)' <<<"$out" >/dev/null ||
		{ echo "$out"; return 1; }
	"$cli" lat --reset && probes_on || return 1
	out=$("$cli" lat --json)
	jq -e --argjson b "$pid_b" --argjson a "$pid" '.vectors | length == 5 and
		all(.[]; .vm_pid == $a and (.gone | not) and .count == 0)' <<<"$out" >/dev/null ||
		{ echo "$out"; return 1; }
}
ktap_check "a sampled VM exits: its samples stay, marked gone; --reset drops them" gone

unload() {
	"$cli" lat --enable && probes_on && raise 1 && rmmod pisteer && no_probes
}
ktap_check "rmmod with sampling on: clean, no probe left" unload

ktap_check "the VM still gets its interrupts" tell A t raised

holder_stop A
ktap_finish
