#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the long stages of issue 15 in the rig, one boot per kernel
# (KERNEL=6.1|6.12|7.x picks one; default all), every count times
# SOAK_SCALE (default 1).  Writes build/soak/summary.json (jq) and keeps
# each kernel's stage logs and console log in build/soak/KVER/
# (SOAK_OUT=DIR: there instead of build/soak).  SOAK_STAGES="fuzzing
# cpu_hotplug" runs only those (the others then show as not run).
# Exit status 0 only when every stage that ran passed on every kernel.
# (Documentation/testing.md, "make soak".)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=../scripts/kernels.sh
. scripts/kernels.sh

scale=${SOAK_SCALE:-1}
if ! awk -v s="$scale" 'BEGIN { exit !(s ~ /^[0-9]*\.?[0-9]+$/ && s > 0 && s <= 100) }'; then
	echo "soak: SOAK_SCALE must be a number above 0, at most 100 (got '$scale')" >&2
	exit 2
fi
kernels=${KERNEL:-"6.1 6.12 $K7_SERIES"}
for k in $kernels; do
	pisteer_kver "$k" >/dev/null ||
		{ echo "soak: KERNEL must be 6.1, 6.12 or $K7_SERIES (got '$k')" >&2; exit 2; }
done

all_stages="vm_lifetimes module_reloads fuzzing cpu_hotplug device_reattach scale guest_fuzz"
stages_run=${SOAK_STAGES:-$all_stages}
for s in $stages_run; do
	case " $all_stages " in
	*" $s "*) ;;
	*) echo "soak: SOAK_STAGES: no stage '$s' (stages: $all_stages)" >&2; exit 2 ;;
	esac
done

# Every stage has a time cap of BASE x SCALE (at least 120 s; rig.sh):
# 1200 + 900 + 900 + 300 + 300 + 900 + 600 s at scale 1, plus the boot and
# the clean-ups.
timeout=$(awk -v s="$scale" 'BEGIN {
	t = 0; n = split("1200 900 900 300 300 900 600", c, " ")
	for (i = 1; i <= n; i++) { x = c[i] * s; t += x < 120 ? 120 : x }
	printf "%d", t + 300 }')

# Stages not built yet: in the summary as not run, never as a pass.
not_run='{"verdict": "not-run", "count": null}'
out=${SOAK_OUT:-build/soak}
mkdir -p "$out" || exit 1
results=()
rc_all=0

# One kernel: its rig run and $out/KVER/kernel.json.
soak_kernel() {
	local k=$1 kver d t0 rc secs stages s
	kver=$(pisteer_kver "$k")
	d=$out/$kver
	rm -rf "$d"
	mkdir -p "$d"
	echo "soak: kernel $kver, scale $scale, rig timeout ${timeout}s; logs in $d"
	t0=$SECONDS
	selftests/rig/vm-run --kernel "$k" --nics 3 --nvme 256 --timeout "$timeout" \
		--log "$d/console.log" --out "$d" -- selftests/soak/rig.sh "$scale" $stages_run |
		tee "$d/rig.log"
	rc=${PIPESTATUS[0]}
	secs=$((SECONDS - t0))
	# A stage that wrote no result (the rig died or timed out in it, or
	# before it) failed; the one running then is named.
	stages='{}'
	for s in $all_stages; do
		if [ -f "$d/$s.json" ]; then
			stages=$(jq --arg s "$s" --slurpfile r "$d/$s.json" '.[$s] = $r[0]' <<< "$stages")
		elif [[ " $stages_run " != *" $s "* ]]; then
			stages=$(jq --arg s "$s" --argjson nr "$not_run" '.[$s] = $nr' <<< "$stages")
		else
			stages=$(jq --arg s "$s" --argjson rc "$rc" \
				--arg why "$( [ "$(cat "$d/current" 2>/dev/null)" = "$s" ] &&
					echo "the rig ended during the stage" || echo "the rig ended before the stage")" \
				'.[$s] = {verdict: "fail", count: null, reason: $why, rig_exit: $rc}' <<< "$stages")
		fi
	done
	jq -n --arg kver "$kver" --arg k "$k" --argjson rc "$rc" --argjson secs "$secs" \
		--argjson st "$stages" '
		def c(s): $st[s].count;
		($st | to_entries | map(.value.verdict)) as $v |
		{kernel: $k, kver: $kver, rig_exit: $rc, seconds: $secs,
		 vm_cycles: c("vm_lifetimes"), module_reloads: c("module_reloads"),
		 fuzz_ioctls: c("fuzzing"), device_reattach_cycles: c("device_reattach"),
		 cpu_hotplug_cycles: c("cpu_hotplug"), vectors: c("scale"),
		 guest_sysfs_writes: c("guest_fuzz"),
		 leaks: ([$st[] | .leaks // 0] | add),
		 splats: (([$st[] | .splats // 0] | add) + (if $rc == 126 then 1 else 0 end)),
		 verdict: (if ($v | any(. == "fail")) or $rc != 0 then "fail"
			   elif ($v | any(. == "not-run")) then "incomplete" else "pass" end),
		 stages: $st}' > "$d/kernel.json" ||
		{ echo "soak: no $d/kernel.json" >&2; rc_all=1; return; }
	rm -f "$d/current"
	results+=("$d/kernel.json")
	[ "$(jq -r .verdict "$d/kernel.json")" = fail ] && rc_all=1
	jq -c '{kernel, verdict, vm_cycles, module_reloads, fuzz_ioctls, cpu_hotplug_cycles,
		device_reattach_cycles, vectors, guest_sysfs_writes, leaks, splats}' \
		"$d/kernel.json"
}

main() {
	local k
	for k in $kernels; do
		soak_kernel "$k"
	done
	summary
	echo "soak: $out/summary.json: $(jq -r .verdict "$out/summary.json")"
	return $rc_all
}

summary() {
	[ ${#results[@]} -gt 0 ] || { echo "soak: no kernel result" >&2; rc_all=1; return; }
	jq -s --arg scale "$scale" --arg date "$(date -u +%FT%TZ)" '
	{scale: ($scale | tonumber), finished: $date,
	 verdict: (map(.verdict) | if any(. == "fail") then "fail"
		   elif any(. == "incomplete") then "incomplete" else "pass" end),
	 kernels: (map({(.kver): .}) | add)}' "${results[@]}" > "$out/summary.json"
}

# On one line: bash has read it all before it runs.
main; exit $?
