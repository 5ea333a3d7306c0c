#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM test suite: run inside the rig (selftests/rig/vm-run) as one KTAP
# document, one subtest per test program.  Functional tests are never
# retried: a failure or an oops is the result.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/ktap.sh"
bin=$top/build/selftests

# The deliberately wrong check must fail (exit 1), or the test proves
# nothing.  Its results are expected failures: show them as diagnostics.
wrong_target_fails() {
	"$bin/passthrough_irq" --wrong-target -n 2 | sed 's/^/# /'
	[ "${PIPESTATUS[0]}" -eq 1 ]
}

# A C test on a freshly loaded pisteer.ko, which must unload cleanly after.
fresh_module() {
	local rc t0=$SECONDS
	rmmod pisteer 2>/dev/null
	insmod "$top/build/modules/$(uname -r)/kmod/pisteer.ko" || return 1
	"$@"
	rc=$?
	rmmod pisteer || { echo "# rmmod pisteer failed"; rc=1; }
	echo "# took $((SECONDS - t0)) s"
	return "$rc"
}

# t NAME CMD...: one test program; only NAME when one was asked for.
# Counted first, so that the plan says how many run.
only=${1:-}
counting=1
nr=0
t() {
	[ -z "$only" ] || [ "$1" = "$only" ] || return 0
	if [ -n "$counting" ]; then
		nr=$((nr + 1))
		return 0
	fi
	ktap_run "$@"
}

tests() {
	t module_lifecycle "$top/selftests/vm/module_lifecycle.sh"
	t dkms_module "$top/selftests/vm/dkms_module.sh"
	t late_load "$top/selftests/vm/late_load.sh"
	t irte_store "$top/selftests/vm/irte_store.sh"
	t vm_events "$top/selftests/vm/vm_events.sh"
	t passthrough_irq "$bin/passthrough_irq"
	t passthrough_irq_wrong_target_fails wrong_target_fails
	t passthrough_multi "$bin/passthrough_multi"
	t status_cli "$top/selftests/vm/status_cli.sh"
	t status_devices "$top/selftests/vm/status_devices.sh"
	# 64 vectors of the NVMe controller vm-run --nvme adds (vm_suite).
	t scale "$top/selftests/vm/scale.sh"
	t check_cli "$top/selftests/vm/check_cli.sh"
	t steer "$top/selftests/vm/steer.sh"
	t irq_owner "$top/selftests/vm/irq_owner.sh"
	t affinity_override "$top/selftests/vm/affinity_override.sh"
	t hotplug "$top/selftests/vm/hotplug.sh"
	t policy_identity "$top/selftests/vm/policy_identity.sh"
	t default_policy "$top/selftests/vm/default_policy.sh"
	t libvirt_hook "$top/selftests/vm/libvirt_hook.sh"
	t rdma_lat "$top/selftests/vm/rdma_lat.sh"
	t lat "$top/selftests/vm/lat.sh"
	t isolate "$top/selftests/vm/isolate.sh"
	t pin_module "$top/selftests/vm/pin_module.sh"
	t ioctl_fuzz fresh_module "$bin/ioctl_fuzz"
	t vm_cycles fresh_module "$bin/vm_cycles"
	t device_reattach "$top/selftests/vm/device_reattach.sh"
	# Gives the 82574Ls to e1000e and back to vfio-pci at its end.
	t guest_companion "$top/selftests/vm/guest_companion.sh"
	# A real QEMU and Linux guest; skips unless the rig runs with --multi.
	t realstack "$top/selftests/vm/realstack.sh"
}

tests
[ "$nr" -gt 0 ] || { echo "suite: no test named '$only'" >&2; exit 2; }
counting=
ktap_plan "$nr"
ktap_diag "kernel $(uname -r)"
tests
ktap_finish
