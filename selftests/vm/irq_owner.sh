#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# irq_owner: pisteer moves and restores a host IRQ only while its number
# is still the VFIO vector it steered (device, MSI or MSI-X, index).  VM
# A's MSI-X vector 0 is steered (static CPU 1) from an affinity set by hand
# (CPU 0).  Then, in one go, the VMM takes the VM's irqfds off and the
# device falls back to MSI: MSI-X off, MSI on.  The MSI vector, in no VM and
# under no policy, gets the number MSI-X vector 0 had (the IRQ allocator's
# hint comes from the device and index), before pisteer's next rescan.
# The rescan must leave it as the kernel gave it (CPU 0-1), not "restore"
# the saved CPU 0 onto it.  (Another device's vector on the
# number would be the same case; its hint differs, so the rig cannot place
# it there.)  Then A's own restore: the vector still VFIO's, its irqfds
# deassigned, gets its affinity from before pisteer back.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

ktap_plan 6
mapfile -t bdfs < <(vfio_82574l_bdfs)
rmmod pisteer 2>/dev/null

# vfio_irqs BDF [msi]: the host IRQs VFIO holds for BDF's MSI-X (or MSI)
vfio_irqs() {
	awk -v d="$1" -v k="${2:-msix}" '$0 ~ "vfio-" k "\\[[0-9]+\\]\\(" d "\\)" {
		sub(":", "", $1); print $1 }' /proc/interrupts | tr '\n' ' '
}
aff() { cat "/proc/irq/$1/smp_affinity_list"; }
eff() { cat "/proc/irq/$1/effective_affinity_list"; }

holder_start A "${bdfs[0]}"
a_irqs=$(vfio_irqs "${bdfs[0]}")
irq=${a_irqs%% *}
ktap_diag "VM A's host IRQs on ${bdfs[0]}: $a_irqs"

ktap_check "insmod" insmod "$mods/kmod/pisteer.ko"
echo 1 > "$tracing/events/pisteer/steer/enable"
echo > "$tracing/trace"

steer_first() {
	echo 0 > "/proc/irq/$irq/smp_affinity_list" || return 1
	"$cli" steer --irq "$irq" static 1 || return 1
	for _ in $(seq 50); do
		[ "$(eff "$irq")" = 1 ] && [ "$(aff "$irq")" = 1 ] && return 0
		sleep 0.02
	done
	echo "IRQ $irq: affinity $(aff "$irq"), effective $(eff "$irq")"
	return 1
}
ktap_check "IRQ $irq (A's vector 0) set to CPU 0 by hand, then steered to CPU 1" steer_first

to_msi() {
	tell A M msi || return 1
	msi=$(vfio_irqs "${bdfs[0]}" msi)
	echo "MSI vector 0 on host IRQ $msi"
	[ "$msi" = "$irq " ]
}
if ktap_check "the guest falls back to MSI: its vector takes MSI-X vector 0's number" to_msi; then
	sleep 0.3
	untouched() {
		[ "$(aff "$irq")" = 0-1 ] || { echo "IRQ $irq (now vfio-msi[0]): affinity $(aff "$irq")"; return 1; }
		# the restore of the saved affinity is the one that must not be
		if grep -q "irq=$irq from=.* to=-1 reason=restore" "$tracing/trace"; then
			grep "irq=$irq " "$tracing/trace"
			return 1
		fi
	}
	ktap_check "after the rescan: the MSI vector keeps 0-1, MSI-X's saved CPU 0 not put on it" untouched
else
	ktap_skip "the MSI vector got another number: the reuse could not be arranged"
fi

# A again, on its own device: steered, then its irqfds deassigned (VFIO
# keeps the vector): restored to what it was before pisteer.
"$cli" steer --irq "$irq" none
holder_stop A
holder_start A "${bdfs[0]}"
a_irqs=$(vfio_irqs "${bdfs[0]}")
irq=${a_irqs%% *}
own_restore() {
	local i
	echo 0 > "/proc/irq/$irq/smp_affinity_list" || return 1
	"$cli" steer --irq "$irq" static 1 || return 1
	for i in $(seq 50); do
		[ "$(aff "$irq")" = 1 ] && break
		sleep 0.02
	done
	[ "$(aff "$irq")" = 1 ] || { echo "IRQ $irq not steered: $(aff "$irq")"; return 1; }
	tell A u unhooked || return 1
	for i in $(seq 50); do
		[ "$(aff "$irq")" = 0 ] && return 0
		sleep 0.02
	done
	echo "IRQ $irq: affinity $(aff "$irq") after its irqfds went, not 0"
	return 1
}
ktap_check "A's own vector, irqfds deassigned while VFIO keeps it: affinity from before back" \
	own_restore

echo 0 > "$tracing/events/pisteer/steer/enable"
holder_stop A
ktap_check "rmmod pisteer" rmmod pisteer
ktap_finish
