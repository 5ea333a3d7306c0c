#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check_cli: `pisteer check` on the rig, with a one-vCPU passthrough VM
# whose threads carry QEMU's names (ptvm_demo -H -c 1 -N).  The rig cannot
# post (kvm_amd avic=N, an emulated VT-d): check must say so with the
# module's reason and fail, pass what holds (IOMMU with interrupt
# remapping: the rig boots with intel_iommu=on and an intremap VT-d), and
# turn the pinning and steering lines ok once `pisteer pin` has pinned the
# VM.  --json must give the same verdicts.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

dir=$(mktemp -d)
export PISTEER_STATE_DIR=$dir/state
mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan 13
if [ "${#bdfs[@]}" -lt 2 ]; then
	ktap_diag "needs two 82574Ls bound to vfio-pci, found ${#bdfs[@]}"
	while [ "$__ktap_n" -lt 13 ]; do ktap_skip "two 82574Ls"; done
	ktap_finish
fi
rmmod pisteer 2>/dev/null
ktap_check "insmod pisteer.ko" insmod "$mods/kmod/pisteer.ko"

holder_start A "${bdfs[0]}" -c 1 -N
pid=$A_pid

# run NAME ARGS...: check's KTAP into $dir/NAME, its exit status into $dir/NAME.rc,
# and the same with --json into $dir/NAME.json(.rc).
run() {
	local name=$1
	shift
	"$cli" check "$@" >"$dir/$name" 2>"$dir/$name.err"
	echo $? >"$dir/$name.rc"
	"$cli" check --json "$@" >"$dir/$name.json" 2>>"$dir/$name.err"
	echo $? >"$dir/$name.json.rc"
	sed 's/^/# /' "$dir/$name"
}

# The KTAP document: version, plan, results numbered 1..N, a count that agrees.
ktap_parses() {
	awk '
	NR == 1 { if ($0 != "KTAP version 1") { print "line 1: " $0; bad = 1 } next }
	NR == 2 { if (!sub(/^1\.\./, "")) { print "no plan: " $0; bad = 1 } plan = $0 + 0; next }
	/^(not )?ok / {
		n++
		num = $0; sub(/^(not )?ok /, "", num); sub(/ .*/, "", num)
		if (num != n) { print "result " n " numbered " num; bad = 1 }
		if ($0 !~ /^(not )?ok [0-9]+ - [a-z_]+/) { print "no name: " $0; bad = 1 }
		if ($0 ~ /^not ok/ && $0 !~ / # fix: ./) { print "no fix: " $0; bad = 1 }
		if ($0 ~ /# SKIP$/) { print "skip without a reason: " $0; bad = 1 }
		if ($0 ~ /^not ok/) f++; else if ($0 ~ /# SKIP /) s++; else o++
		next
	}
	/^# pisteer check: / { split($0, w, /[ ,]+/); co = w[4]; cf = w[6]; cs = w[8]; next }
	{ print "stray line: " $0; bad = 1 }
	END {
		if (n != plan) { print "plan " plan ", " n " results"; bad = 1 }
		if (co != o || cf != f || cs != s) { print "count " co "/" cf "/" cs ", lines " o "/" f "/" s; bad = 1 }
		exit bad
	}' "$1"
}

# line FILE NAME: the result line of check NAME for the VM (or the host).
line() { grep -E "^(not )?ok [0-9]+ - $2( \(vm ${pid}[,)]|:| #)" "$1"; }
verdict() { # FILE NAME: ok, fail or skip
	local l
	l=$(line "$1" "$2" | head -1)
	case $l in
	"not ok"*) echo fail ;;
	*"# SKIP "*) echo skip ;;
	ok*) echo ok ;;
	esac
}

run before --vm "$pid"
ktap_check "KTAP parses: version, plan matching the results, numbered, fixes on failures, count" \
	ktap_parses "$dir/before"

# The reason the module gives (what status shows) is the one check names.
posting_names_reason() {
	local reasons l
	reasons=$("$cli" status --vm "$pid" --json | jq -r '[.[].reason] | unique | .[]') || return 1
	[ -n "$reasons" ] || { echo "status gives no reason: posted?"; return 1; }
	l=$(line "$dir/before" posting)
	[[ $l == "not ok "* ]] || { echo "posting: $l"; return 1; }
	while read -r r; do
		grep -qF "$r" <<<"$l" || { echo "reason '$r' not in: $l"; return 1; }
	done <<<"$reasons"
	if [ "$reasons" = "no APICv/AVIC" ]; then
		grep -qF "kvm_amd avic=N" <<<"$l" &&
			grep -qF "# fix: modprobe -r kvm_amd && modprobe kvm_amd avic=1" <<<"$l" ||
			{ echo "no kvm_amd avic=N or its fix: $l"; return 1; }
	fi
}
ktap_check "the VM's posting line fails, names the module's reason (as status) and its fix" \
	posting_names_reason

# The host lines: KVM's parameter and the IOMMU's PI capability as sysfs has them.
host_posting() {
	local avic cap pi want l
	avic=$(cat /sys/module/kvm_amd/parameters/avic)
	l=$(line "$dir/before" kvm_apicv)
	want=ok; [ "$avic" = Y ] || want=fail
	[ "$(verdict "$dir/before" kvm_apicv)" = "$want" ] && grep -qF "kvm_amd avic=$avic" <<<"$l" ||
		{ echo "avic=$avic: $l"; return 1; }
	cap=$(cat /sys/class/iommu/dmar0/intel-iommu/cap) || return 1
	pi=$(((0x$cap >> 59) & 1))
	want=ok; [ "$pi" = 1 ] || want=fail
	l=$(line "$dir/before" iommu_posting)
	[ "$(verdict "$dir/before" iommu_posting)" = "$want" ] ||
		{ echo "VT-d cap $cap (PI $pi): $l"; return 1; }
	ktap_diag "VT-d cap $cap: PI $pi; kvm_amd avic=$avic"
}
ktap_check "kvm_apicv and iommu_posting as sysfs says (kvm_amd avic, VT-d capability PI)" host_posting

holds() {
	local n
	for n in module iommu numa; do
		[ "$(verdict "$dir/before" $n)" = ok ] || { echo "$n: $(line "$dir/before" $n)"; return 1; }
	done
	line "$dir/before" iommu | grep -q "dmar0 (VT-d), interrupt remapping on" || return 1
	grep -q 'intel_iommu=on' /proc/cmdline || { echo "the rig booted without intel_iommu=on"; return 1; }
	if ! pgrep -x irqbalance >/dev/null; then
		line "$dir/before" irqbalance | grep -q "^ok .*: not running" || return 1
	fi
}
ktap_check "what holds passes: module, IOMMU with interrupt remapping (intel_iommu=on), one NUMA node, irqbalance not running" \
	holds

unpinned_fails() {
	local n
	[ "$(cat "$dir/before.rc")" = 1 ] || { echo "exit $(cat "$dir/before.rc")"; return 1; }
	line "$dir/before" vcpu_pinning | grep -q "^not ok .*vCPU 0 may run on CPUs 0-1 # fix: pisteer pin --vm $pid$" ||
		return 1
	[ "$(verdict "$dir/before" emulator_threads)" = skip ] || return 1
	n=$(grep -cE "^not ok [0-9]+ - steering \(vm $pid, irq [0-9]+\): .* not steered .*# fix: pisteer steer --vm $pid follow$" "$dir/before")
	[ "$n" -eq 5 ] || { echo "$n failed steering lines"; return 1; }
}
ktap_check "unpinned: vcpu_pinning fails (fix: pisteer pin), 5 steering lines fail (fix: steer follow), exit 1" \
	unpinned_fails

json_agrees() { # NAME: the JSON has the KTAP's checks, verdicts and fixes, in order
	local k j
	python3 -m json.tool "$dir/$1.json" >/dev/null || { echo "not JSON"; return 1; }
	[ "$(cat "$dir/$1.rc")" = "$(cat "$dir/$1.json.rc")" ] || { echo "exit statuses differ"; return 1; }
	k=$(awk '/^(not )?ok / { v = /^not ok/ ? "fail" : / # SKIP / ? "skip" : "ok"
		name = $0; sub(/^(not )?ok [0-9]+ - /, "", name); sub(/[ :].*/, "", name)
		fix = ""; if (v == "fail") { fix = $0; sub(/.* # fix: /, "", fix) }
		print name, v, fix }' "$dir/$1")
	j=$(jq -r '.checks[] | "\(.name) \(.status) \(.fix // "")"' "$dir/$1.json")
	[ "$k" = "$j" ] || { diff <(echo "$k") <(echo "$j"); return 1; }
	jq -e '.failed == ([.checks[] | select(.status == "fail")] | length) and
		all(.checks[]; (.status == "fail") == (.fix != null) and (.detail | length) > 0)' \
		"$dir/$1.json" >/dev/null
}
ktap_check "--json: valid JSON with the KTAP's checks, verdicts, fixes and exit status" json_agrees before

pin() {
	"$cli" pin --vm "$pid" | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" -eq 0 ]
}
ktap_check "pisteer pin --vm PID (vCPU 0 to CPU 1, emulator threads to CPU 0, follow policy)" pin

run after --vm "$pid"
pinned_ok() {
	local n
	ktap_parses "$dir/after" || return 1
	line "$dir/after" vcpu_pinning | grep -q "^ok .*: 1 vCPU threads pinned 1:1: vCPU 0 on CPU 1$" || return 1
	[ "$(verdict "$dir/after" emulator_threads)" = ok ] || { line "$dir/after" emulator_threads; return 1; }
	n=$(grep -cE "^ok [0-9]+ - steering \(vm $pid, irq [0-9]+\): .* steered: follow" "$dir/after")
	[ "$n" -eq 5 ] || { echo "$n steering lines ok"; return 1; }
	[ "$(verdict "$dir/after" posting)" = fail ] && [ "$(cat "$dir/after.rc")" = 1 ] ||
		{ echo "posting $(verdict "$dir/after" posting), exit $(cat "$dir/after.rc")"; return 1; }
}
ktap_check "after pin: vcpu_pinning, emulator_threads and the 5 steering lines ok; posting still fails, exit 1" \
	pinned_ok
ktap_check "--json after pin: the same verdicts as the KTAP" json_agrees after

device_filter() {
	local n
	run dev --device "${bdfs[0]}" >/dev/null
	n=$(grep -c " - steering (vm $pid," "$dir/dev")
	[ "$n" -eq 5 ] || { echo "--device ${bdfs[0]}: $n steering lines"; return 1; }
	run other --device "${bdfs[1]}" >/dev/null
	! grep -qE " - (steering|posting|vcpu_pinning) " "$dir/other" ||
		{ echo "--device ${bdfs[1]} (no VM) has per-VM lines"; cat "$dir/other"; return 1; }
	ktap_parses "$dir/other"
}
ktap_check "--device: that device's VM and vectors only; a device no VM holds: host lines only" \
	device_filter

refused() {
	local rc out
	out=$("$cli" check --vm $$ 2>&1); rc=$?
	[ $rc -eq 2 ] && grep -q "holds no KVM VM" <<<"$out" || { echo "not a VM: $rc $out"; return 1; }
	sleep 0 & wait $!
	out=$("$cli" check --vm $! 2>&1); rc=$?
	[ $rc -eq 2 ] && grep -q "no such process" <<<"$out" || { echo "gone: $rc $out"; return 1; }
	out=$("$cli" check --vm x1 2>&1); rc=$?
	[ $rc -eq 2 ] || { echo "--vm x1: $rc"; return 1; }
}
ktap_check "--vm of a process that is no VM, or is gone, or not a pid: refused clearly, exit 2" refused

no_module() {
	local rc
	"$cli" pin --undo >/dev/null || return 1
	rmmod pisteer || return 1
	"$cli" check --vm "$pid" >/dev/null 2>&1; rc=$?
	[ $rc -eq 3 ] || { echo "exit $rc"; return 1; }
}
ktap_check "pin --undo; module unloaded: check exits 3" no_module

holder_stop A
rm -rf "$dir"
ktap_finish
