# SPDX-License-Identifier: GPL-2.0
# Many vectors in the rig: the NVMe controller vm-run --nvme VECTORS adds
# (bound to vfio-pci), held by vec_hold, and the checks the scale tests
# share (selftests/vm/scale.sh, selftests/soak/scale.sh).  Source it
# after holder.sh (rigtest.sh ... holder scale).
vec_hold=$top/build/selftests/vec_hold

# The NVMe controller meant for vfio-pci (guest-init set its
# driver_override), bound to vfio-pci again if a test unbound it.
vfio_nvme_bdf() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0010 ] || continue
		[ "$(cat "$d/driver_override" 2>/dev/null)" = vfio-pci ] || continue
		[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || rebind "${d##*/}" vfio-pci ||
			continue
		basename "$d"
		return 0
	done
	return 1
}

# nvme_holder_start NAME BDF VECTORS: a held VM with VECTORS of BDF's
# MSI-X vectors (vec_hold); NAME_pid etc. as holder_start sets them.
nvme_holder_start() {
	local holder=$vec_hold
	holder_start "$1" "$2" -v "$3"
}

# ask HOLDER CMD: send a command to a holder, print its answer
ask() {
	local in out line
	eval "in=\$${1}_in out=\$${1}_out"
	echo "$2" >&"$in"
	read -r -t 60 -u "$out" line && echo "$line"
}

# The host IRQs VFIO requested for the devices named (vfio-msix[i](BDF)).
vfio_irqs() {
	awk -v list=" $* " '$NF ~ /^vfio-msi/ {
		n = $NF; sub(/^[^(]*\(/, "", n); sub(/\)$/, "", n)
		if (index(list, " " n " ")) { sub(":", "", $1); print $1 } }' /proc/interrupts |
		sort -n | tr '\n' ' '
}

# listed PID BDF N: the module lists exactly N vectors of VM PID, all of
# device BDF, indexes 0..N-1; and every listed vector of BDF is PID's.
listed() {
	"$cli" status --vm "$1" --json | jq -e --arg d "$2" --argjson n "$3" '
		length == $n and all(.[]; .device == $d and .vm_pid > 0) and
		([.[].index] | sort) == [range($n)]' >/dev/null ||
		{ echo "VM $1: not $3 vectors of $2 with indexes 0..$(($3 - 1)):"
		  "$cli" status --vm "$1" --json | jq -c '[.[] | [.device, .index]] | .[:8]'
		  return 1; }
	"$cli" status --device "$2" --json | jq -e --argjson p "$1" 'all(.[]; .vm_pid == $p)' \
		>/dev/null || { echo "vectors of $2 listed with another VM than $1"; return 1; }
}

# steered PID JQ MS: within MS ms every vector of VM PID has a steer CPU,
# satisfies the jq condition JQ, and its host IRQ's effective CPU is its
# steer CPU.  The ms it took in $steer_ms.
steered() {
	local pid=$1 cond=$2 ms=$3 t0=${EPOCHREALTIME/./} t irq cpu c bad n table
	while :; do
		bad=0 n=0
		table=$("$cli" status --vm "$pid" --json | jq -r "if length > 0 and
			all(.[]; .steer_cpu != null and ($cond)) then .[] |
			\"\(.host_irq) \(.steer_cpu)\" else \"none\" end")
		while read -r irq cpu; do
			[ "$irq" = none ] && { bad=1; break; }
			read -r c < "/proc/irq/$irq/effective_affinity_list" || c=
			[ "$c" = "$cpu" ] || bad=$((bad + 1))
			n=$((n + 1))
		done <<< "$table"
		t=${EPOCHREALTIME/./}
		steer_ms=$(((10#$t - 10#$t0) / 1000))
		[ "$bad" = 0 ] && [ "$n" -gt 0 ] && return 0
		if [ "$steer_ms" -gt "$ms" ]; then
			echo "VM $pid: $bad vectors not steered as '$cond' after $ms ms:"
			"$cli" status --vm "$pid" --json |
				jq -c '[.[] | [.index, .host_irq, .vcpu, .vcpu_pinned_cpu, .steer_cpu,
					.irq_effective_cpu]] | .[:6]'
			return 1
		fi
		sleep 0.05
	done
}

# pin_vcpus PID: vCPU n's thread of VM PID on CPU n (its vectors' vCPUs).
pin_vcpus() {
	local tid vcpu
	while read -r vcpu tid; do
		taskset -pc "$vcpu" "$tid" >/dev/null || return 1
	done < <("$cli" status --vm "$1" --json |
		jq -r '[.[] | select(.vcpu != null) | [.vcpu, .vcpu_tid]] | unique | .[] | "\(.[0]) \(.[1])"')
}
