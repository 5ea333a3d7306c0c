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

ktap_plan 16
ktap_diag "kernel $(uname -r)"
ktap_run module_lifecycle "$top/selftests/vm/module_lifecycle.sh"
ktap_run late_load "$top/selftests/vm/late_load.sh"
ktap_run passthrough_irq "$bin/passthrough_irq"
ktap_run passthrough_irq_wrong_target_fails wrong_target_fails
ktap_run passthrough_multi "$bin/passthrough_multi"
ktap_run status_cli "$top/selftests/vm/status_cli.sh"
ktap_run status_devices "$top/selftests/vm/status_devices.sh"
ktap_run steer "$top/selftests/vm/steer.sh"
ktap_run policy_identity "$top/selftests/vm/policy_identity.sh"
ktap_run rdma_lat "$top/selftests/vm/rdma_lat.sh"
ktap_run lat "$top/selftests/vm/lat.sh"
ktap_run isolate "$top/selftests/vm/isolate.sh"
ktap_run pin_module "$top/selftests/vm/pin_module.sh"
ktap_run ioctl_fuzz fresh_module "$bin/ioctl_fuzz"
ktap_run vm_cycles fresh_module "$bin/vm_cycles"
# Gives the 82574Ls to e1000e and back to vfio-pci at its end.
ktap_run guest_companion "$top/selftests/vm/guest_companion.sh"
ktap_finish
