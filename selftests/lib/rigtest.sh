# SPDX-License-Identifier: GPL-2.0
# The preamble of the rig's shell tests; source it as
#   . "$(dirname "$0")/../lib/rigtest.sh" [holder] [irqaff] [scale]
# It sets -u, $top (the tree), $mods (this kernel's built modules), $cli
# (the pisteer CLI), $tracing, and sources ktap.sh and the helpers named.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mods=$top/build/modules/$(uname -r)
cli=$top/build/pisteer
tracing=/sys/kernel/tracing
# shellcheck source=ktap.sh
. "$top/selftests/lib/ktap.sh"
# (Sourced without words, "$@" is the script's own arguments: only the
# helpers' names count.)
for __lib in "$@"; do
	case $__lib in
	holder | irqaff | scale)
		# shellcheck disable=SC1090
		. "$top/selftests/lib/$__lib.sh" ;;
	esac
done
unset __lib
