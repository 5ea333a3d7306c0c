#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything pisteer's build, tests and demo need on Debian 12, and
# fetch the pinned test kernels into the cache.  Idempotent: a second run
# that finds everything in place changes nothing and touches no network.
#
#   scripts/deps.sh            packages + both pinned kernels
#   PISTEER_CACHE=DIR          where kernels are unpacked (default /var/cache/pisteer)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernels.env
. "$top/kernels.env"
cache=${PISTEER_CACHE:-/var/cache/pisteer}

pkgs=(
	build-essential make gcc-12 bc kmod xz-utils zstd cpio gzip perl git
	sparse clang-tidy libjson-c-dev jq groff-base
	qemu-system-x86 busybox-static util-linux iproute2 hostname
	libibverbs-dev rdma-core ibverbs-providers perftest libnuma-dev libhwloc-dev
	"linux-headers-$KVER_61=$PKGVER_61"
	"linux-headers-$KVER_612=$PKGVER_612"
	linux-source-6.12
	libxml2-utils
)

missing=()
for p in "${pkgs[@]}"; do
	name=${p%%=*}
	want=${p#*=}
	have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
	case "$have" in
	ii\ *) [ "$p" = "$name" ] || [ "${have#ii }" = "$want" ] || missing+=("$p") ;;
	*) missing+=("$p") ;;
	esac
done

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	as_root apt-get update -q >&2
	# INITRD=No: the headers pull in a kernel image; this machine never boots it.
	as_root env DEBIAN_FRONTEND=noninteractive INITRD=No \
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# checkpatch.pl and its data files come from the linux-source tarball.
src_dir="$cache/linux-source-6.12"
if [ ! -x "$src_dir/scripts/checkpatch.pl" ]; then
	echo "deps: unpacking checkpatch from linux-source-6.12" >&2
	as_root mkdir -p "$src_dir"
	as_root tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$src_dir" \
		--strip-components=1 --wildcards \
		'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch'
fi

# The test kernels: the image package is never installed on this machine,
# only unpacked, so the rig can boot it and load its modules.
for kver in "$KVER_61" "$KVER_612"; do
	case "$kver" in
	"$KVER_61") pv=$PKGVER_61 ;;
	*) pv=$PKGVER_612 ;;
	esac
	dir="$cache/kernels/$kver"
	[ -f "$dir/.complete-$pv" ] && continue
	echo "deps: fetching linux-image-$kver-unsigned $pv" >&2
	as_root rm -rf "$dir"
	as_root mkdir -p "$dir/deb"
	(cd "$dir/deb" && as_root apt-get download -q "linux-image-$kver-unsigned=$pv" >&2)
	as_root dpkg-deb -x "$dir"/deb/*.deb "$dir"
	as_root rm -rf "$dir/deb"
	as_root depmod -b "$dir" "$kver"
	as_root touch "$dir/.complete-$pv"
done
