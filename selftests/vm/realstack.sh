#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# realstack: the operator's real stack in the rig.  Debian's QEMU starts a
# Linux guest (the rig's own kernel) with an 82574L passed through; in the
# guest e1000e drives it with MSI-X and pisteer_guest.ko attaches it.  On
# the rig host pisteer.ko must list exactly the vectors QEMU enabled, with
# the routes the guest programmed, and the host's target vCPU of each
# vector must be the guest's CPU for the queue on the same MSI-X index,
# before and after the guest moves one.  When QEMU quits the records go and
# the module unloads cleanly.  One VM boot (nested KVM under TCG: minutes).
. "$(dirname "$0")/../lib/rigtest.sh"
# shellcheck source=../lib/realvm.sh
. "$top/selftests/lib/realvm.sh"

plan=15
t_start=$SECONDS
ktap_plan $plan
skip_rest() {
	while [ "$__ktap_n" -lt $plan ]; do ktap_skip "$1"; done
	ktap_finish
}
# fail_rest DESC: the VM is not there; everything after this fails.
fail_rest() {
	ktap_fail "$1"
	while [ "$__ktap_n" -lt $plan ]; do ktap_fail "not run: no VM"; done
	ktap_finish
}

bdf=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] && { bdf=${d##*/}; break; }
done
[ -n "$bdf" ] && [ -e /dev/kvm ] || skip_rest "needs an 82574L and /dev/kvm (the rig)"
command -v socat >/dev/null || skip_rest "needs socat (scripts/deps.sh)"
# Under single-threaded TCG the nested guest stops early in its boot (idle
# in HLT, no timer interrupt arriving; seen on 6.12): run it with
# selftests/rig/vm-run --multi.
[ "${PISTEER_RIG_TCG:-single}" = multi ] ||
	skip_rest "the nested guest needs multi-threaded TCG (vm-run --multi)"

rmmod pisteer 2>/dev/null
ktap_check "insmod pisteer.ko" insmod "$mods/kmod/pisteer.ko"

# Not through ktap_check: these set variables of this shell.
if realvm_build_initramfs > "$realvm_tmp/build.out" 2>&1; then
	ktap_ok "the guest's initramfs: busybox, e1000e, pisteer_guest.ko, pisteer, qemu-ga"
else
	sed 's/^/# /' "$realvm_tmp/build.out"
	fail_rest "the guest's initramfs: busybox, e1000e, pisteer_guest.ko, pisteer, qemu-ga"
fi

if ! realvm_start G --bdf "$bdf" > "$realvm_tmp/start.out" 2>&1; then
	sed 's/^/# /' "$realvm_tmp/start.out"
	fail_rest "QEMU boots the guest with $bdf passed through; its agent answers"
fi
ktap_ok "QEMU boots the guest with $bdf passed through; its agent answers"
ktap_diag "guest ready $G_boot_s s after QEMU started (QEMU pid $G_pid)"

# g CMD...: a command in the guest; its output, its status.
g() { realvm_exec G "$@"; }

check_e1000e() {
	local out
	out=$(g 'd=$(readlink -f /sys/class/net/eth0/device); echo ${d##*/} \
		$(cat $d/vendor):$(cat $d/device) $(basename $(readlink $d/driver)) \
		$(cat /sys/class/net/eth0/operstate)') || { echo "$out"; return 1; }
	echo "guest: $out"
	set -- $out
	[ "$2 $3" = "0x8086:0x10d3 e1000e" ] || return 1
	[ "$4" = up ] || [ "$4" = unknown ] || { echo "eth0 is $4"; return 1; }
}
ktap_check "in the guest e1000e drives the passed-through 82574L as eth0, up" check_e1000e
gbdf=$(g 'd=$(readlink -f /sys/class/net/eth0/device); echo ${d##*/}')

# The guest's MSI-X vectors of eth0, one line each: IRQ, MSI-X index
# (hwirq's low 11 bits: the entry, whichever MSI domain numbers it), name,
# interrupts (summed over CPUs).
guest_vectors() {
	g "for i in \$(ls /sys/bus/pci/devices/$gbdf/msi_irqs); do
		[ \"\$(cat /sys/bus/pci/devices/$gbdf/msi_irqs/\$i)\" = msix ] || continue
		h=\$(cat /sys/kernel/irq/\$i/hwirq)
		awk -v i=\$i: -v h=\$h '\$1 == i { n = 0
			for (c = 2; c <= NF; c++) if (\$c ~ /^[0-9]+\$/) n += \$c; else break
			print substr(i, 1, length(i) - 1), and(h, 2047), \$NF, n }' /proc/interrupts
	done"
}
check_guest_msix() {
	local before after out
	before=$(guest_vectors) || { echo "$before"; return 1; }
	printf 'guest: %s\n' "$before"
	[ "$(awk '{ print $3 }' <<<"$before" | sort | tr '\n' ' ')" = "eth0 eth0-rx-0 eth0-tx-0 " ] ||
		{ echo "eth0's MSI-X vectors are not eth0, eth0-rx-0, eth0-tx-0"; return 1; }
	out=$(g 'ping -c 5 -i 0.3 -W 5 10.0.2.2') || { echo "$out"; return 1; }
	tail -n 2 <<<"$out"
	after=$(guest_vectors) || return 1
	# rx and tx took interrupts during the pings.
	join -j 1 <(sort <<<"$before") <(sort <<<"$after") |
		awk '$3 ~ /-(rx|tx)-/ { if ($7 <= $4) { print $3 " did not interrupt"; bad = 1 } }
			END { exit bad }'
}
ktap_check "guest /proc/interrupts: eth0, eth0-rx-0, eth0-tx-0 on MSI-X; ping 10.0.2.2 raises rx and tx" \
	check_guest_msix

js() { "$cli" status --json --vm "$G_pid"; }
# The host's vfio-msix IRQs of the device, "index irq" a line.
host_msix() {
	awk -v d="($bdf)" 'index($NF, "vfio-msix[") == 1 && index($NF, d) {
		i = $NF; sub(/^vfio-msix\[/, "", i); sub(/\].*/, "", i)
		irq = $1; sub(":", "", irq); print i, irq }' /proc/interrupts | sort -n
}
check_exact() {
	local want got out
	want=$(host_msix)
	out=$(js) || return 1
	got=$(jq -r 'sort_by(.index) | .[] | "\(.index) \(.host_irq)"' <<<"$out")
	echo "vfio-msix in /proc/interrupts (index irq): $(tr '\n' ',' <<<"$want")"
	echo "pisteer status: $(tr '\n' ',' <<<"$got")"
	[ -n "$want" ] && [ "$want" = "$got" ] || return 1
	jq -e --arg d "$bdf" --argjson p "$G_pid" 'all(.[]; .device == $d and .vm_pid == $p
		and .irq_type == "msix")' <<<"$out" >/dev/null || { echo "$out"; return 1; }
	! grep -q "vfio-intx($bdf)" /proc/interrupts || { echo "INTx still enabled"; return 1; }
}
ktap_check "pisteer status --json lists exactly QEMU's vfio-msix vectors of $bdf (and no INTx is left)" \
	check_exact

# Each vector's target is a vCPU of this QEMU: its thread is "CPU n/KVM".
check_routes() {
	local out tid vcpu comm bad=0
	out=$(js) || return 1
	jq -r '.[] | "\(.index) vcpu \(.vcpu) tid \(.vcpu_tid) dest \(.dest_id) vector \(.guest_vector) mode \(.mode)"' \
		<<<"$out"
	jq -e 'length > 0 and all(.[]; .vcpu != null and .vcpu >= 0 and .vcpu < 2
		and .dest_logical == false and .guest_vector >= 32)' <<<"$out" >/dev/null || return 1
	while read -r vcpu tid; do
		comm=$(cat "/proc/$G_pid/task/$tid/comm" 2>/dev/null)
		[ "$comm" = "CPU $vcpu/KVM" ] || { echo "vCPU $vcpu: thread $tid is '$comm'"; bad=1; }
	done < <(jq -r '.[] | "\(.vcpu) \(.vcpu_tid)"' <<<"$out")
	return $bad
}
ktap_check "each vector is routed to a vCPU of the guest; its thread is QEMU's 'CPU n/KVM'" check_routes

check_attach() {
	g 'pisteer guest attach eth0' || return 1
	g 'pisteer guest status' || return 1
	[ "$(g 'pisteer guest status --json' | jq --arg d "$gbdf" \
		'[.[] | select(.device == $d) | .queues[]] | length')" -eq 3 ]
}
ktap_check "in the guest: pisteer guest attach eth0; status shows its 3 queues" check_attach

# agree: for every host vector, the guest queue on the same MSI-X index
# has that vCPU as effective CPU and as MSI destination, with the vector
# the host sees.  Prints a line per vector.
agree() {
	local host guest gv bad=0 line irq idx name
	host=$(js) || return 1
	gv=$(guest_vectors) || return 1
	guest=$(g 'pisteer guest status --json') || return 1
	while read -r irq idx name _; do
		line=$(jq -r --argjson i "$idx" --argjson q "$irq" --argjson g "$guest" '
			(.[] | select(.index == $i)) as $h
			| ($g[] | .queues[] | select(.irq == $q)) as $c
			| ($c.msi_dest | capture("^physical 0x(?<d>[0-9a-f]+) vector 0x(?<v>[0-9a-f]+)$")) as $m
			| [$h.vcpu, $h.dest_id, $h.guest_vector, $c.effective_cpu, $m.d, $m.v] | @tsv' \
			<<<"$host" 2>&1)
		set -- $line
		if [ $# -ne 6 ]; then
			echo "index $idx ($name): no host vector, guest queue or physical MSI: $line"
			bad=1
			continue
		fi
		echo "index $idx $name: host vCPU $1 dest $2 vector $3;" \
			"guest effective CPU $4, MSI dest $((16#$5)) vector $((16#$6))"
		[ "$1" = "$4" ] && [ "$1" -eq $((16#$5)) ] && [ "$2" -eq $((16#$5)) ] &&
			[ "$3" -eq $((16#$6)) ] || bad=1
	done <<<"$gv"
	[ "$(wc -l <<<"$gv")" -eq "$(jq length <<<"$host")" ] ||
		{ echo "$(wc -l <<<"$gv") guest vectors, $(jq length <<<"$host") on the host"; bad=1; }
	return $bad
}
ktap_check "host target vCPU and guest vector = guest queue's effective CPU and MSI destination, per MSI-X index" agree

# The guest moves its rx queue to the other vCPU: QEMU rewrites the route,
# the host's record follows.
rx_irq=$(guest_vectors | awk '$3 == "eth0-rx-0" { print $1 }')
rx_idx=$(guest_vectors | awk '$3 == "eth0-rx-0" { print $2 }')
move_rx() {
	local cur to q i v
	cur=$(js | jq --argjson i "$rx_idx" '.[] | select(.index == $i) | .vcpu')
	to=$((1 - cur))
	q=$(g 'pisteer guest status --json' | jq --argjson q "$rx_irq" '.[].queues[] | select(.irq == $q) | .queue')
	echo "rx (IRQ $rx_irq, queue $q, index $rx_idx): vCPU $cur -> $to"
	g "pisteer guest set eth0 $q $to" || return 1
	for i in $(seq 60); do
		# Traffic completes the move in a guest without interrupt remapping.
		g 'ping -c 2 -i 0.2 -W 2 10.0.2.2 >/dev/null'
		v=$(js | jq --argjson i "$rx_idx" '.[] | select(.index == $i) | .vcpu')
		[ "$v" = "$to" ] && { echo "host sees vCPU $to after $i round(s)"; return 0; }
	done
	echo "host still has vCPU $v for index $rx_idx"
	return 1
}
ktap_check "pisteer guest set moves rx to the other vCPU: the host's target follows" move_rx
ktap_check "after the move host and guest agree again on every vector" agree

t_stop=$SECONDS
# In this shell: QEMU is its child.
if realvm_stop G > "$realvm_tmp/stop.out" 2>&1; then
	ktap_ok "QMP quit: QEMU exits with status 0"
else
	sed 's/^/# /' "$realvm_tmp/stop.out"
	ktap_fail "QMP quit: QEMU exits with status 0"
fi
ktap_diag "QEMU gone $((SECONDS - t_stop)) s after quit"

check_gone() {
	local n
	n=$("$cli" status --json | jq length) || return 1
	[ "$n" -eq 0 ] || { "$cli" status; return 1; }
	[ "$(grep -c "vfio-msix.*($bdf)" /proc/interrupts)" -eq 0 ] || return 1
}
ktap_check "the records go: pisteer status lists no vector" check_gone
check_unload() {
	rmmod pisteer || return 1
	! grep -qw pisteer /proc/modules && ! test -e /dev/pisteer && ! test -e /sys/kernel/debug/pisteer
}
ktap_check "rmmod pisteer is clean" check_unload
check_no_bug() {
	! realvm_bugs G
}
ktap_check "the guest's console shows no kernel bug" check_no_bug
ktap_diag "realstack took $((SECONDS - t_start)) s (guest boot $G_boot_s s)"
ktap_finish
