#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run Kbuild for one pinned kernel: kbuild.sh KVER DIR [MAKE ARGS...] runs
# `make -C <KVER's build dir> M=DIR ARGS...`.  Bookworm's kernels build
# here with their installed headers; the 7.x headers want gcc-14, so for
# a kernel whose headers live only in the trixie chroot that
# scripts/deps.sh made, make runs in there, with DIR bind-mounted at the
# same path in a private mount namespace (nothing stays mounted after).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 KVER DIR [MAKE ARGS...]" >&2; exit 2; }
kver=$1 dir=$(cd "$2" && pwd)
shift 2
root=${PISTEER_CACHE:-/var/cache/pisteer}/trixie

if [ -d "/lib/modules/$kver/build" ]; then
	exec make -C "/lib/modules/$kver/build" M="$dir" "$@"
fi
if [ ! -d "$root/lib/modules/$kver/build" ]; then
	echo "kbuild: no headers for $kver here or in $root: run scripts/deps.sh" >&2
	exit 1
fi
case "$dir" in
*[[:space:]]*) echo "kbuild: $dir must not contain blanks" >&2; exit 2 ;;
esac
mkdir -p "$root$dir"
# shellcheck disable=SC2016
exec unshare --mount --propagation private -- sh -c '
	mount --bind "$1" "$2$1" || exit 1
	# objtool reads /proc/self (its stack limit).
	mount -t proc proc "$2/proc" || exit 1
	dir=$1 root=$2 kver=$3
	shift 3
	exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
		make -C "/lib/modules/$kver/build" M="$dir" "$@"
' kbuild "$dir" "$root" "$kver" "$@"
