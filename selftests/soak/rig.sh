#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The soak stages, inside the rig (selftests/rig/vm-run, 3 NICs): run by
# selftests/soak/soak.sh, one rig boot per kernel.
#
#   selftests/soak/rig.sh SCALE [STAGE...]
#
# (the stages named, default all, in their order)
# Each stage writes $PISTEER_RIG_DIR/out/STAGE.json (verdict, count,
# target, seconds, leaks, splats and its own figures, made with jq) and
# STAGE.log (its output and the kernel log it caused); soak.sh merges them
# into build/soak/summary.json.  Counts are the issue's (Documentation/
# testing.md, "make soak") times SCALE, at least 1; each stage also has a
# time cap (times SCALE, at least 120 s): a count not reached in time fails
# the stage, so the run stays bounded.  A stage fails on a splat in the
# kernel log, a leak (debugfs allocs, kvm module references), a lost
# interrupt, an IRQ affinity not restored, or a test program's failure.
. "$(dirname "$0")/../lib/rigtest.sh" holder irqaff

scale=${1:-1}
out=${PISTEER_RIG_DIR:-/tmp}/out
mkdir -p "$out"
bin=$top/build/selftests
allocs=/sys/kernel/debug/pisteer/allocs
cpu1=/sys/devices/system/cpu/cpu1/online
splat_re='(^|[^A-Za-z_])BUG[: ]|WARNING:|Oops|general protection fault'
splat_re+='|soft lockup|hard LOCKUP|rcu.*(stall|self-detected)|refcount_t'
splat_re+='|list_(add|del) corruption|Poison overwritten|Redzone overwritten'
splat_re+='|Object padding overwritten|Kernel panic|UBSAN|KASAN'

# scaled BASE: BASE x SCALE rounded up, at least 1 (at least MIN when given)
scaled() {
	awk -v b="$1" -v s="$scale" -v m="${2:-1}" \
		'BEGIN { n = b * s; i = int(n); if (i < n) i++; if (i < m) i = m; print i }'
}
# rnd N: a number 0..N-1
rnd() { echo $((RANDOM % $1)); }

mapfile -t bdfs < <(vfio_82574l_bdfs)
ko=$mods/kmod/pisteer.ko
dmesg -C

# The kernel log since the last call, into the stage's log; the number of
# splat lines in it on stdout.
stage_kmsg() {
	local log=$1 k
	k=$(dmesg)
	dmesg -C
	{ echo "--- kernel log of the stage ---"; printf '%s\n' "$k"; } >> "$log"
	printf '%s\n' "$k" | grep -cE "$splat_re"
}

# stage_json NAME OK COUNT TARGET T0 LEAKS SPLATS [EXTRA-JSON]
stage_json() {
	local verdict=fail
	[ "$2" = 1 ] && [ "$3" -ge "$4" ] && [ "$6" -eq 0 ] && [ "$7" -eq 0 ] && verdict=pass
	jq -n --arg v "$verdict" --argjson c "$3" --argjson t "$4" \
		--argjson s $((SECONDS - $5)) --argjson l "$6" --argjson sp "$7" \
		--argjson x "${8:-{\}}" \
		'{verdict: $v, count: $c, target: $t, seconds: $s, leaks: $l, splats: $sp} + $x' \
		> "$out/$1.json"
	ktap_diag "stage $1: $verdict, $3 of $4 in $((SECONDS - $5)) s, leaks $6, splats $7"
}

# The counts that must come back: pisteer's allocs, the kvm modules'
# references (a VM or /dev/kvm left open holds one).
kvm_refs() { cat /sys/module/kvm/refcnt /sys/module/kvm_amd/refcnt 2>/dev/null | tr '\n' ' '; }
# wait_same FILE-TEXT MS: wait until the allocs file reads FILE-TEXT
allocs_back() {
	local want=$1 i
	for i in $(seq "$(($2 / 50))"); do
		[ "$(cat "$allocs")" = "$want" ] && return 0
		sleep 0.05
	done
	echo "allocs now / before:"
	paste <(cat "$allocs") <(printf '%s\n' "$want")
	return 1
}
# The differing lines of two allocs texts (0 when equal).
allocs_diff() { diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep -c '^<'; }

ktap_plan $(( $# > 1 ? $# - 1 : 7 ))
ktap_diag "kernel $(uname -r), scale $scale, NICs ${bdfs[*]}"
if [ "${#bdfs[@]}" -lt 3 ] || [ ! -f "$ko" ]; then
	ktap_diag "needs 3 82574Ls on vfio-pci (vm-run --nics 3) and $ko"
	exit 125
fi
rmmod pisteer 2>/dev/null

# --- 1. VM lifetimes ---------------------------------------------------
# vm_cycles runs: plain then under each policy with sampling on; holders
# SIGKILLed mid-start and mid-reroute; two vm_cycles racing on two NICs.
vm_lifetimes() {
	local log=$out/vm_lifetimes.log t0=$SECONDS cap n p ok=1 cycles=0 before kref a
	local killed_start=0 killed_before_ready=0 killed_reroute=0 leaks=0 splats i fifo w
	local hpid k
	cap=$(scaled 1200 120)
	exec 3>>"$log"
	insmod "$ko" || { echo "insmod failed" >&3; ok=0; }
	before=$(cat "$allocs") kref=$(kvm_refs)
	echo "allocs before: $before" | tr '\n' ' ' >&3
	echo "kvm refcnt before: $kref" >&3
	# vm_cycles -n N: N/2 plain, N/2 under the policy with sampling on.
	for p in follow:200 housekeeping:100 static:100 auto:100 off:100; do
		n=$(scaled "${p#*:}" 2)
		[ $((SECONDS - t0)) -lt "$cap" ] || break
		echo "=== vm_cycles -n $n -P ${p%:*}" >&3
		if "$bin/vm_cycles" -n "$n" -d "${bdfs[0]}" -P "${p%:*}" >&3 2>&1; then
			cycles=$((cycles + n))
		else
			ok=0
		fi
	done
	# SIGKILL mid-start: at a random point of the holder's start.
	fifo=$(mktemp -u) && mkfifo "$fifo" && exec {w}<>"$fifo"
	n=$(scaled 100)
	echo "=== $n holders SIGKILLed mid-start" >&3
	for i in $(seq "$n"); do
		[ $((SECONDS - t0)) -lt "$cap" ] || break
		"$holder" -H -d "${bdfs[0]}" <"$fifo" >"$fifo.out" 2>&1 &
		hpid=$!
		sleep "0.$(printf '%03d' "$(rnd 600)")"
		kill -9 "$hpid"
		wait "$hpid" 2>/dev/null
		grep -q ready "$fifo.out" || killed_before_ready=$((killed_before_ready + 1))
		killed_start=$((killed_start + 1))
	done
	exec {w}>&-
	rm -f "$fifo"
	echo "killed $killed_start, $killed_before_ready of them before 'ready'" >&3
	# SIGKILL mid-reroute: routes swapped every 5 ms, killed meanwhile.
	n=$(scaled 100)
	echo "=== $n holders SIGKILLed mid-reroute" >&3
	for i in $(seq "$n"); do
		[ $((SECONDS - t0)) -lt "$cap" ] || break
		mkfifo "$fifo"
		exec {w}<>"$fifo"
		"$holder" -H -d "${bdfs[0]}" <"$fifo" >"$fifo.out" 2>&1 &
		hpid=$!
		for k in $(seq 100); do grep -q ready "$fifo.out" && break; sleep 0.05; done
		if grep -q ready "$fifo.out"; then
			echo R200 >&"$w"
			sleep "0.$(printf '%03d' $((20 + $(rnd 400))))"
			killed_reroute=$((killed_reroute + 1))
		else
			echo "holder $i not ready after 5 s: $(cat "$fifo.out")" >&3
			ok=0
		fi
		kill -9 "$hpid"
		wait "$hpid" 2>/dev/null
		exec {w}>&-
		rm -f "$fifo"
	done
	rm -f "$fifo.out"
	echo "killed $killed_reroute mid-reroute" >&3
	# Two VMs sharing nothing, racing: two processes, two NICs.
	n=$(scaled 100 2)
	if [ $((SECONDS - t0)) -lt "$cap" ]; then
		echo "=== two vm_cycles -S -n $n racing" >&3
		"$bin/vm_cycles" -S -n "$n" -d "${bdfs[0]}" > "$out/race0.log" 2>&1 &
		a=$!
		"$bin/vm_cycles" -S -n "$n" -d "${bdfs[1]}" -P static > "$out/race1.log" 2>&1 ||
			ok=0
		wait "$a" || ok=0
		cat "$out/race0.log" "$out/race1.log" >&3
		rm -f "$out/race0.log" "$out/race1.log"
		[ "$ok" = 1 ] && cycles=$((cycles + 2 * n))
	fi
	cycles=$((cycles + killed_start + killed_reroute))
	# Records, policies, every allocs count and the kvm references back.
	allocs_back "$before" 10000 >&3 || leaks=$(allocs_diff "$(cat "$allocs")" "$before")
	[ "$(kvm_refs)" = "$kref" ] ||
		{ echo "kvm refcnt $(kvm_refs), was $kref" >&3; leaks=$((leaks + 1)); }
	echo "allocs after: $(tr '\n' ' ' < "$allocs")" >&3
	rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
	exec 3>&-
	splats=$(stage_kmsg "$log")
	stage_json vm_lifetimes "$ok" "$cycles" "$(scaled 1000)" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson ks "$killed_start" --argjson kb "$killed_before_ready" \
			--argjson kr "$killed_reroute" \
			'{killed_mid_start: $ks, killed_before_ready: $kb, killed_mid_reroute: $kr}')"
}

# --- 2. Module reloads under load ---------------------------------------
# Two held VMs steered by follow take interrupts; each cycle: insmod,
# follow both, the fuzzer for a second (8 threads, its own VMs on the
# third NIC) while both VMs take interrupts, rmmod, the VMs' IRQs back to
# what they were, interrupts without the module.
module_reloads() {
	local log=$out/module_reloads.log t0=$SECONDS cap n i ok=1 cycles=0 raised=0 lost=0
	local fuzzed=0 c fz leaks=0 splats before_all after_all mine kref restored=1 steered=0
	local held='' held_before='' h
	cap=$(scaled 900 120)
	n=$(scaled 100)
	exec 3>>"$log"
	kref=$(kvm_refs)
	holder_start A "${bdfs[0]}"
	holder_start B "${bdfs[1]}"
	before_all=$(irq_affinities)
	# The held VMs' host IRQs, by VFIO's names for them.
	held=$(awk -v a="(${bdfs[0]})" -v b="(${bdfs[1]})" '/vfio-msix/ &&
		(index($0, a) || index($0, b)) { sub(":", "", $1); print $1 }' /proc/interrupts |
		tr '\n' ' ')
	held_before=$(irq_affinities $held)
	echo "held VMs' IRQs: $held" >&3
	[ -n "$held" ] || { echo "no vfio-msix IRQ of the held VMs" >&3; ok=0; }
	for i in $(seq "$n"); do
		[ $((SECONDS - t0)) -lt "$cap" ] || { echo "time cap reached" >&3; break; }
		echo "cycle $i at ${EPOCHREALTIME}: insmod" >&3
		insmod "$ko" || { echo "cycle $i: insmod failed" >&3; ok=0; break; }
		"$cli" steer --vm "$A_pid" follow >&3 && "$cli" steer --vm "$B_pid" follow >&3 ||
			{ echo "cycle $i: steer follow failed" >&3; ok=0; }
		# Steered: every vector of both VMs has a steer CPU.
		for _ in $(seq 40); do
			c=$( { "$cli" status --vm "$A_pid" --json; "$cli" status --vm "$B_pid" --json; } |
				jq -s '[.[][] | select(.steer_cpu >= 0)] | length')
			[ "$c" = 10 ] && break
			sleep 0.05
		done
		[ "$c" = 10 ] && steered=$((steered + 1)) ||
			{ echo "cycle $i: $c of 10 vectors steered" >&3; ok=0; }
		echo "cycle $i at ${EPOCHREALTIME}: steered, fuzzing" >&3
		"$bin/ioctl_fuzz" -S -t 1 -j 8 -d "${bdfs[2]}" > "$out/fuzz.out" 2>&1 &
		fz=$!
		while kill -0 "$fz" 2>/dev/null; do
			for h in A B; do
				if tell "$h" t raised >&3; then raised=$((raised + 5)); else lost=$((lost + 1)); fi
			done
		done
		wait "$fz" || { echo "cycle $i: ioctl_fuzz failed:" >&3; cat "$out/fuzz.out" >&3; ok=0; }
		c=$(sed -n 's/^ok [0-9]* \([0-9]*\) fuzzed calls.*/\1/p' "$out/fuzz.out")
		fuzzed=$((fuzzed + ${c:-0}))
		grep -qE '^not ok [0-9]+ (no record left|allocation counts)' "$out/fuzz.out" &&
			leaks=$((leaks + 1))
		echo "cycle $i at ${EPOCHREALTIME}: rmmod" >&3
		rmmod pisteer || { echo "cycle $i: rmmod failed" >&3; ok=0; break; }
		echo "cycle $i at ${EPOCHREALTIME}: unloaded" >&3
		cycles=$((cycles + 1))
		# The held VMs' IRQs as before the first load, at once.
		mine=$(irq_affinities $held)
		if [ "$mine" != "$held_before" ]; then
			echo "cycle $i: the held VMs' IRQs not restored: $mine" >&3
			restored=0
		fi
		for h in A B; do
			if tell "$h" t raised >&3; then raised=$((raised + 5)); else lost=$((lost + 1)); fi
		done
	done
	rm -f "$out/fuzz.out"
	after_all=$(irq_affinities)
	if [ "$after_all" != "$before_all" ]; then
		echo "IRQ affinities after the last unload differ (< before, > after):" >&3
		diff <(printf '%s\n' "$before_all") <(printf '%s\n' "$after_all") >&3
		restored=0
	fi
	holder_stop A
	holder_stop B
	[ "$(kvm_refs)" = "$kref" ] ||
		{ echo "kvm refcnt $(kvm_refs), was $kref" >&3; leaks=$((leaks + 1)); }
	echo "$cycles reloads, $steered with all 10 vectors steered, $raised interrupts on the routed vCPUs, $lost rounds with one lost, $fuzzed ioctls fuzzed" >&3
	exec 3>&-
	splats=$(stage_kmsg "$log")
	[ "$lost" -eq 0 ] && [ "$restored" = 1 ] || ok=0
	stage_json module_reloads "$ok" "$cycles" "$n" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson r "$raised" --argjson l "$lost" --argjson f "$fuzzed" \
			--argjson s "$steered" --argjson a "$([ "$restored" = 1 ] && echo true || echo false)" \
			'{interrupts_routed: $r, lost_rounds: $l, fuzz_ioctls: $f, cycles_steered: $s,
			  affinities_restored: $a}')"
}

# --- 3. Fuzzing -----------------------------------------------------------
# Rounds of ioctl_fuzz (8 threads, its VMs coming and going) on a freshly
# loaded module each, until the count is reached.
fuzzing() {
	local log=$out/fuzzing.log t0=$SECONDS cap target total=0 rounds=0 ok=1 c leaks=0 splats
	local secs kref
	cap=$(scaled 900 120)
	target=$(scaled 1000000)
	secs=$(scaled 60 5)
	kref=$(kvm_refs)
	exec 3>>"$log"
	while [ "$total" -lt "$target" ] && [ $((SECONDS - t0)) -lt "$cap" ]; do
		rounds=$((rounds + 1))
		insmod "$ko" || { echo "round $rounds: insmod failed" >&3; ok=0; break; }
		echo "=== round $rounds" >&3
		"$bin/ioctl_fuzz" -t "$secs" -j 8 -d "${bdfs[2]}" > "$out/fuzz.out" 2>&1 ||
			{ echo "round $rounds: ioctl_fuzz failed" >&3; ok=0; }
		cat "$out/fuzz.out" >&3
		c=$(sed -n 's/^ok [0-9]* \([0-9]*\) fuzzed calls.*/\1/p' "$out/fuzz.out")
		[ -n "$c" ] || c=$(sed -n 's/^not ok [0-9]* \([0-9]*\) fuzzed calls.*/\1/p' "$out/fuzz.out")
		total=$((total + ${c:-0}))
		grep -qE '^not ok [0-9]+ (no record left|allocation counts)' "$out/fuzz.out" &&
			leaks=$((leaks + 1))
		rmmod pisteer || { echo "round $rounds: rmmod failed" >&3; ok=0; break; }
	done
	rm -f "$out/fuzz.out"
	[ "$(kvm_refs)" = "$kref" ] ||
		{ echo "kvm refcnt $(kvm_refs), was $kref" >&3; leaks=$((leaks + 1)); }
	echo "$total ioctls in $rounds rounds" >&3
	exec 3>&-
	splats=$(stage_kmsg "$log")
	stage_json fuzzing "$ok" "$total" "$target" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson r "$rounds" --argjson th 8 '{rounds: $r, threads: $th}')"
}

# --- 4. CPU hotplug --------------------------------------------------------
# A held VM under follow, vCPU 1's thread pinned to CPU 1, its IRQs there;
# CPU 1 (the steered IRQs' CPU and the vCPU's) offline, interrupts, the
# IRQs must follow vCPU 1 to CPU 0; online, re-pinned, back on CPU 1.
cpu_hotplug() {
	local log=$out/cpu_hotplug.log t0=$SECONDS cap n i ok=1 cycles=0 raised=0 lost=0 leaks=0
	local splats tid0 tid1 before k
	cap=$(scaled 300 120)
	n=$(scaled 50)
	exec 3>>"$log"
	insmod "$ko" || { echo "insmod failed" >&3; ok=0; }
	before=$(cat "$allocs")
	holder_start H "${bdfs[0]}"
	json() { "$cli" status --vm "$H_pid" --json; }
	irqs=$(json | jq -r 'sort_by(.index) | .[].host_irq' | tr '\n' ' ')
	tid0=$(json | jq -r 'map(select(.vcpu == 0))[0].vcpu_tid')
	tid1=$(json | jq -r 'map(select(.vcpu == 1))[0].vcpu_tid')
	echo "host IRQs $irqs, vCPU threads $tid0 $tid1" >&3
	taskset -pc 0 "$tid0" >&3 && taskset -pc 1 "$tid1" >&3 &&
		"$cli" steer --vm "$H_pid" follow >&3 &&
		expect_effective "0 1 0 1 0 " 2000 >&3 || { echo "set-up failed" >&3; ok=0; }
	for i in $(seq "$n"); do
		[ "$ok" = 1 ] || break
		[ $((SECONDS - t0)) -lt "$cap" ] || { echo "time cap reached" >&3; break; }
		echo 0 > "$cpu1" || { echo "cycle $i: CPU 1 offline failed" >&3; ok=0; break; }
		expect_effective "0 0 0 0 0 " 2000 >&3 || { echo "cycle $i: offline" >&3; ok=0; }
		# vCPU 1 runs again (on CPU 0): follow must steer its IRQs there.
		if tell H t raised >&3; then raised=$((raised + 5)); else lost=$((lost + 1)); fi
		for k in $(seq 40); do
			json | jq -e 'all(.[]; .steer_cpu == 0)' >/dev/null && break
			sleep 0.05
		done
		json | jq -e 'all(.[]; .steer_cpu == 0)' >/dev/null ||
			{ echo "cycle $i: not all steered to CPU 0:" >&3
			  json | jq -c '[.[] | {host_irq, vcpu, vcpu_pcpu, steer_cpu}]' >&3; ok=0; }
		echo 1 > "$cpu1" || { echo "cycle $i: CPU 1 online failed" >&3; ok=0; break; }
		taskset -pc 1 "$tid1" >/dev/null || ok=0
		if tell H t raised >&3; then raised=$((raised + 5)); else lost=$((lost + 1)); fi
		expect_effective "0 1 0 1 0 " 2000 >&3 || { echo "cycle $i: online" >&3; ok=0; }
		cycles=$((cycles + 1))
	done
	echo 1 > "$cpu1" 2>/dev/null
	holder_stop H
	allocs_back "$before" 10000 >&3 || leaks=$(allocs_diff "$(cat "$allocs")" "$before")
	rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
	echo "$cycles hotplug cycles, $raised interrupts on the routed vCPUs, $lost lost" >&3
	exec 3>&-
	splats=$(stage_kmsg "$log")
	[ "$lost" -eq 0 ] || ok=0
	stage_json cpu_hotplug "$ok" "$cycles" "$n" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson r "$raised" --argjson l "$lost" \
			'{interrupts_routed: $r, lost_rounds: $l}')"
}

# --- 5. Detach and re-attach (the migration flow) ------------------------
# shellcheck source=device_reattach.sh
. "$top/selftests/soak/device_reattach.sh"

# --- 6. Scale ---------------------------------------------------------------
# shellcheck source=scale.sh
. "$top/selftests/soak/scale.sh"

# --- 7. The guest companion's sysfs files fuzzed -------------------------
# shellcheck source=guest_fuzz.sh
. "$top/selftests/soak/guest_fuzz.sh"

main() {
	local s v
	shift
	[ $# -gt 0 ] || set -- vm_lifetimes module_reloads fuzzing cpu_hotplug device_reattach scale guest_fuzz
	for s in "$@"; do
		echo "$s" > "$out/current"
		ktap_diag "stage $s"
		$s
		v=$(jq -r .verdict "$out/$s.json" 2>/dev/null)
		if [ "$v" = pass ]; then ktap_ok "$s"; else ktap_fail "$s"; fi
	done
	rm -f "$out/current"
	ktap_finish
}
# On one line: bash has read it all before it runs.
main "$@"; exit $?
