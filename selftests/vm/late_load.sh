#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# late_load: pisteer.ko loaded before vfio-pci.  Its return probe on
# vfio_pci_set_irqs_ioctl must be registered when vfio_pci_core comes up
# (and dropped when it goes), so that a VMM disabling MSI-X is noticed by
# itself, without any list; pisteer version says which probes are in use.
# Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

probes=/sys/kernel/debug/kprobes/list

mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan 8
rmmod pisteer 2>/dev/null

unload_vfio() {
	local b
	for b in "${bdfs[@]}"; do
		echo "$b" > /sys/bus/pci/drivers/vfio-pci/unbind || return 1
	done
	rmmod vfio_pci && rmmod vfio_pci_core
}
ktap_check "vfio-pci unloaded (its ${#bdfs[@]} 82574Ls unbound)" unload_vfio

event_probes() { "$cli" version --json | jq -r '.module.host.event_probes.error // "active"'; }

check_before() {
	insmod "$mods/kmod/pisteer.ko" || return 1
	! grep -q vfio_pci_set_irqs_ioctl "$probes" || { echo "probe without vfio_pci_core"; return 1; }
	grep -q kvm_set_irq_routing "$probes" || { echo "no KVM probe"; return 1; }
	[ "$(event_probes)" = ENOENT ] || { "$cli" version; return 1; }
	grep -q '^vfio_pci_set_irqs_ioctl absent' /sys/kernel/debug/pisteer/probes
}
ktap_check "insmod first: KVM probes in place, the VFIO one absent, version says ENOENT" check_before

load_vfio() {
	local b
	modprobe vfio_pci || return 1
	for b in "${bdfs[@]}"; do
		echo "$b" > /sys/bus/pci/drivers_probe
		[ "$(basename "$(readlink "/sys/bus/pci/devices/$b/driver")")" = vfio-pci ] ||
			{ echo "$b not on vfio-pci"; return 1; }
	done
}
ktap_check "modprobe vfio_pci, the 82574Ls bound again" load_vfio

check_after() {
	grep -q vfio_pci_set_irqs_ioctl "$probes" || { cat "$probes"; return 1; }
	[ "$(event_probes)" = active ] || { "$cli" version; return 1; }
	grep -q '^vfio_pci_set_irqs_ioctl registered 0 missed 0$' /sys/kernel/debug/pisteer/probes
}
ktap_check "vfio_pci_core loaded: its probe registered, all event probes active, none missed" \
	check_after

trace_start
holder_start A "${bdfs[0]}"
vm_a=$(vm_id "$A_pid")
ktap_check "a VM started now: its 5 vectors appear (pisteer:vector_add)" \
	wait_trace vector_add "$vm_a" 5

# MSI-X off goes through VFIO only (KVM keeps its irqfds): only the probe
# registered late can notice it, and no list runs meanwhile.
check_disable_seen() {
	tell A d disabled && wait_trace vector_del "$vm_a" 5
}
ktap_check "MSI-X disabled by the VMM: noticed by the late probe alone (vector_del)" \
	check_disable_seen

check_reload() {
	tell A e enabled && wait_trace vector_add "$vm_a" 10 || return 1
	holder_stop A
	unload_vfio || return 1
	! grep -q vfio_pci_set_irqs_ioctl "$probes" || { echo "probe left on a gone module"; return 1; }
	[ "$(event_probes)" = ENOENT ] || return 1
	load_vfio || return 1
	grep -q vfio_pci_set_irqs_ioctl "$probes"
}
ktap_check "vfio-pci reloaded under the module: probe dropped, then registered again" check_reload

check_unload() {
	rmmod pisteer || return 1
	! grep -qE 'kvm_irqfd|kvm_set_irq_routing|vfio_pci_set_irqs_ioctl' "$probes" &&
		[ "$(vfio_82574l_bdfs | wc -l)" -eq "${#bdfs[@]}" ]
}
ktap_check "rmmod: no probe left; the 82574Ls are on vfio-pci as before" check_unload
ktap_finish
