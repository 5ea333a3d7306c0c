# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154
#
# The soak stage guest_fuzz, sourced by selftests/soak/rig.sh (its helpers:
# scaled, stage_kmsg, stage_json, rebind, $bdfs, $mods, $bin, $cli, $out).
#
# The guest companion's sysfs files fuzzed, the rig's kernel playing the
# guest: the first 82574L on e1000e, rounds of guest_fuzz (4 threads of
# random writes and reads on every file of pisteer_guest.ko while e1000e
# is unbound and bound, the device's IRQs moved through /proc/irq and
# `pisteer guest`, the device attached and detached and CPU 1 taken
# offline and online), the module loaded afresh for each round, until
# 100 000 x SCALE writes or the time cap (600 s x SCALE).  After each
# round: no splat, the CLI's status shows the device's queues, the module
# refcount 0 and rmmod clean (a leak).  The NIC goes back to vfio-pci.
guest_fuzz() {
	local log=$out/guest_fuzz.log t0=$SECONDS cap target total=0 rounds=0 ok=1 c leaks=0
	local splats a gko nvme left secs nd js want unbinds=0 checks=0 u
	cap=$(scaled 600 120)
	target=$(scaled 100000)
	a=${bdfs[0]}
	gko=$mods/guest/pisteer_guest.ko
	exec 3>>"$log"
	modprobe e1000e && modprobe nvme || { echo "modprobe e1000e/nvme failed" >&3; ok=0; }
	for _ in $(seq 50); do [ -e /sys/class/nvme/nvme0/device ] && break; sleep 0.1; done
	nvme=$(basename "$(readlink -f /sys/class/nvme/nvme0/device 2>/dev/null)" 2>/dev/null)
	rebind "$a" e1000e || { echo "$a: cannot bind e1000e" >&3; ok=0; }
	while [ "$ok" = 1 ] && [ "$total" -lt "$target" ] && [ $((SECONDS - t0)) -lt "$cap" ]; do
		rounds=$((rounds + 1))
		left=$((cap - (SECONDS - t0)))
		secs=$((left < 120 ? left : 120))
		nd=$(ls "/sys/bus/pci/devices/$a/net" 2>/dev/null)
		[ -n "$nd" ] && ip link set "$nd" up
		insmod "$gko" || { echo "round $rounds: insmod failed" >&3; ok=0; break; }
		echo "=== round $rounds: up to $((target - total)) writes in $secs s" >&3
		"$bin/guest_fuzz" -d "$a" -n $((target - total)) -t "$secs" -j 4 -H -c "$cli" \
			-a "${nvme:-0000:00:00.0}" -a "${bdfs[1]}" -a 0000:00:00.0 \
			> "$out/gfuzz.out" 2>&1 || { echo "round $rounds: guest_fuzz failed" >&3; ok=0; }
		cat "$out/gfuzz.out" >&3
		c=$(sed -n 's/^\(not \)\{0,1\}ok 1 \([0-9]*\) fuzzed writes.*/\2/p' "$out/gfuzz.out")
		total=$((total + ${c:-0}))
		u=$(sed -n 's/^# \([0-9]*\) unbinds,.*/\1/p' "$out/gfuzz.out")
		unbinds=$((unbinds + ${u:-0}))
		u=$(sed -n 's/^\(not \)\{0,1\}ok 4 \([0-9]*\) quiesced checks.*/\2/p' "$out/gfuzz.out")
		checks=$((checks + ${u:-0}))
		# The companion works: its status lists the device's queues.
		js=$("$cli" guest status --json 2>&3)
		want=$(cat /sys/kernel/pisteer/devices/"$a"/queues/*/irq 2>/dev/null | sort -n | tr '\n' ' ')
		[ -n "$want" ] && [ "$(jq -r --arg d "$a" '.[] | select(.device == $d) | .queues |
			map(.irq) | sort | map(tostring) | join(" ")' <<<"$js" 2>/dev/null) " = "$want" ] ||
			{ echo "round $rounds: status --json does not show $a's queues ($want)" >&3; ok=0; }
		[ "$(cat /sys/module/pisteer_guest/refcnt)" = 0 ] ||
			{ echo "round $rounds: module refcount $(cat /sys/module/pisteer_guest/refcnt)" >&3
			  leaks=$((leaks + 1)); }
		rmmod pisteer_guest && ! test -e /sys/kernel/pisteer ||
			{ echo "round $rounds: rmmod failed" >&3; leaks=$((leaks + 1)); ok=0; break; }
	done
	rm -f "$out/gfuzz.out"
	echo 1 > /sys/devices/system/cpu/cpu1/online 2>/dev/null
	rebind "$a" vfio-pci || { echo "$a: cannot go back to vfio-pci" >&3; ok=0; }
	echo "$total writes in $rounds rounds, $unbinds unbinds, $checks quiesced checks" >&3
	exec 3>&-
	splats=$(stage_kmsg "$log")
	stage_json guest_fuzz "$ok" "$total" "$target" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson r "$rounds" --argjson u "$unbinds" --argjson c "$checks" \
			'{rounds: $r, threads: 4, unbinds: $u, checks: $c}')"
}
