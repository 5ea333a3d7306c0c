#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The rig's own checks, run on the host: vm-run returns the inner exit
# status, fails a run whose guest kernel log shows a warning even when the
# command succeeded, kills QEMU on timeout, and boots as many CPUs as
# --cpus asks.  Each boots the rig once.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/lib/ktap.sh"
vmrun=$top/selftests/rig/vm-run

expect_status() {
	local want=$1 rc
	shift
	"$vmrun" "$@" >/tmp/pisteer-rig-selftest.$$ 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		sed 's/^/# /' /tmp/pisteer-rig-selftest.$$ | tail -n 20
		ktap_diag "vm-run exited $rc, expected $want"
	fi
	rm -f /tmp/pisteer-rig-selftest.$$
	[ "$rc" -eq "$want" ]
}

ktap_plan 4
ktap_check "the command's exit status comes back (7)" \
	expect_status 7 --kernel 6.12 -- bash -c 'exit 7'
# /dev/kmsg puts the line into the kernel log as a driver's WARN would.
ktap_check "a WARNING in the guest kernel log fails a successful run (126)" \
	expect_status 126 --kernel 6.12 -- \
	bash -c 'echo "<4>WARNING: CPU: 0 PID: 1 at pisteer rig self-test" > /dev/kmsg'
ktap_check "a hung command is killed at --timeout (124)" \
	expect_status 124 --kernel 6.12 --timeout 25 -- sleep 600
ktap_check "--cpus 3 boots three online CPUs" \
	expect_status 0 --kernel 6.12 --cpus 3 -- bash -c '[ "$(nproc)" = 3 ]'
ktap_finish
