# SPDX-License-Identifier: GPL-2.0
#
# Sourced by every script that needs the pinned kernels: kernels.env, then
# what scripts/deps.sh actually fetched for 7.x when the pin had moved on.
# shellcheck shell=bash
# shellcheck source=../kernels.env
. "$(dirname "${BASH_SOURCE[0]}")/../kernels.env"
_resolved=${PISTEER_CACHE:-/var/cache/pisteer}/kernels.resolved.env
if [ -f "$_resolved" ] &&
	[ "$(sed -n 's/^RESOLVED_FOR_7=//p' "$_resolved")" = "$KVER_7=$PKGVER_7" ]; then
	# shellcheck disable=SC1090
	. "$_resolved"
fi
unset _resolved
# The 7.x series, e.g. 7.3 for 7.3.4+deb13-amd64.
_k7=${KVER_7%%[+-]*}
K7_SERIES=${_k7%.*}
unset _k7
# The rig's short names (vm-run --kernel) and the ABI names they stand for.
pisteer_kver() {
	case "$1" in
	6.1) echo "$KVER_61" ;;
	6.12) echo "$KVER_612" ;;
	7 | 7.x | "$K7_SERIES") echo "$KVER_7" ;;
	*) return 1 ;;
	esac
}
