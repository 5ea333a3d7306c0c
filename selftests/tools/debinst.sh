#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The built packages on a clean Debian 12, as an operator installs them:
# in a throwaway overlay on the bookworm root scripts/bookworm-root.sh made
# (minbase, the pinned 6.1 kernel's headers, nothing else), `apt-get
# install ./pisteer_*.deb ./pisteer-dkms_*.deb` with the dependencies from
# the archive; then the CLI runs, every file is where the packages say and
# is the tree's, the package's DKMS build made both modules for each kernel
# whose headers are there, and `apt-get purge` leaves no pisteer file.
#
# --no-install-recommends: the packages' Depends alone must be enough (and
# dkms's Recommends would bring the newest bookworm headers in too).  The
# archives apt downloads are kept in $PISTEER_CACHE/bookworm-debs (apt
# autoclean drops the outdated ones), so a second run fetches nothing new;
# the root itself is never written to.
#
# usage: debinst.sh PISTEER_DEB PISTEER_DKMS_DEB   (as root)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/ktap.sh
. "$top/selftests/lib/ktap.sh"
# shellcheck source=../../scripts/kernels.sh
. "$top/scripts/kernels.sh"
cache=${PISTEER_CACHE:-/var/cache/pisteer}
base=$cache/bookworm
debs=$cache/bookworm-debs
release=$(cat "$top/VERSION")
kvers=("$KVER_61")

cli_deb=${1:?usage: debinst.sh PISTEER_DEB PISTEER_DKMS_DEB}
dkms_deb=${2:?usage: debinst.sh PISTEER_DEB PISTEER_DKMS_DEB}

# The overlay lives in a mount namespace of its own: whatever happens, it
# is gone with this process.
if [ -z "${DEBINST_NS:-}" ]; then
	DEBINST_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi

t=$(mktemp -d /var/tmp/pisteer-debinst.XXXXXX) || exit 1
r=$t/root
# Never rm through a mount (the bind of /dev): --one-file-system, and
# nothing at all while the root is still mounted.
cleanup() {
	umount -R "$r" 2>/dev/null
	if mountpoint -q "$r"; then
		echo "# $r still mounted: $t left in place"
	else
		rm -rf --one-file-system "$t"
	fi
}
trap cleanup EXIT

# in_root CMD...: CMD in the root, with a clean environment.
in_root() {
	chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# What each package must put where, from the tree: PACKAGE PATH SOURCE.
expected() {
	local f
	for f in "$top"/tools/man/*.8; do
		echo "pisteer /usr/share/man/man8/${f##*/}.gz ${f#"$top"/}"
	done
	echo "pisteer /usr/share/bash-completion/completions/pisteer tools/completion/pisteer"
	echo "pisteer /lib/systemd/system/pisteer.service tools/system/pisteer.service"
	echo "pisteer /etc/pisteer/pisteer.conf tools/system/pisteer.conf"
	echo "pisteer /etc/libvirt/hooks/qemu.d/pisteer tools/hooks/qemu-pisteer"
	echo "pisteer-dkms /usr/lib/modules-load.d/pisteer.conf tools/system/pisteer.modules-load"
}

setup() {
	local want
	want="headers $KVER_61=$PKGVER_61"
	[ "$(cat "$base/.complete" 2>/dev/null)" = "$want" ] ||
		{ echo "no bookworm root for $want in $base: run scripts/deps.sh"; return 1; }
	mkdir -p "$t/upper" "$t/work" "$r" "$debs/partial" || return 1
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$t/upper,workdir=$t/work" "$r" &&
		mount -t proc proc "$r/proc" &&
		mount --bind /dev "$r/dev" &&
		mount --bind "$debs" "$r/var/cache/apt/archives" || return 1
	cp /etc/resolv.conf "$r/etc/resolv.conf" &&
		mkdir "$r/tmp/debs" && cp "$cli_deb" "$dkms_deb" "$r/tmp/debs/"
}

install_pkgs() {
	in_root apt-get -q update >"$t/apt.log" 2>&1 &&
		in_root apt-get install -y -q --no-install-recommends \
			"/tmp/debs/${cli_deb##*/}" "/tmp/debs/${dkms_deb##*/}" >>"$t/apt.log" 2>&1 ||
		{ tail -n 40 "$t/apt.log"; return 1; }
	in_root apt-get -q autoclean >/dev/null 2>&1
	installed pisteer && installed pisteer-dkms
}

installed() {
	local s
	s=$(in_root dpkg-query -W -f '${Status} ${Version}' "$1" 2>&1)
	[ "$s" = "install ok installed $release" ] || { echo "$1: '$s'"; return 1; }
}

cli_version() {
	local out rc abi
	abi=$(awk '/define PISTEER_ABI_MAJOR/ { M = $3 } /define PISTEER_ABI_MINOR/ { m = $3 }
		END { print M "." m }' "$top/uapi/linux/pisteer.h")
	out=$(in_root pisteer --version 2>/dev/null)
	rc=$?
	# 3: no module loaded (none is, in a chroot); the tool's line comes first.
	[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { echo "exit $rc"; return 1; }
	[ "$(printf '%s\n' "$out" | head -n 1)" = "pisteer tool $release (ABI $abi)" ] ||
		{ echo "pisteer --version said: $out"; return 1; }
}

cli_check_help() {
	local out
	out=$(in_root pisteer check --help) || { echo "exit $?"; return 1; }
	[ "$out" = "$("$top/build/pisteer" check --help)" ] ||
		{ echo "the installed pisteer check --help is not the tree's"; return 1; }
}

# PACKAGE PATH SOURCE: PATH is PACKAGE's (dpkg -S), and it is SOURCE
# (gzipped for man pages).
placed() {
	local pkg=$1 path=$2 src=$3 owner
	owner=$(in_root dpkg-query -S "$path" 2>&1) || { echo "$owner"; return 1; }
	[ "$owner" = "$pkg: $path" ] || { echo "dpkg -S $path: $owner"; return 1; }
	case $path in
	*.gz) zcat "$r$path" | cmp - "$top/$src" ;;
	*) cmp "$r$path" "$top/$src" ;;
	esac
}

# The files of one concern, and what more they need.
placed_kind() {
	local kind=$1 pkg path src
	while read -r pkg path src; do
		case $kind:$path in
		man:/usr/share/man/* | completion:*/completions/* | unit:*.service | \
			modload:*/modules-load.d/* | hook:*/hooks/* | conf:/etc/pisteer/*)
			placed "$pkg" "$path" "$src" || return 1 ;;
		esac
	done < <(expected)
	case $kind in
	man)
		# One page per command: nothing more, nothing less.
		[ "$(in_root dpkg -L pisteer | grep -c '^/usr/share/man/man8/')" -eq \
			"$(find "$top/tools/man" -name '*.8' | wc -l)" ] ||
			{ echo "pisteer ships other man pages than tools/man/"; return 1; } ;;
	unit)
		[ -L "$r/etc/systemd/system/multi-user.target.wants/pisteer.service" ] ||
			{ echo "pisteer.service is not enabled"; return 1; } ;;
	hook)
		[ -x "$r/etc/libvirt/hooks/qemu.d/pisteer" ] || { echo "the hook is not executable"; return 1; }
		in_root dpkg-query -W -f '${Conffiles}\n' pisteer | grep -q ' /etc/libvirt/hooks/qemu.d/pisteer ' ||
			{ echo "the hook is no conffile"; return 1; } ;;
	conf)
		in_root dpkg-query -W -f '${Conffiles}\n' pisteer | grep -q ' /etc/pisteer/pisteer.conf ' ||
			{ echo "pisteer.conf is no conffile"; return 1; } ;;
	esac
}

# The package's own DKMS run (its postinst) built and installed both
# modules for KVER, for that kernel.
dkms_built() {
	local kver=$1 st m f
	# (dkms status warns on stderr of what readelf finds wanting.)
	st=$(in_root dkms status -m pisteer -v "$release" -k "$kver" 2>/dev/null)
	case $st in
	"pisteer/$release, $kver, x86_64: installed"*) ;;
	*) echo "dkms status: '$st'"; return 1 ;;
	esac
	for m in pisteer pisteer_guest; do
		f=$(in_root modinfo -k "$kver" -n "$m" 2>&1) || { echo "modinfo $m: $f"; return 1; }
		case $f in
		"/lib/modules/$kver/updates/dkms/$m.ko"*) ;;
		*) echo "$m for $kver is $f, not DKMS's"; return 1 ;;
		esac
		f=$(in_root modinfo -k "$kver" -F vermagic "$m")
		[ "${f%% *}" = "$kver" ] || { echo "$m: vermagic '$f'"; return 1; }
		f=$(in_root modinfo -k "$kver" -F version "$m")
		[ "$f" = "$release" ] || { echo "$m: version '$f', not $release"; return 1; }
	done
}

purge_pkgs() {
	in_root dpkg -L pisteer pisteer-dkms >"$t/files" || return 1
	in_root apt-get purge -y -q pisteer pisteer-dkms >"$t/purge.log" 2>&1 ||
		{ tail -n 40 "$t/purge.log"; return 1; }
}

nothing_left() {
	local out f left=0
	out=$(in_root dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' 'pisteer*' 2>/dev/null)
	[ -z "$out" ] || { echo "dpkg still knows: $out"; left=1; }
	out=$(in_root dpkg -S pisteer 2>/dev/null)
	[ -z "$out" ] || { echo "dpkg -S pisteer: $out"; left=1; }
	out=$(chroot "$r" find /usr /etc /lib/ /var/lib/dkms -name '*pisteer*' 2>&1)
	[ -z "$out" ] || { echo "left behind: $out"; left=1; }
	while read -r f; do
		[ "$f" = /. ] || [ -d "$r$f" ] || [ ! -e "$r$f" ] || { echo "left: $f"; left=1; }
	done <"$t/files"
	return $left
}

ktap_plan $((12 + ${#kvers[@]}))
if ! out=$(setup 2>&1); then
	printf '%s\n' "$out" | sed 's/^/# /'
	ktap_fail "a throwaway overlay on the bookworm root"
	ktap_finish
fi
ktap_ok "a throwaway overlay on the bookworm root"
t0=$SECONDS
ktap_check "apt-get install ./pisteer*.deb: dependencies from the archive, both installed" \
	install_pkgs
ktap_diag "install took $((SECONDS - t0)) s"
ktap_check "pisteer --version names release $release" cli_version
ktap_check "pisteer check --help runs, as the tree's" cli_check_help
ktap_check "man pages: pisteer's, in /usr/share/man/man8, the tree's" placed_kind man
ktap_check "bash completion: pisteer's, the tree's" placed_kind completion
ktap_check "pisteer.service: in /lib/systemd/system, enabled" placed_kind unit
ktap_check "modules-load.d entry: pisteer-dkms's, loads pisteer" placed_kind modload
ktap_check "libvirt hook: /etc/libvirt/hooks/qemu.d/pisteer, executable conffile" placed_kind hook
ktap_check "/etc/pisteer/pisteer.conf: a conffile, the tree's" placed_kind conf
for k in "${kvers[@]}"; do
	ktap_check "dkms status: pisteer/$release installed for $k, both modules, by the postinst" \
		dkms_built "$k"
done
ktap_check "apt-get purge pisteer pisteer-dkms" purge_pkgs
ktap_check "after purge: dpkg knows no pisteer file, none left in /usr /etc /lib /var/lib/dkms" \
	nothing_left
ktap_finish
