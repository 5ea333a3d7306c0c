#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# isolate: `pisteer isolate --cpus 1` moves every movable host IRQ off CPU 1
# except the passthrough vectors of pinned VMs, lists what it could not
# move, warns about irqbalance, and --undo puts every /proc/irq/*/smp_affinity
# back as it was.  Runs in the rig (it moves the host's IRQs).
#
# The pinned VM is a passthrough holder VM (selftests/lib) with a pin state
# file written here: `pisteer pin` cannot place its 2 vCPUs on the rig's
# 2 CPUs with a housekeeping CPU left, and its threads carry no QEMU names.
# isolate reads nothing but that file to know which VMs are pinned.
. "$(dirname "$0")/../lib/rigtest.sh" holder

export PISTEER_STATE_DIR=$fifos/state

ktap_plan 8
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
pid=$A_pid
ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"

irqs=$("$cli" status --vm "$pid" --json | jq -r '.[].host_irq' | sort -n | tr '\n' ' ')
ktap_diag "holder VM $pid, passthrough host IRQs: $irqs"
# The VM's vectors sit on CPU 1, the CPU to isolate.
for i in $irqs; do echo 1 > "/proc/irq/$i/smp_affinity_list"; done

mkdir -p "$PISTEER_STATE_DIR"
start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$pid/stat")
pin_state() {
	printf '{"pid":%d,"start":%s,"steer":false,"threads":[]}\n' "$pid" "$start" \
		> "$PISTEER_STATE_DIR/pin-$pid.json"
}
pin_state

# Every IRQ's affinity, one "N mask list" a line.
snap() {
	local d m l
	for d in /proc/irq/[0-9]*; do
		read -r m < "$d/smp_affinity" 2>/dev/null || m=-
		read -r l < "$d/smp_affinity_list" 2>/dev/null || l=-
		echo "${d##*/} $m $l"
	done
}
before=$(snap)
aff() { cat "/proc/irq/$1/smp_affinity_list"; }

# A process named irqbalance (a renamed sleep) for the warning.
ln -s "$(command -v sleep)" "$fifos/irqbalance"
"$fifos/irqbalance" 600 &
fake_irqbalance=$!

dry_run() {
	local out
	out=$("$cli" isolate --cpus 1 --dry-run) || { echo "$out"; return 1; }
	[ "$(snap)" = "$before" ] || { echo "dry run changed affinities"; return 1; }
	[ ! -e "$PISTEER_STATE_DIR/isolate.json" ] || { echo "dry run saved state"; return 1; }
	grep -q "dry run: nothing changed" <<<"$out"
}
ktap_check "--dry-run: prints the plan, changes and saves nothing" dry_run

isolate() {
	local out n m l moved=0 bad=0
	out=$("$cli" isolate --cpus 1) || { echo "$out"; return 1; }
	printf '%s\n' "$out" > "$fifos/isolate.out"
	while read -r n m l; do
		[ "$l" = - ] && continue
		m=${m//,/}
		(( 16#$m & 2 )) || continue	# not on CPU 1 before
		if [[ " $irqs " == *" $n "* ]]; then
			[ "$(aff "$n")" = 1 ] || { echo "passthrough IRQ $n moved to $(aff "$n")"; bad=1; }
			grep -Eq "^$n .*kept: a pinned VM's passthrough vector" <<<"$out" ||
				{ echo "IRQ $n not reported kept"; bad=1; }
		elif [ "$(aff "$n")" = 0 ]; then
			moved=$((moved + 1))
		else
			grep -Eq "^$n .*not movable" <<<"$out" ||
				{ echo "IRQ $n still on $(aff "$n") and not reported"; bad=1; }
		fi
	done <<<"$before"
	echo "moved $moved IRQs to CPU 0"
	[ "$moved" -gt 0 ] && grep -q "^$moved IRQs moved" <<<"$out" || bad=1
	grep -q "IRQBALANCE_BANNED_CPULIST=1" <<<"$out" || { echo "no irqbalance warning"; bad=1; }
	grep -q "per-CPU interrupts, not movable: .*LOC" <<<"$out" || { echo "no per-CPU list"; bad=1; }
	[ -s "$PISTEER_STATE_DIR/isolate.json" ] || { echo "no state"; bad=1; }
	return "$bad"
}
ktap_check "isolate --cpus 1: movable IRQs on CPU 0, the pinned VM's vectors kept on 1, irqbalance warned" isolate
sed 's/^/# /' "$fifos/isolate.out"

again() {
	local out rc
	out=$("$cli" isolate --cpus 1 2>&1); rc=$?
	[ "$rc" -eq 1 ] && grep -q "already isolated" <<<"$out" || { echo "$rc: $out"; return 1; }
}
ktap_check "isolate twice: refused until --undo" again

ktap_check "the VM's interrupts still arrive" tell A t raised

undo() {
	local now
	"$cli" isolate --undo || return 1
	now=$(snap)
	[ "$now" = "$before" ] || { diff <(echo "$before") <(echo "$now"); return 1; }
	[ ! -e "$PISTEER_STATE_DIR/isolate.json" ]
}
ktap_check "--undo: every /proc/irq/*/smp_affinity as before" undo

unpinned() {
	local i
	rm -f "$PISTEER_STATE_DIR/pin-$pid.json"
	"$cli" isolate --cpus 1 >/dev/null || return 1
	for i in $irqs; do
		[ "$(aff "$i")" = 0 ] || { echo "IRQ $i of an unpinned VM stayed on $(aff "$i")"; return 1; }
	done
	undo
}
ktap_check "a VM that is not pinned: its vectors move too; undo restores" unpinned

no_module() {
	local i out
	pin_state
	rmmod pisteer || return 1
	out=$("$cli" isolate --cpus 1) || return 1
	for i in $irqs; do
		[ "$(aff "$i")" = 1 ] || { echo "vfio IRQ $i moved without the module"; return 1; }
	done
	grep -q "module not loaded: every vfio-\* IRQ kept" <<<"$out" || { echo "$out"; return 1; }
	undo
}
ktap_check "module unloaded: every vfio-* IRQ kept; undo restores" no_module

kill "$fake_irqbalance"
wait "$fake_irqbalance" 2>/dev/null
holder_stop A
ktap_finish
