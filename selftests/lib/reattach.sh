# SPDX-License-Identifier: GPL-2.0
# Detach and re-attach of a held VM's device, the migration flow, for shell
# tests (source it after holder.sh and irqaff.sh; needs $cli).  The device
# leaves the VM the way QEMU's device_del makes it: the host removes it
# from the PCI bus, VFIO signals the VMM's request eventfd, the VMM
# (ptvm_demo -H) takes its irqfds and MSI-X off and closes the device, and
# only then does the removal complete.  A rescan brings it back, it is
# bound to vfio-pci again and plugged into the same VM process ("p": the
# group and device reopened, MSI-X on new eventfds, new irqfds on the
# same GSI routes).  pisteer.ko must find the new vectors and steer them
# by the VM's policy on its own: no pisteer command is run after the
# unplug.

# reattach_irqs BDF: the host IRQs of BDF's MSI-X vectors, in index order,
# blank-separated (what expect_effective reads from $irqs).
reattach_irqs() {
	awk -v b="($1)" 'index($NF, "vfio-msix[") == 1 && index($NF, b) {
		i = $NF; sub(/^vfio-msix\[/, "", i); sub(/\].*/, "", i)
		sub(":", "", $1); irq[i + 0] = $1; if (i + 1 > n) n = i + 1 }
		END { for (i = 0; i < n; i++) printf "%s ", irq[i] }' /proc/interrupts
}

# reattach_steered PID BDF WANT MS: within MS ms, pisteer's status for VM
# PID shows exactly BDF's vectors now in /proc/interrupts (no old record),
# vector i with steer CPU WANT[i] ("0 1 0 1 0 "), and their effective CPUs
# are WANT.  Sets $irqs.
reattach_steered() {
	local pid=$1 bdf=$2 want=$3 ms=$4 t0=${EPOCHREALTIME/./} t st
	while :; do
		irqs=$(reattach_irqs "$bdf")
		st=$("$cli" status --vm "$pid" --json 2>&1)
		jq -e --arg d "$bdf" --arg i "$irqs" --arg w "$want" '
			def nums: split(" ") | map(select(length > 0) | tonumber);
			($i | nums) as $irqs | ($w | nums) as $w |
			($irqs | length) == ($w | length) and length == ($w | length) and
			all(.[]; .device == $d) and
			(sort_by(.index) | map(.host_irq)) == $irqs and
			(sort_by(.index) | map(.steer_cpu)) == $w' <<<"$st" >/dev/null 2>&1 &&
			break
		t=${EPOCHREALTIME/./}
		if [ $(((10#$t - 10#$t0) / 1000)) -gt "$ms" ]; then
			echo "after $ms ms: $bdf's IRQs '$irqs', status of VM $pid (wanted steer CPUs '$want'):"
			jq -c '[.[] | {device, index, host_irq, vcpu, vcpu_pcpu, steer_cpu, steer_policy}]' \
				<<<"$st" 2>/dev/null || echo "$st"
			return 1
		fi
		sleep 0.05
	done
	expect_effective "$want" "$ms"
}

# reattach_unplug HOLDER BDF: remove BDF from the host's PCI bus while
# HOLDER's VM holds it; the holder must release it (request eventfd) and
# the removal complete, its records and host IRQs gone.
reattach_unplug() {
	local h=$1 bdf=$2 out pid line job rc st
	eval "out=\$${h}_out pid=\$${h}_pid"
	# Blocks until the VMM lets go of the device.
	(echo 1 > "/sys/bus/pci/devices/$bdf/remove") &
	job=$!
	read -r -t 60 -u "$out" line
	[ "$line" = released ] || { echo "holder $h said '$line' on the removal of $bdf"; return 1; }
	wait "$job"
	rc=$?
	[ "$rc" -eq 0 ] && [ ! -e "/sys/bus/pci/devices/$bdf" ] ||
		{ echo "removal of $bdf: exit $rc, $(ls -d "/sys/bus/pci/devices/$bdf" 2>&1)"; return 1; }
	! grep -qF "($bdf)" /proc/interrupts || { echo "IRQs of $bdf left:"; grep -F "($bdf)" /proc/interrupts; return 1; }
	st=$("$cli" status --vm "$pid" --json) &&
		[ "$(jq length <<<"$st")" -eq 0 ] || { echo "records of VM $pid left: $st"; return 1; }
}

# reattach_plug HOLDER BDF: rescan, bind BDF to vfio-pci, plug it back into
# HOLDER's VM.
reattach_plug() {
	local h=$1 bdf=$2
	echo 1 > /sys/bus/pci/rescan || return 1
	for _ in $(seq 100); do [ -e "/sys/bus/pci/devices/$bdf" ] && break; sleep 0.05; done
	[ -e "/sys/bus/pci/devices/$bdf" ] || { echo "$bdf did not come back on rescan"; return 1; }
	rebind "$bdf" vfio-pci || { echo "$bdf: not bound to vfio-pci"; return 1; }
	tell "$h" p plugged
}

# reattach_mark WHAT: with $reattach_log set, append "WHAT MS" to it, the
# ms since the last mark of the cycle.
reattach_mark() {
	local t=${EPOCHREALTIME/./}
	[ -n "${reattach_log:-}" ] && [ -n "${reattach_t:-}" ] &&
		echo "$1 $(((10#$t - 10#$reattach_t) / 1000))" >> "$reattach_log"
	reattach_t=$t
}

# reattach_cycle HOLDER BDF WANT [POLICY...]: one cycle.  With POLICY, it
# is set for the VM first (pisteer steer --vm PID POLICY), while the
# device is plugged; the vectors must be steered to WANT, take interrupts
# on their routed vCPUs, be unplugged and plugged again, and then be
# steered to WANT again with no pisteer command, and take interrupts.
reattach_cycle() {
	local h=$1 bdf=$2 want=$3 pid
	shift 3
	eval "pid=\$${h}_pid"
	reattach_t=
	reattach_mark start
	if [ $# -gt 0 ]; then
		"$cli" steer --vm "$pid" "$@" >/dev/null || { echo "steer --vm $pid $* failed"; return 1; }
	fi
	reattach_steered "$pid" "$bdf" "$want" 2000 || return 1
	reattach_mark steered
	tell "$h" t raised || return 1
	reattach_mark raised
	reattach_unplug "$h" "$bdf" || return 1
	reattach_mark unplugged
	reattach_plug "$h" "$bdf" || return 1
	reattach_mark plugged
	reattach_steered "$pid" "$bdf" "$want" 3000 || { echo "(after the re-plug)"; return 1; }
	reattach_mark re-steered
	tell "$h" t raised || return 1
	reattach_mark raised
}
