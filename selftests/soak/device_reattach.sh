# SPDX-License-Identifier: GPL-2.0
# The soak stage device_reattach (sourced by selftests/soak/rig.sh, whose
# helpers it uses): detach and re-attach, the migration flow
# (selftests/lib/reattach.sh), 20 x SCALE cycles.
# shellcheck source=../lib/reattach.sh
. "$top/selftests/lib/reattach.sh"

# --- 5. Device detach and re-attach ----------------------------------------
# A held VM, its vCPU threads pinned to CPU 0 and 1, steered by follow
# (static 1 every fourth cycle, set while the device is plugged); each
# cycle: interrupts, the device removed from the host (the VMM releases it
# on VFIO's request eventfd), rescanned, bound to vfio-pci, plugged back
# into the same VM; its new vectors must be steered by the policy with no
# pisteer command, the old records gone, interrupts on the routed vCPUs
# again, the allocs as before the first cycle.  After the last, rmmod with
# the VM steered: its new IRQs back at VFIO's affinity, every other IRQ as
# before.
device_reattach() {
	local log=$out/device_reattach.log t0=$SECONDS cap n i ok=1 cycles=0 leaks=0 splats
	local bdf=${bdfs[0]} kref start st tid0 tid1 old_irqs new first vfio_default all_before
	local want prev='' raised=0 static_cycles=0 drift=0 restored=1 a skip
	cap=$(scaled 300 120)
	n=$(scaled 20)
	exec 3>>"$log"
	reattach_log=$out/device_reattach.steps
	: > "$reattach_log"
	kref=$(kvm_refs)
	holder_start H "$bdf"
	old_irqs=$(reattach_irqs "$bdf")
	read -r first _ <<< "$old_irqs"
	read -r vfio_default < "/proc/irq/$first/smp_affinity_list"
	all_before=$(irq_affinities)
	echo "$bdf in VM $H_pid: host IRQs $old_irqs (affinity $vfio_default)" >&3
	insmod "$ko" || { echo "insmod failed" >&3; ok=0; }
	st=$("$cli" status --vm "$H_pid" --json)
	tid0=$(jq -r 'map(select(.vcpu == 0))[0].vcpu_tid' <<<"$st")
	tid1=$(jq -r 'map(select(.vcpu == 1))[0].vcpu_tid' <<<"$st")
	taskset -pc 0 "$tid0" >&3 && taskset -pc 1 "$tid1" >&3 &&
		"$cli" steer --vm "$H_pid" follow >&3 &&
		reattach_steered "$H_pid" "$bdf" "0 1 0 1 0 " 2000 >&3 ||
		{ echo "set-up failed" >&3; ok=0; }
	prev=follow
	start=$(cat "$allocs")
	echo "allocs at the start: $start" | tr '\n' ' ' >&3
	echo >&3
	for i in $(seq "$n"); do
		[ "$ok" = 1 ] || break
		[ $((SECONDS - t0)) -lt "$cap" ] || { echo "time cap reached" >&3; break; }
		if [ $((i % 4)) -eq 0 ]; then
			set -- static 1
			want="1 1 1 1 1 "
			static_cycles=$((static_cycles + 1))
		else
			set -- follow
			want="0 1 0 1 0 "
		fi
		# The policy is set only when it changes, and never after the unplug.
		[ "$*" = "$prev" ] && set --
		[ $# -gt 0 ] && prev="$*"
		echo "cycle $i at ${EPOCHREALTIME}: ${prev}${*:+ (set now)}, want $want" >&3
		if reattach_cycle H "$bdf" "$want" "$@" >&3 2>&1; then
			cycles=$((cycles + 1))
			raised=$((raised + 10))
		else
			echo "cycle $i failed" >&3
			ok=0
		fi
		allocs_back "$start" 2000 >&3 ||
			{ echo "cycle $i: allocs not back" >&3; drift=$((drift + 1)); }
	done
	leaks=$(allocs_diff "$(cat "$allocs")" "$start")
	echo "allocs at the end: $(tr '\n' ' ' < "$allocs")" >&3
	new=$(reattach_irqs "$bdf")
	rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
	for i in $new; do
		read -r a < "/proc/irq/$i/smp_affinity_list"
		[ "$a" = "$vfio_default" ] ||
			{ echo "IRQ $i: affinity $a after rmmod, VFIO gave $vfio_default" >&3; restored=0; }
	done
	# Every other IRQ as before (the device's old and new numbers aside).
	skip=" $old_irqs $new "
	if ! diff <(awk -v s="$skip" '!index(s, " " $1 " ")' <<< "$all_before") \
		<(irq_affinities | awk -v s="$skip" '!index(s, " " $1 " ")') >&3; then
		echo "IRQ affinities after rmmod differ (< before, > after)" >&3
		restored=0
	fi
	holder_stop H || { echo "the holder exited $?" >&3; ok=0; }
	[ "$(kvm_refs)" = "$kref" ] ||
		{ echo "kvm refcnt $(kvm_refs), was $kref" >&3; leaks=$((leaks + 1)); }
	echo "$cycles cycles ($static_cycles under static), $raised interrupts on the routed vCPUs, $drift with allocs not back after 2 s" >&3
	echo "ms per step (set-up, raise, unplug, rescan+bind+plug, re-steer, raise), medians:" \
		"$(awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k a[k] }' "$reattach_log" |
			while read -r k v; do
				printf '%s %s; ' "$k" "$(tr ' ' '\n' <<< "$v" | sort -n | awk '{ x[NR] = $1 } END { print x[int((NR + 1) / 2)] }')"
			done)" >&3
	exec 3>&-
	splats=$(stage_kmsg "$log")
	[ "$drift" -eq 0 ] && [ "$restored" = 1 ] || ok=0
	stage_json device_reattach "$ok" "$cycles" "$n" "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson r "$raised" --argjson s "$static_cycles" --argjson d "$drift" \
			--argjson a "$([ "$restored" = 1 ] && echo true || echo false)" \
			'{interrupts_routed: $r, static_cycles: $s, cycles_allocs_not_back: $d,
			  affinities_restored: $a}')"
	rm -f "$reattach_log"
}
