#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms_module: the pisteer.ko DKMS built from the pisteer-dkms package
# (make check's static "pisteer-dkms: dkms builds" stage keeps it in
# build/dkms/KVER/), not the one make modules-all built, is this tree's
# release, loads, serves pisteer version and pisteer status (a
# passthrough VM running before the load: its vectors found), and
# unloads clean.  One load and unload.  Runs inside the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

release=$(cat "$top/VERSION")
kver=$(uname -r)
dkms_dir=$top/build/dkms/$kver
ko=
for f in "$dkms_dir"/pisteer.ko*; do
	[ -f "$f" ] && ko=$f
done

ktap_plan 6
if [ -z "$ko" ]; then
	ktap_diag "no DKMS-built pisteer.ko in $dkms_dir:" \
		"make check STAGE=static TEST=dkms KERNEL=<this kernel> makes it"
	ktap_fail "a DKMS-built pisteer.ko for $kver"
	ktap_finish
fi

# The DKMS build is of this tree's release and sources: same version, and
# the same srcversion (a hash of the sources) as make modules-all's.
check_build() {
	local v s want
	v=$(modinfo -F version "$ko") && s=$(modinfo -F srcversion "$ko") || return 1
	[ "$v" = "$release" ] || { echo "modinfo version '$v', VERSION '$release'"; return 1; }
	[ -f "$mods/kmod/pisteer.ko" ] || { echo "no $mods/kmod/pisteer.ko (make modules-all)"; return 1; }
	want=$(modinfo -F srcversion "$mods/kmod/pisteer.ko") || return 1
	[ "$s" = "$want" ] || { echo "srcversion $s, this tree's $want: stale DKMS build"; return 1; }
	v=$(modinfo -F vermagic "$ko")
	[ "${v%% *}" = "$kver" ] || { echo "vermagic '$v'"; return 1; }
}
ktap_check "${ko#"$top"/}: version $release, this tree's sources, for $kver" check_build

rmmod pisteer 2>/dev/null
mapfile -t bdfs < <(vfio_82574l_bdfs)
[ "${#bdfs[@]}" -eq 0 ] || holder_start A "${bdfs[0]}"

load() {
	insmod "$ko" || return 1
	[ -c /dev/pisteer ] || { echo "no /dev/pisteer"; return 1; }
	# What runs is this file, not a build of make modules-all.
	[ "$(cat /sys/module/pisteer/srcversion)" = "$(modinfo -F srcversion "$ko")" ] &&
		[ "$(cat /sys/module/pisteer/version)" = "$release" ]
}
ktap_check "insmod the DKMS-built pisteer.ko" load

ktap_check "pisteer version names the loaded module's release" \
	bash -c "'$cli' version | grep -qE '^pisteer module $release \\(ABI [0-9]+\\.[0-9]+\\)'"

status() {
	local out n
	out=$("$cli" status --json) || return 1
	if [ "${#bdfs[@]}" -eq 0 ]; then
		echo "no 82574L bound to vfio-pci: no VM to find"
		return 1
	fi
	n=$(jq --argjson p "$A_pid" '[.[] | select(.vm_pid == $p)] | length' <<<"$out") || return 1
	[ "$n" -eq 5 ] || { echo "$n vectors of VM $A_pid, not 5: $out"; return 1; }
	"$cli" status --vm "$A_pid" >/dev/null
}
ktap_check "pisteer status: the running VM's 5 MSI-X vectors" status

[ "${#bdfs[@]}" -eq 0 ] || holder_stop A
ktap_check "rmmod pisteer: unloads, /dev/pisteer gone" \
	bash -c "rmmod pisteer && ! test -e /dev/pisteer && ! grep -q '^pisteer ' /proc/modules"

ktap_check "pisteer version without it: 'not loaded', exit 3" \
	bash -c "out=\$('$cli' version 2>&1); [ \$? -eq 3 ] && printf '%s' \"\$out\" | grep -q 'not loaded'"

ktap_finish
