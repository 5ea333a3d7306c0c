#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# module_lifecycle: pisteer.ko and pisteer_guest.ko load, serve their
# interfaces and unload cleanly (repeatedly); the CLI reports the module
# and its absence.  Runs inside the rig (as root, on a pinned kernel).
. "$(dirname "$0")/../lib/rigtest.sh"

release=$(cat "$top/VERSION")
abi=$(awk '/define PISTEER_ABI_MAJOR/ { M = $3 } /define PISTEER_ABI_MINOR/ { m = $3 }
	END { print M "." m }' "$top/uapi/linux/pisteer.h")

ktap_plan 9

if [ ! -f "$mods/kmod/pisteer.ko" ]; then
	ktap_diag "no modules built for $(uname -r) in $mods (make modules-all)"
	ktap_fail "pisteer.ko built for this kernel"
	exit 1
fi

ktap_check "insmod pisteer.ko creates /dev/pisteer" \
	bash -c "insmod '$mods/kmod/pisteer.ko' && test -c /dev/pisteer"

ktap_run "version_ioctl" "$top/build/selftests/version_ioctl"

ktap_check "pisteer version names the loaded module's release and ABI" \
	bash -c "'$cli' version | grep -qxE 'pisteer module $release \\(ABI $abi\\), features 0x[0-9a-f]+'"

ktap_check "pisteer version --json has the module object" \
	bash -c "'$cli' version --json | jq -e '.module.release == \"$release\" and (.module.abi_major|tostring) + \".\" + (.module.abi_minor|tostring) == \"$abi\"' >/dev/null"

ktap_check "rmmod pisteer removes /dev/pisteer" \
	bash -c "rmmod pisteer && ! test -e /dev/pisteer && ! grep -qw pisteer /proc/modules"

out=$("$cli" version 2>&1)
rc=$?
if [ $rc -eq 3 ] && printf '%s' "$out" | grep -q 'not loaded'; then
	ktap_ok "pisteer version without the module: 'not loaded', exit 3"
else
	ktap_diag "exit $rc: $out"
	ktap_fail "pisteer version without the module: 'not loaded', exit 3"
fi

cycle() {
	local i
	for i in 1 2 3 4 5; do
		insmod "$mods/kmod/pisteer.ko" || return 1
		"$cli" version >/dev/null || return 1
		rmmod pisteer || return 1
	done
}
ktap_check "five load/use/unload cycles" cycle

guest_check() {
	# It links against ib_core (RDMA device names): insmod needs it loaded.
	modprobe ib_core && insmod "$mods/guest/pisteer_guest.ko" || return 1
	[ "$(cat /sys/kernel/pisteer/version)" = "$release" ] || return 1
	rmmod pisteer_guest || return 1
	! test -e /sys/kernel/pisteer
}
ktap_check "pisteer_guest.ko publishes /sys/kernel/pisteer/version and unloads" guest_check

ktap_check "no pisteer module left loaded" \
	bash -c "! grep -qE '^pisteer(_guest)? ' /proc/modules"

ktap_finish
