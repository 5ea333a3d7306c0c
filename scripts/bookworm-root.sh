#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The clean Debian 12 in which make check installs the built packages
# (selftests/lib/debinst.sh): a minbase bookworm made by debootstrap from
# the Debian archive this machine uses, with the apt sources a bookworm
# host has (bookworm, bookworm-updates, bookworm-security) and the headers
# of the pinned 6.1 kernel (bookworm's own), nothing else.  make check
# never changes it: each run installs into a throwaway overlay on top.
# One kernel's headers: the package's DKMS run is what is tested here (the
# static dkms stages build for every pinned kernel), and each kernel more
# costs make check its module build; 6.12's would also bring its image and
# initramfs-tools.
#
#   scripts/bookworm-root.sh     (scripts/deps.sh runs it)
#   PISTEER_CACHE=DIR            the root is DIR/bookworm (default /var/cache/pisteer)
#
# Idempotent: once made for the pinned kernels (the .complete file says
# which), a second run changes nothing and touches no network.  When the
# pins move, the root is made again from scratch, so that it never holds
# headers of kernels no longer tested.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernels.env
. "$top/kernels.env"
cache=${PISTEER_CACHE:-/var/cache/pisteer}
root=$cache/bookworm
want="headers $KVER_61=$PKGVER_61"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

[ "$(cat "$root/.complete" 2>/dev/null)" != "$want" ] || exit 0
# Two make checks at once (their deps.sh) must not debootstrap into one
# directory together: the second waits, then finds the root made.
as_root mkdir -p "$cache"
as_root touch "$cache/.bookworm.lock"
exec 9<"$cache/.bookworm.lock"
flock 9
[ "$(cat "$root/.complete" 2>/dev/null)" != "$want" ] || exit 0

# The archive (and its security part) the machine already uses.
uris=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
uris="$uris $(awk '$1 == "deb" { print $2 }' /etc/apt/sources.list 2>/dev/null || true)"
mirror=$(printf '%s\n' "$uris" | tr -s ' \t' '\n' | grep -m1 '/debian/*$' || true)
security=$(printf '%s\n' "$uris" | tr -s ' \t' '\n' | grep -m1 '/debian-security/*$' || true)
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}

echo "deps: debootstrap bookworm into $root (a few minutes)" >&2
as_root rm -rf "$root"
as_root debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
printf '%s\n' "deb ${mirror%/} bookworm main" "deb ${mirror%/} bookworm-updates main" \
	"deb ${security%/} bookworm-security main" |
	as_root tee "$root/etc/apt/sources.list" >/dev/null
echo "deps: installing linux-headers-$KVER_61 in $root" >&2
as_root chroot "$root" apt-get -q update >&2
as_root chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "linux-headers-$KVER_61=$PKGVER_61" >&2
as_root chroot "$root" apt-get -q clean >&2
printf '%s\n' "$want" | as_root tee "$root/.complete" >/dev/null
