#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# affinity_override: someone else (an admin here, irqbalance in real
# life) changes the affinity of a host IRQ pisteer steers.  pisteer
# notices within 100 ms, counts it (steer_overridden, pisteer status) and
# applies the policy again, at most once per interval; while the interval
# holds the move back, `off` leaves the admin's choice in place and says
# so.  A running irqbalance is named with the ban it needs.  And a read
# never steers: listing the vectors (pisteer status, debugfs) only reads.
# Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

dbg=/sys/kernel/debug/pisteer

ktap_plan 9
bdf=$(vfio_82574l_bdfs | head -1)
rmmod pisteer 2>/dev/null
holder_start A "$bdf"
ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"
json() { "$cli" status --vm "$A_pid" --json; }
irq=$(json | jq -r 'sort_by(.index) | .[0].host_irq')
ktap_diag "host IRQ $irq (vector 0 of $bdf)"
aff() { cat "/proc/irq/$irq/smp_affinity_list"; }
ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# wait_aff WANT MS: until the affinity is WANT, for MS ms at most; the ms
# it took in $took.  Builtins only: a fork costs ~10 ms under TCG.
wait_aff() {
	local t0=${EPOCHREALTIME/./} a
	while :; do
		read -r a < "/proc/irq/$irq/smp_affinity_list"
		took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
		[ "$a" = "$1" ] && return 0
		[ "$took" -le "$2" ] || { echo "affinity $a, not $1, after $2 ms"; return 1; }
	done
}
overridden() { json | jq -r --argjson i "$irq" '.[] | select(.host_irq == $i) | .steer_overridden'; }

steer_static() {
	"$cli" steer --irq "$irq" static 1 && wait_aff 1 1000
}
ktap_check "steer --irq $irq static 1: on CPU 1" steer_static

# --- an admin moves it: put back within 100 ms, counted -------------------
admin_move() {
	echo 0 > "/proc/irq/$irq/smp_affinity_list" || return 1
	wait_aff 1 100 || return 1
	echo "$took" > "$fifos/took"
	[ "$(overridden)" = 1 ] || { echo "steer_overridden $(overridden), not 1"; return 1; }
}
ktap_check "an admin writes CPU 0: back on CPU 1 within 100 ms, steer_overridden 1" admin_move
ktap_diag "put back after $(cat "$fifos/took" 2>/dev/null) ms"

status_says() {
	"$cli" status --vm "$A_pid" > "$fifos/status" || return 1
	grep -q "^IRQ $irq: moved off CPU 1 by someone else 1 times" "$fifos/status" ||
		{ cat "$fifos/status"; return 1; }
}
ktap_check "pisteer status names the override" status_says

# --- a process named irqbalance: named, with --banirq ------------------------
cp /bin/sleep "$fifos/irqbalance"
"$fifos/irqbalance" 60 &
ib=$!
irqbalance_named() {
	"$cli" status --vm "$A_pid" > "$fifos/status" || return 1
	grep -q "irqbalance (pid $ib) is running and may move the steered IRQs: ban them with IRQBALANCE_ARGS=\"--banirq=$irq[ \"]" \
		"$fifos/status" || { cat "$fifos/status"; return 1; }
}
ktap_check "with irqbalance running, status names it and the --banirq it needs" irqbalance_named
kill "$ib"
wait "$ib" 2>/dev/null

# --- reads never steer -----------------------------------------------------------
scans() { awk -v k="$1" '$1 == k { print $2 }' "$dbg/scans"; }
reads_only() {
	local r0 d0 i
	r0=$(scans reconciles) d0=$(scans reads)
	[ -n "$r0" ] || { echo "no reconciles count in $dbg/scans"; return 1; }
	for i in $(seq 10); do
		json >/dev/null || return 1
		cat "$dbg/vectors" >/dev/null || return 1
	done
	echo "reconciles $r0 -> $(scans reconciles), reads $d0 -> $(scans reads)"
	[ "$(scans reconciles)" = "$r0" ] && [ "$(scans reads)" -ge $((d0 + 20)) ]
}
ktap_check "20 reads (status, debugfs vectors): 20 read-only scans, no reconcile" reads_only

# --- off while the interval holds the re-apply back: the admin's choice stays --
keep_admin() {
	local t0
	# a new steering, so that its first move is not held back
	"$cli" steer --irq "$irq" none && wait_aff 0-1 1000 || return 1
	"$cli" steer --irq "$irq" static 0 --interval-us 8000000 || return 1
	wait_aff 0 1000 || return 1
	echo 1 > "/proc/irq/$irq/smp_affinity_list" || return 1
	t0=$(ms)
	# counted from this steering's first move: 1
	while [ "$(overridden)" != 1 ]; do
		[ $(( $(ms) - t0 )) -le 1000 ] || { echo "steer_overridden $(overridden), not 1"; return 1; }
	done
	[ "$(aff)" = 1 ] || { echo "moved back at once despite the 8 s interval: $(aff)"; return 1; }
	dmesg -C
	"$cli" steer --irq "$irq" off || return 1
	sleep 0.2
	[ "$(aff)" = 1 ] || { echo "off overwrote the admin's CPU 1: $(aff)"; return 1; }
	dmesg | grep -q "irq $irq: not restored to 0-1: its affinity was set after pisteer's move, and stays" ||
		{ dmesg | tail -5; return 1; }
}
ktap_check "an admin's change the interval has not undone yet: counted, and off leaves it, saying so" \
	keep_admin

# --- off restores what pisteer did ------------------------------------------------
restore_own() {
	"$cli" steer --irq "$irq" none && wait_aff 1 1000 || return 1
	echo 0-1 > "/proc/irq/$irq/smp_affinity_list" || return 1
	"$cli" steer --irq "$irq" static 1 && wait_aff 1 1000 || return 1
	"$cli" steer --irq "$irq" off && wait_aff 0-1 1000
}
ktap_check "off after pisteer's own move: the affinity from before back (0-1)" restore_own

holder_stop A
ktap_check "rmmod pisteer" rmmod pisteer
ktap_finish
