#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything pisteer's build, tests and demo need on Debian 12, and
# fetch the pinned test kernels into the cache.  Idempotent: a second run
# that finds everything in place changes nothing and touches no network.
#
#   scripts/deps.sh            packages + the three pinned kernels
#   PISTEER_CACHE=DIR          where kernels are unpacked (default /var/cache/pisteer)
#
# The 7.x kernel comes from trixie-backports, through a private apt state
# under the cache (the machine's own apt sources are never edited), and its
# headers, built with gcc-14, are installed in a trixie chroot
# ($PISTEER_CACHE/trixie) in which scripts/kbuild.sh builds modules for it.
# A bookworm root ($PISTEER_CACHE/bookworm, scripts/bookworm-root.sh) is
# where make check installs the built packages.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernels.env
. "$top/kernels.env"
cache=${PISTEER_CACHE:-/var/cache/pisteer}
# The 7.x pin as written, before any fallback recorded by an earlier run.
pin_kver_7=$KVER_7 pin_pkgver_7=$PKGVER_7

pkgs=(
	build-essential make gcc-12 bc kmod xz-utils zstd cpio gzip perl git
	sparse clang-tidy libjson-c-dev jq groff-base
	# the man pages' and the bash completion's static stages
	man-db bash-completion
	# the status_cli rig test parses status --format prom and openmetrics with its parsers
	python3 python3-prometheus-client
	qemu-system-x86 busybox-static util-linux iproute2 hostname
	# selftests/lib/realvm.sh: the nested guest's agent, and the QMP/QGA client
	qemu-guest-agent socat
	# pisteer pin --domain (libvirt's C API); realvm.sh's libvirt domain
	libvirt-dev libvirt-daemon libvirt-daemon-system libvirt-clients
	libibverbs-dev rdma-core ibverbs-providers perftest libnuma-dev libhwloc-dev
	"linux-headers-$KVER_61=$PKGVER_61"
	"linux-headers-$KVER_612=$PKGVER_612"
	linux-source-6.12
	libxml2-utils debootstrap
	# make deb (dpkg-buildpackage, dh_dkms), its lintian and dkms build checks
	debhelper dh-dkms dkms lintian
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
unpack_kernel_debs() {
	local dir=$1 kver=$2
	as_root mkdir -p "$dir"
	for deb in "$dir"/deb/*.deb; do
		as_root dpkg-deb -x "$deb" "$dir"
	done
	as_root rm -rf "$dir/deb"
	# Merged-/usr packages (7.x): give the rig the paths bookworm's have.
	if [ ! -e "$dir/lib" ] && [ -d "$dir/usr/lib/modules" ]; then
		as_root ln -s usr/lib "$dir/lib"
	fi
	if [ ! -e "$dir/boot/vmlinuz-$kver" ] && [ -f "$dir/lib/modules/$kver/vmlinuz" ]; then
		as_root mkdir -p "$dir/boot"
		as_root ln -s "../lib/modules/$kver/vmlinuz" "$dir/boot/vmlinuz-$kver"
	fi
	as_root depmod -b "$dir" "$kver"
}

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
	unpack_kernel_debs "$dir" "$kver"
	as_root touch "$dir/.complete-$pv"
done

# The clean Debian 12 that make check installs the packages into.
bash "$top/scripts/bookworm-root.sh"

# --- 7.x from trixie-backports -------------------------------------------
resolved=$cache/kernels.resolved.env
KVER_7=$pin_kver_7 PKGVER_7=$pin_pkgver_7
if [ -f "$resolved" ] &&
	[ "$(sed -n 's/^RESOLVED_FOR_7=//p' "$resolved")" = "$pin_kver_7=$pin_pkgver_7" ]; then
	# shellcheck disable=SC1090
	. "$resolved"
	if [ -f "$cache/kernels/$KVER_7/.complete-$PKGVER_7" ] &&
		[ -f "$cache/trixie/.complete-$KVER_7" ]; then
		exit 0
	fi
	KVER_7=$pin_kver_7 PKGVER_7=$pin_pkgver_7
fi

# The archive the machine already uses, for the suites it does not list.
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -m1 '/debian/*$' || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

apt_state=$cache/apt-trixie
apt7() {
	as_root apt-get -q -o Dir::State::Lists="$apt_state/lists" \
		-o Dir::Etc::SourceList="$apt_state/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::Cache="$apt_state/cache" \
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root "$@"
}
apt7_cache() {
	apt-cache -o Dir::State::Lists="$apt_state/lists" \
		-o Dir::Etc::SourceList="$apt_state/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::Cache="$apt_state/cache" \
		-o Dir::State::status=/dev/null "$@"
}
as_root mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial"
printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$mirror" "$mirror" |
	as_root tee "$apt_state/sources.list" >/dev/null
echo "deps: reading trixie and trixie-backports from $mirror (private apt state)" >&2
apt7 update >&2

# Every ABI name of the 7.x kernels the archive serves, with its version.
served_7() {
	apt7_cache pkgnames linux-binary-7. 2>/dev/null |
		sed -n 's/^linux-binary-\(7\.[0-9.]*+deb13-amd64\)$/\1/p' |
		while read -r k; do
			v=$(apt7_cache policy "linux-binary-$k" | awk '/Candidate:/ { print $2 }')
			[ -n "$v" ] && [ "$v" != "(none)" ] && echo "$k $v"
		done
}
have=$(apt7_cache madison "linux-binary-$KVER_7" "linux-headers-$KVER_7" 2>/dev/null |
	awk -v v="$PKGVER_7" '$3 == v { n++ } END { print n + 0 }')
if [ "$have" -lt 2 ]; then
	series=${KVER_7%%[+-]*}
	series=${series%.*}
	all=$(served_7 | sort -V -k1,1)
	pick=$(printf '%s\n' "$all" | awk -v s="$series." 'index($1, s) == 1' | tail -n 1)
	[ -n "$pick" ] || pick=$(printf '%s\n' "$all" | tail -n 1)
	[ -n "$pick" ] || { echo "deps: the archive serves no 7.x kernel" >&2; exit 1; }
	echo "deps: WARNING: $KVER_7 $PKGVER_7 (kernels.env) is no longer served;" \
		"using ${pick% *} ${pick#* }. Move the pin in kernels.env." >&2
	KVER_7=${pick% *} PKGVER_7=${pick#* }
fi
# What the pin came to; scripts/kernels.sh and the Makefile apply it only
# while kernels.env still pins what it was resolved for.
printf 'RESOLVED_FOR_7=%s=%s\nKVER_7=%s\nPKGVER_7=%s\n' "$pin_kver_7" "$pin_pkgver_7" \
	"$KVER_7" "$PKGVER_7" | as_root tee "$resolved.new" >/dev/null

# The rig's 7.x kernel: image, modules and the base files (System.map, config).
dir=$cache/kernels/$KVER_7
if [ ! -f "$dir/.complete-$PKGVER_7" ]; then
	echo "deps: fetching linux-binary/modules/base-$KVER_7 $PKGVER_7" >&2
	as_root rm -rf "$dir"
	as_root mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt7 download "linux-binary-$KVER_7=$PKGVER_7" \
		"linux-modules-$KVER_7=$PKGVER_7" "linux-base-$KVER_7=$PKGVER_7" >&2)
	unpack_kernel_debs "$dir" "$KVER_7"
	as_root touch "$dir/.complete-$PKGVER_7"
fi

# The build chroot: trixie with gcc-14, sparse and the 7.x headers.
root=$cache/trixie
if [ ! -f "$root/.complete-$KVER_7" ]; then
	if [ ! -f "$root/.complete-base" ]; then
		echo "deps: debootstrap trixie into $root (about 2 minutes)" >&2
		as_root rm -rf "$root"
		as_root debootstrap --variant=minbase \
			--include=gcc-14,make,libc6-dev,libelf-dev,bc,kmod,sparse,perl \
			trixie "$root" "$mirror" >&2
		printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$mirror" "$mirror" |
			as_root tee "$root/etc/apt/sources.list" >/dev/null
		as_root touch "$root/.complete-base"
	fi
	echo "deps: installing linux-headers-$KVER_7 $PKGVER_7 in the chroot" >&2
	as_root chroot "$root" apt-get -q update >&2
	as_root chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "linux-headers-$KVER_7=$PKGVER_7" >&2
	as_root chroot "$root" apt-get -q clean >&2
	as_root touch "$root/.complete-$KVER_7"
fi
as_root mv "$resolved.new" "$resolved"
