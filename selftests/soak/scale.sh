# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154
# (SC2154: the variables come from rig.sh and holder.sh.)
# The soak stage "scale", sourced by selftests/soak/rig.sh (its helpers:
# scaled, stage_json, stage_kmsg, allocs_back, allocs_diff, kvm_refs; its
# $bdfs, $ko, $bin, $out, $allocs).  The rig runs with vm-run --nvme 256.
#
# 1. Several VMs: one holds every MSI-X vector of the NVMe controller,
#    three hold an 82574L each.  Loaded with them running, the module must
#    list every vector with its device and VM; follow on the NVMe VM (its
#    vCPUs pinned) and the first NIC's, static 1 and static 0 on the
#    others put each host IRQ where its policy says, and again after the
#    NVMe VM's guest moves 64 of its vectors to the other vCPU; rmmod brings
#    every affinity back; reloaded, it finds them all again; when the VMs
#    exit, no vector is listed and the allocation counts are a fresh
#    load's.
# 2. The costs by vector count: scan_bench -V (selftests/bench/scan_bench.c)
#    times the list ioctl and one event (a guest route change and the
#    module's rescan) with 16, 64, 128, 256 (those the controller has) NVMe
#    vectors in a VM, idle and with processes holding files, and gives
#    cost(last)/cost(first) per vector (goal: near 1, linear).
# shellcheck source=../lib/scale.sh
. "$top/selftests/lib/scale.sh"

scale() {
	local log=$out/scale.log t0=$SECONDS ok=1 leaks=0 splats fresh kref nvme nv irqs
	local before now total=0 counts c sweep=$out/scale-sweep.json figures='{}' h d
	exec 3>>"$log"
	nvme=$(vfio_nvme_bdf)
	if [ -z "$nvme" ] || [ "${#bdfs[@]}" -lt 3 ]; then
		echo "needs the NVMe of vm-run --nvme on vfio-pci and 3 82574Ls" >&3
		ok=0
	fi
	kref=$(kvm_refs)
	insmod "$ko" && fresh=$(cat "$allocs") && rmmod pisteer || ok=0

	# --- 1. several VMs, all their vectors --------------------------------
	if [ "$ok" = 1 ]; then
		nvme_holder_start N "$nvme" 2048
		holder_start E0 "${bdfs[0]}"
		holder_start E1 "${bdfs[1]}"
		holder_start E2 "${bdfs[2]}"
		nv=$(ask N n)
		irqs=$(vfio_irqs "$nvme" "${bdfs[@]}")
		# shellcheck disable=SC2086
		before=$(irq_affinities $irqs)
		# shellcheck disable=SC2086
		set -- $irqs
		echo "NVMe $nvme: $nv vectors in VM $N_pid; NICs in VMs $E0_pid $E1_pid $E2_pid; $# host IRQs" >&3
		insmod "$ko" || { echo "insmod failed" >&3; ok=0; }
		listed "$N_pid" "$nvme" "$nv" >&3 && listed "$E0_pid" "${bdfs[0]}" 5 >&3 &&
			listed "$E1_pid" "${bdfs[1]}" 5 >&3 && listed "$E2_pid" "${bdfs[2]}" 5 >&3 ||
			{ echo "not listed as held" >&3; ok=0; }
		total=$("$cli" status --json | jq length)
		[ "$total" = $((nv + 15)) ] && [ "$total" = "$#" ] ||
			{ echo "$total vectors listed, $# host IRQs, $((nv + 15)) held" >&3; ok=0; }
		echo "listed: $total vectors" >&3
		pin_vcpus "$N_pid" && pin_vcpus "$E0_pid" &&
			"$cli" steer --vm "$N_pid" follow >&3 && "$cli" steer --vm "$E0_pid" follow >&3 &&
			"$cli" steer --vm "$E1_pid" static 1 >&3 && "$cli" steer --vm "$E2_pid" static 0 >&3 ||
			{ echo "steer failed" >&3; ok=0; }
		steered "$N_pid" '.steer_cpu == .vcpu_pinned_cpu' 30000 >&3 &&
			echo "follow: $nv NVMe vectors steered after $steer_ms ms" >&3 || ok=0
		steered "$E0_pid" '.steer_cpu == .vcpu_pinned_cpu' 5000 >&3 || ok=0
		steered "$E1_pid" '.steer_cpu == 1' 5000 >&3 || ok=0
		steered "$E2_pid" '.steer_cpu == 0' 5000 >&3 || ok=0
		c=$("$cli" status --vm "$N_pid" --json | jq -r '.[] | select(.index == 0) | .vcpu')
		# 64 at once, not all: a moved IRQ keeps its old CPU vector until
		# it fires on the new one, so a swap of all 256 needs 128 more on
		# each of the rig's 2 CPUs than they have (-ENOSPC).
		tell N r64 rerouted >&3 && steered "$N_pid" ".steer_cpu == .vcpu_pinned_cpu and
			(.index != 0 or .vcpu != $c)" 30000 >&3 &&
			echo "guest reroute: 64 NVMe vectors followed after $steer_ms ms" >&3 || ok=0
		rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
		# shellcheck disable=SC2086
		now=$(irq_affinities $irqs)
		[ "$now" = "$before" ] ||
			{ echo "affinities after rmmod differ:" >&3
			  diff <(echo "$before") <(echo "$now") | head -n 20 >&3; ok=0; }
		insmod "$ko" && listed "$N_pid" "$nvme" "$nv" >&3 ||
			{ echo "reloaded: NVMe vectors not found again" >&3; ok=0; }
		for h in N E0 E1 E2; do holder_stop "$h"; done
		c=$("$cli" status --json | jq length)
		[ "$c" = 0 ] || { echo "$c vectors listed with the VMs gone" >&3; ok=0; }
		allocs_back "$fresh" 10000 >&3 || leaks=$(allocs_diff "$(cat "$allocs")" "$fresh")
		rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
	fi

	# --- 2. the costs by vector count ---------------------------------------
	if [ -n "$nvme" ] && [ "${nv:-0}" -ge 16 ]; then
		counts=
		for c in 16 64 128 256 512 1024 2048; do
			[ "$c" -le "$nv" ] && counts+=${counts:+,}$c
		done
		[ "$nv" -gt 256 ] && [ "${counts##*,}" != "$nv" ] && counts+=,$nv
		h=$(scaled 2000 100) d=20
		echo "=== scan_bench -V $nvme -C $counts -H $h -D $d" >&3
		insmod "$ko" || ok=0
		"$bin/scan_bench" -V "$nvme" -C "$counts" -n "$(scaled 200 20)" -e "$(scaled 20 5)" \
			-H "$h" -D "$d" -o "$sweep" >&3 2>&1 || { echo "scan_bench failed" >&3; ok=0; }
		rmmod pisteer || { echo "rmmod failed" >&3; ok=0; }
		[ -s "$sweep" ] && figures=$(jq -c '{device, load_processes, load_files,
			costs: [.counts[] | {vectors, list_us: .list.p50_us, event_us: .event.p50_us,
				list_load_us: .["list+load"].p50_us,
				event_load_us: .["event+load"].p50_us, event_walks}],
			per_vector_ratio: .per_vector_ratio_p50}' "$sweep")
		rm -f "$sweep"
	fi
	[ "$(kvm_refs)" = "$kref" ] ||
		{ echo "kvm refcnt $(kvm_refs), was $kref" >&3; leaks=$((leaks + 1)); }
	exec 3>&-
	splats=$(stage_kmsg "$log")
	stage_json scale "$ok" "$total" 256 "$t0" "$leaks" "$splats" \
		"$(jq -n --argjson f "$figures" --argjson nv "${nv:-0}" '{nvme_vectors: $nv} + $f')"
	# The figures, as the stage's output.
	jq -r '"scale: \(.count) vectors listed at once (\(.nvme_vectors) of the NVMe)",
		(.costs // [] | .[] | "scale: \(.vectors) vectors: list \(.list_us) us, event \(.event_us) us; with \(.list_load_us) us / \(.event_load_us) us under load"),
		(.per_vector_ratio // empty | "scale: cost(\(.last))/cost(\(.first)) per vector: list \(.list), event \(.event); under load \(.["list+load"]), \(.["event+load"])")' \
		"$out/scale.json" | while read -r l; do ktap_diag "$l"; done
}
