#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# irte_store: the IRTE store's in-kernel unit test (selftests/kmod/),
# loaded in the rig kernel.  The store keeps what the posting probes saw;
# the rig's IOMMUs never post, so those probes never fire here and this is
# where its growth, drops, forgetting and pool sizing are checked.  Then
# pisteer.ko's own debugfs pisteer/irte shows the store of the loaded
# module: nothing dropped, the pool at its margin with no vectors.
. "$(dirname "$0")/../lib/rigtest.sh"

ko=$mods/selftests/kmod/pisteer_irte_store_test.ko
ktap_plan 4

run_unit() {
	local log rc
	dmesg -C
	insmod "$ko" || return 1
	rmmod pisteer_irte_store_test || return 1
	log=$(dmesg | sed -n 's/.*pisteer_irte_store_test: //p')
	printf '%s\n' "$log"
	rc=0
	grep -q '^1\.\.12$' <<<"$log" || { echo "no plan of 12"; rc=1; }
	[ "$(grep -c '^ok ' <<<"$log")" -eq 12 ] || rc=1
	! grep -q '^not ok' <<<"$log" || rc=1
	return $rc
}
ktap_check "the store's unit test: 12 of 12 pass in the kernel" run_unit
ktap_check "no kernel splat during it" sh -c '! dmesg | grep -E "BUG|WARNING|Call Trace|lockdep"'

rmmod pisteer 2>/dev/null
insmod "$mods/kmod/pisteer.ko"
irte=/sys/kernel/debug/pisteer/irte
ktap_check "pisteer.ko shows its IRTE store (debugfs pisteer/irte)" \
	grep -qx 'drops 0' "$irte"
ktap_check "with no VFIO vector the pool holds its margin of 64 free nodes" \
	grep -qx 'free_nodes 64' "$irte"
cat "$irte" | sed 's/^/# /'
rmmod pisteer
ktap_finish
