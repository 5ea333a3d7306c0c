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
# the module unloads cleanly.
#
# The libvirt half: Debian's libvirtd (its state on tmpfs) runs the same
# guest as a transient domain with the 82574L as a managed='no' hostdev
# and <cputune>; pisteer status lists its vectors, the project's libvirt
# hook steers it on started, pisteer pin --domain pins it through libvirt
# (virsh vcpupin shows it, the IRQs follow) and --undo gives libvirt its
# pinning back; destroy releases it, and with the module gone the hook's
# failure does not keep a domain from starting.  Two VM boots (nested KVM
# under TCG: minutes).
#
# libvirtd's state is mounted over /etc/libvirt and the like: the test runs
# in a mount namespace of its own.
if [ -z "${REALSTACK_NS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	REALSTACK_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/../lib/rigtest.sh"
# shellcheck source=../lib/realvm.sh
. "$top/selftests/lib/realvm.sh"

plan=25
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

js() { "$cli" status --json --vm "${js_pid:-$G_pid}"; }
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
	jq -e --arg d "$bdf" --argjson p "${js_pid:-$G_pid}" 'all(.[]; .device == $d and .vm_pid == $p
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
# ---- the libvirt half ----
t_lv=$SECONDS
lv=$realvm_tmp/lv
mkdir -p "$lv"
lv_n=9			# tests before rmmod
# lv_rest ktap_skip|ktap_fail WHY: this half's remaining tests up to
# rmmod skip (no libvirt here) or fail (it broke), WHY as their reason.
lv_stop_at=$((__ktap_n + lv_n))
lv_rest() {
	while [ "$__ktap_n" -lt "$lv_stop_at" ]; do "$1" "$2"; done
}
# The project's hook as libvirt runs it (libvirt hands hooks a bare
# environment): the CLI, its configuration and its log the test's.
printf 'DEFAULT_POLICY=none\nHOOK_POLICY=follow\n' > "$lv/pisteer.conf"
cat > "$lv/hook" <<EOH
#!/bin/sh
PISTEER=$cli PISTEER_HOOK_CONF=$lv/pisteer.conf PISTEER_HOOK_LOG=$lv/hook.log
export PISTEER PISTEER_HOOK_CONF PISTEER_HOOK_LOG
exec $top/tools/hooks/qemu-pisteer "\$@"
EOH
chmod 755 "$lv/hook"
: > "$lv/hook.log"
lv_up=0
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	lv_rest ktap_skip "needs libvirtd and virsh (scripts/deps.sh: libvirt-daemon-system, libvirt-clients)"
elif realvm_libvirtd_start --hook "$lv/hook" > "$lv/start.out" 2>&1 &&
	[ "$(findmnt -n -o FSTYPE /etc/libvirt)" = tmpfs ] &&
	[ "$(findmnt -n -o FSTYPE /var/lib/libvirt)" = tmpfs ]; then
	sed 's/^/# /' "$lv/start.out"
	ktap_ok "libvirtd runs in the rig: its config, state, log and cache dirs on tmpfs, cgroup v2 (cpu, cpuset), the hook in hooks/qemu.d"
	lv_up=1
else
	sed 's/^/# /' "$lv/start.out"
	ktap_fail "libvirtd runs in the rig: its config, state, log and cache dirs on tmpfs, cgroup v2 (cpu, cpuset), the hook in hooks/qemu.d"
	lv_rest ktap_fail "not run: no libvirtd"
fi

# The domain pins its one vCPU to CPU 1 and the emulator to 0-1: pin
# moves them, --undo must give exactly these back.
if [ $lv_up = 1 ]; then
	if realvm_virt_start D --bdf "$bdf" --vcpus 1 --vcpupin 1 --emulatorpin 0-1 \
		> "$lv/d.out" 2>&1; then
		lv_up=2
	else
		sed 's/^/# /' "$lv/d.out"
		ktap_fail "virsh create: the domain boots with $bdf as hostdev"
		lv_rest ktap_fail "not run: no domain"
	fi
fi
if [ $lv_up = 2 ]; then
	# virsh_pin: "VCPU0-CPUS EMULATOR-CPUS" as libvirt has them live.
	virsh_pin() {
		echo "$(virsh vcpupin D | awk '$1 == "0" { print $2 }') $(virsh emulatorpin D | awk '$1 == "*:" { print $2 }')"
	}
	lv_agent() {
		local r i
		for i in $(seq 30); do
			r=$(virsh qemu-agent-command D --timeout 10 '{"execute":"guest-ping"}' 2>&1) &&
				{ echo "guest-ping through libvirt's agent channel: $r"; return 0; }
			sleep 1
		done
		echo "$r"
		return 1
	}
	ktap_check "virsh create: the domain boots with $bdf as hostdev; its agent answers libvirt" lv_agent
	ktap_diag "domain ready $D_boot_s s after virsh create (QEMU pid $D_pid)"

	vtid=
	for t in /proc/"$D_pid"/task/*; do
		[ "$(cat "$t/comm")" = "CPU 0/KVM" ] && vtid=${t##*/}
	done
	lv_qemu() {
		local aff cg
		tr '\0' ' ' < "/proc/$D_pid/cmdline" | grep -o -- '-name [^ ]*'
		tr '\0' '\n' < "/proc/$D_pid/cmdline" | grep -qx 'guest=D,debug-threads=on' || return 1
		[ -n "$vtid" ] || { echo "no thread 'CPU 0/KVM'"; return 1; }
		aff=$(taskset -pc "$vtid" | sed 's/.*: //')
		cg=$(cut -d: -f3 < "/proc/$D_pid/task/$vtid/cgroup")
		echo "vCPU 0: thread $vtid on CPUs $aff, cgroup $cg; libvirt: $(virsh_pin)"
		[ "$aff" = 1 ] && [ "$(virsh_pin)" = "1 0-1" ] || return 1
		case "$cg" in
		/machine/*D*/vcpu0) ;;
		*) echo "not in libvirt's vcpu0 cgroup"; return 1 ;;
		esac
	}
	ktap_check "libvirt's QEMU: -name guest=D,debug-threads=on, 'CPU 0/KVM' on the vcpupin CPU in libvirt's vcpu0 cgroup" lv_qemu

	lv_hook_started() {
		local i st
		for i in $(seq 100); do
			grep -q "D: pisteer steer --vm $D_pid follow" "$lv/hook.log" && break
			sleep 0.3
		done
		cat "$lv/hook.log"
		grep -q "D: pisteer steer --vm $D_pid follow" "$lv/hook.log" || return 1
		st=$(cat /run/pisteer/hook/D 2>/dev/null)
		[ "${st%% *}" = "$D_pid" ] || { echo "hook state: '$st'"; return 1; }
	}
	ktap_check "the hook in libvirt's hooks dir ran on started: pisteer steer --vm PID follow, logged, the process remembered" \
		lv_hook_started

	js_pid=$D_pid
	ktap_check "pisteer status --json lists exactly the domain's vfio-msix vectors of $bdf" check_exact

	# lv_irqs_on CPU: every host vector of the domain takes effect on
	# CPU within 10 s (the module's follow policy).
	lv_irqs_on() {
		local i irq bad
		for i in $(seq 50); do
			bad=0
			for irq in $(host_msix | awk '{ print $2 }'); do
				[ "$(cat "/proc/irq/$irq/effective_affinity_list")" = "$1" ] || bad=1
			done
			[ $bad = 0 ] && break
			sleep 0.2
		done
		for irq in $(host_msix | awk '{ print $2 }'); do
			echo "IRQ $irq: affinity $(cat "/proc/irq/$irq/smp_affinity_list"), effective $(cat "/proc/irq/$irq/effective_affinity_list")"
		done
		[ $bad = 0 ] && [ -n "$(host_msix)" ]
	}
	lv_follow() {
		js | jq -e 'length > 0 and all(.[]; .policy == "follow")' >/dev/null ||
			{ js | jq -c '[.[] | .policy]'; return 1; }
		lv_irqs_on 1
	}
	ktap_check "steer follow (the hook's): the domain's host IRQs take effect on its vCPU's CPU 1" lv_follow

	lv_pin() {
		local out
		out=$("$cli" pin --domain D --housekeeping 1 --cpus 0 --json) || { echo "$out"; return 1; }
		jq -c '{domain, vcpus: [.vcpus[] | {vcpu, cpu, prev}], emulator: [.emulator[] | .cpus] | unique}' <<<"$out"
		echo "libvirt now: $(virsh_pin); thread $vtid on $(taskset -pc "$vtid" | sed 's/.*: //')"
		[ "$(jq -r '.domain' <<<"$out")" = D ] && [ "$(jq '.vcpus[0].cpu' <<<"$out")" = 0 ] || return 1
		[ "$(virsh_pin)" = "0 1" ] || return 1
		[ "$(taskset -pc "$vtid" | sed 's/.*: //')" = 0 ] || return 1
		virsh dumpxml D | grep -q "<vcpupin vcpu='0' cpuset='0'/>" ||
			{ virsh dumpxml D | grep -A3 '<cputune>'; return 1; }
		jq -e '.domain == "D"' "/run/pisteer/pin-$D_pid.json" >/dev/null || return 1
		lv_irqs_on 0
	}
	ktap_check "pin --domain D --housekeeping 1 --cpus 0: through libvirt (virsh vcpupin 0, emulatorpin 1, live XML), the thread and the IRQs follow" \
		lv_pin

	lv_undo() {
		"$cli" pin --undo --domain D || return 1
		echo "libvirt now: $(virsh_pin); thread $vtid on $(taskset -pc "$vtid" | sed 's/.*: //')"
		[ "$(virsh_pin)" = "1 0-1" ] || return 1
		[ "$(taskset -pc "$vtid" | sed 's/.*: //')" = 1 ] || return 1
		virsh dumpxml D | grep -q "<vcpupin vcpu='0' cpuset='1'/>" || return 1
		[ ! -e "/run/pisteer/pin-$D_pid.json" ] || { echo "pin state left"; return 1; }
	}
	ktap_check "pin --undo --domain D: libvirt's vcpupin 1 and emulatorpin 0-1 are back, in its XML too; no state left" lv_undo

	lv_destroy() {
		local n
		realvm_virt_destroy D || return 1
		for n in $(seq 50); do [ ! -e /run/pisteer/hook/D ] && break; sleep 0.2; done
		[ ! -e /run/pisteer/hook/D ] || { echo "the hook's state is left: release end did not run"; return 1; }
		n=$("$cli" status --json | jq length) || return 1
		[ "$n" -eq 0 ] || { "$cli" status; return 1; }
		[ "$(grep -c "vfio-msix.*($bdf)" /proc/interrupts)" -eq 0 ]
	}
	ktap_check "virsh destroy: QEMU gone, the hook's release forgot it, pisteer status lists no vector" lv_destroy
fi
ktap_diag "libvirt half (to destroy): $((SECONDS - t_lv)) s${D_boot_s:+, domain boot $D_boot_s s}"
ktap_check "rmmod pisteer is clean" check_unload

# The module is gone: the hook's pisteer fails, the domain starts anyway.
lv_failing_hook() {
	local pid i st
	sed -e "s|<name>D</name>|<name>E</name>|" -e "s|$D_console|$lv/E.console|" "$D_xml" > "$lv/E.xml"
	virsh -q create "$lv/E.xml" || { realvm_libvirtd_log; return 1; }
	pid=$(cat /run/libvirt/qemu/E.pid)
	st=$(virsh domstate E)
	for i in $(seq 100); do
		grep -q "E: pisteer steer --vm $pid follow failed (exit 3)" "$lv/hook.log" && break
		sleep 0.3
	done
	grep "E:" "$lv/hook.log"
	echo "domain E (QEMU $pid): $st"
	virsh -q destroy E || return 1
	for i in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.2; done
	[ "$st" = running ] && grep -q "E: pisteer steer --vm $pid follow failed (exit 3)" "$lv/hook.log"
}
if [ $lv_up = 2 ]; then
	ktap_check "no module: the hook's pisteer fails (exit 3, logged), the domain starts all the same" lv_failing_hook
elif [ $lv_up = 0 ] && ! command -v libvirtd >/dev/null; then
	ktap_skip "needs libvirtd and virsh"
else
	ktap_fail "not run: no libvirt domain"
fi
realvm_libvirtd_stop
check_no_bug() {
	local bad=0
	realvm_bugs G && bad=1
	[ -n "${D_console:-}" ] && realvm_bugs D && bad=1
	return $bad
}
ktap_check "the guests' consoles show no kernel bug" check_no_bug
ktap_diag "realstack took $((SECONDS - t_start)) s (guest boot $G_boot_s s; libvirt half $((SECONDS - t_lv)) s)"
ktap_finish
