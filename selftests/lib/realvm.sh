# SPDX-License-Identifier: GPL-2.0
# A real QEMU with a passthrough 82574L and a Linux guest, for the rig's
# shell tests (source it after rigtest.sh; needs $top).  Documented in
# Documentation/rig.md.
#
#   realvm_build_initramfs           the guest's initramfs (once per test)
#   realvm_start NAME [OPTION...]    boot it; sets NAME_pid, NAME_qmp, NAME_qga,
#                                    NAME_bdf, NAME_console, NAME_boot_s
#   realvm_exec NAME [-t S] CMD...   run CMD (sh -c) in the guest: its output,
#                                    its exit status
#   realvm_qmp NAME JSON             one QMP command; prints its reply
#   realvm_stop NAME                 quit through QMP (kill on timeout)
#   realvm_bugs NAME                 the guest console's kernel bug lines
#
# The same guest as a libvirt domain (libvirtd of this host's packages,
# its state on tmpfs; for the rig, where / is read-only):
#   realvm_libvirtd_start            libvirtd with /etc/libvirt, /var/lib,
#                                    log and cache dirs on tmpfs; sets virsh_uri
#   realvm_virt_start NAME [OPTION...]  virsh create of a generated domain
#                                    with the 82574L as a managed='no'
#                                    hostdev and <cputune>; sets NAME_pid,
#                                    NAME_bdf, NAME_console, NAME_boot_s, NAME_xml
#   realvm_virt_destroy NAME         virsh destroy, wait for QEMU to go
#   realvm_libvirtd_stop             stop libvirtd, unmount its tmpfs
#
# The guest kernel is the rig's own (the pinned vmlinuz in the cache), its
# modules the rig's; everything the guest runs is in its initramfs: static
# busybox, e1000e and its dependencies, pisteer_guest.ko from build/modules,
# build/pisteer and qemu-ga with the shared libraries ldd names, and
# selftests/rig/realvm-init.  The console streams into the test output as
# diagnostics ("# NAME| ...").  The rig is TCG: nested KVM is slow there, so
# the timeouts are generous (REALVM_BOOT_TIMEOUT, default 600 s).

realvm_kver=$(uname -r)
realvm_cache=${PISTEER_CACHE:-/var/cache/pisteer}
realvm_kernel=${REALVM_KERNEL:-$realvm_cache/kernels/$realvm_kver/boot/vmlinuz-$realvm_kver}
realvm_boot_timeout=${REALVM_BOOT_TIMEOUT:-600}
# -cpu host without XSAVE: under nested SVM on TCG the XSAVE leaves the
# guest sees are inconsistent (CPUID 0xd sizes of 0 for enabled states);
# 6.12 warns, 7.3 dereferences NULL in fpstate_reset at boot.  Without
# XSAVE, AVX goes too: 7.3's crypto self-tests still ran AVX code (#UD).
realvm_cpu=${REALVM_CPU:-host,xsave=off,avx=off,avx2=off,avx512f=off}
realvm_tmp=$(mktemp -d /tmp/realvm.XXXXXX)
realvm_initrd=
realvm_names=
# The test's own output, for the console and diagnostics, even from inside
# a command substitution (ktap_check) that must not wait for QEMU.
exec {realvm_out}>&1

realvm__diag() { echo "# realvm: $*" >&"$realvm_out"; }
realvm__now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# realvm__copy_bin IRD SRC [DEST]: SRC at DEST (default: SRC) in the
# initramfs IRD, with the shared libraries ldd says it needs.
realvm__copy_bin() {
	local ird=$1 src=$2 dest=${3:-$2} lib libs
	mkdir -p "$ird$(dirname "$dest")" && cp -L "$src" "$ird$dest" || return 1
	libs=$(ldd "$src" 2>&1)
	if grep -q 'not found' <<<"$libs"; then
		echo "$src: $(grep 'not found' <<<"$libs" | tr -s '\t\n' '  ')"
		return 1
	fi
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs"); do
		[ -e "$ird$lib" ] && continue
		mkdir -p "$ird$(dirname "$lib")" && cp -L "$lib" "$ird$lib" || return 1
	done
}

# realvm_build_initramfs: pack the guest's initramfs into $realvm_initrd.
# Prints why and fails when a part is missing.
realvm_build_initramfs() {
	local ird=$realvm_tmp/initramfs m ko name t0
	local gko=$top/build/modules/$realvm_kver/guest/pisteer_guest.ko
	local qga
	t0=$(realvm__now_ms)
	qga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
	[ -f "$realvm_kernel" ] || { echo "no guest kernel $realvm_kernel (scripts/deps.sh)"; return 1; }
	[ -f "$gko" ] || { echo "no $gko (make modules-all)"; return 1; }
	[ -x "$top/build/pisteer" ] || { echo "no $top/build/pisteer (make cli)"; return 1; }
	[ -x "$qga" ] || { echo "no qemu-ga (scripts/deps.sh installs qemu-guest-agent)"; return 1; }
	if ldd /bin/busybox >/dev/null 2>&1; then
		echo "/bin/busybox is not static (scripts/deps.sh installs busybox-static)"
		return 1
	fi
	rm -rf "$ird"
	mkdir -p "$ird"/bin "$ird"/sbin "$ird"/usr/bin "$ird"/usr/sbin "$ird"/etc \
		"$ird"/proc "$ird"/sys "$ird"/dev "$ird"/run "$ird"/tmp "$ird"/lib/modules || return 1
	cp /bin/busybox "$ird/bin/busybox" &&
		cp "$top/selftests/rig/realvm-init" "$ird/init" || return 1
	: > "$ird/etc/realvm-modules"
	# Built-in ones print "builtin NAME" and need nothing.
	for m in virtio_pci virtio_console e1000e; do
		modprobe -S "$realvm_kver" --show-depends "$m" || { echo "no module $m"; return 1; }
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$realvm_tmp/mods" || return 1
	while read -r ko; do
		name=$(basename "$ko")
		name=${name%.xz} name=${name%.zst}
		case "$ko" in
		*.xz) xz -dc "$ko" > "$ird/lib/modules/$name" ;;
		*.zst) zstd -qdc "$ko" > "$ird/lib/modules/$name" ;;
		*) cp "$ko" "$ird/lib/modules/$name" ;;
		esac || return 1
		echo "$name" >> "$ird/etc/realvm-modules"
	done < "$realvm_tmp/mods"
	cp "$gko" "$ird/lib/modules/" && echo pisteer_guest.ko >> "$ird/etc/realvm-modules" || return 1
	realvm__copy_bin "$ird" "$qga" /usr/sbin/qemu-ga &&
		realvm__copy_bin "$ird" "$top/build/pisteer" /usr/sbin/pisteer || return 1
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$realvm_tmp/initramfs.gz" || return 1
	rm -rf "$ird"
	realvm_initrd=$realvm_tmp/initramfs.gz
	realvm__diag "initramfs $(du -k "$realvm_initrd" | cut -f1) KiB, modules:" \
		"$(tr '\n' ' ' < "$realvm_tmp/mods" | sed 's|[^ ]*/||g')pisteer_guest.ko;" \
		"built in $(( $(realvm__now_ms) - t0 )) ms"
}

# realvm__bind_vfio BDF: give BDF to vfio-pci; prints the driver it had
# when that was another one (to give it back).
realvm__bind_vfio() {
	local d=/sys/bus/pci/devices/$1 cur
	cur=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)
	[ "$cur" = vfio-pci ] && return 0
	modprobe vfio-pci || return 1
	echo vfio-pci > "$d/driver_override" || return 1
	[ -n "$cur" ] && { echo "$1" > "$d/driver/unbind" || return 1; }
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || return 1
	echo "${cur:--}"
}

# realvm__stream NAME LOG: the console, kept in LOG and shown as diagnostics.
realvm__stream() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >> "$2"
		printf '# %s| %s\n' "$1" "$line"
	done
}

# realvm__chan_open NAME KIND SOCKET: a lasting connection to a QEMU socket
# (socat between two FIFOs); sets NAME_KIND_in/_out (fds) and _socat (pid).
realvm__chan_open() {
	local name=$1 kind=$2 sock=$3 dir i in out
	eval "dir=\$${name}_dir"
	for i in $(seq 100); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	[ -S "$sock" ] || { echo "no socket $sock"; return 1; }
	mkfifo "$dir/$kind.in" "$dir/$kind.out" || return 1
	socat -t 2 "UNIX-CONNECT:$sock" STDIO <"$dir/$kind.in" >"$dir/$kind.out" 2>"$dir/$kind.err" &
	eval "${name}_${kind}_socat=$!"
	exec {in}>"$dir/$kind.in" {out}<"$dir/$kind.out"
	eval "${name}_${kind}_in=$in ${name}_${kind}_out=$out"
}

realvm__chan_close() {
	local name=$1 kind=$2 in out pid
	eval "in=\${${name}_${kind}_in:-} out=\${${name}_${kind}_out:-} pid=\${${name}_${kind}_socat:-}"
	[ -n "$in" ] && exec {in}>&-
	[ -n "$out" ] && exec {out}<&-
	[ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	eval "${name}_${kind}_in= ${name}_${kind}_out= ${name}_${kind}_socat="
}

# realvm__chan_read NAME KIND TIMEOUT: print the next reply line that is a
# "return" or an "error" (QMP events are skipped).
realvm__chan_read() {
	local name=$1 kind=$2 out line deadline=$((SECONDS + $3))
	eval "out=\$${name}_${kind}_out"
	while [ $SECONDS -lt $deadline ]; do
		IFS= read -r -t "$((deadline - SECONDS))" -u "$out" line || break
		line=${line%$'\r'}
		line=${line#$'\xff'}
		case "$line" in
		*'"event"'*) ;;
		*'"return"'* | *'"error"'*) printf '%s\n' "$line"; return 0 ;;
		esac
	done
	echo "$kind: no reply within $3 s"
	return 1
}

# realvm__chan_req NAME KIND JSON TIMEOUT: send one request line, print
# its reply.
realvm__chan_req() {
	local in
	eval "in=\$${1}_${2}_in"
	printf '%s\n' "$3" >&"$in" || { echo "$2: cannot send"; return 1; }
	realvm__chan_read "$1" "$2" "$4"
}

# realvm_qmp NAME JSON: one QMP command, its reply on stdout; fails on an
# error reply.
realvm_qmp() {
	local r
	r=$(realvm__chan_req "$1" qmp "$2" 60) || { echo "$r"; return 1; }
	printf '%s\n' "$r"
	jq -e 'has("return")' <<<"$r" >/dev/null
}

# realvm__qga_sync NAME TIMEOUT: the agent answers, and whatever an
# earlier request left in the channel is read past: guest-sync with a fresh
# id, until the reply carries it.
realvm__qga_sync() {
	local name=$1 id r in deadline=$((SECONDS + $2))
	eval "in=\$${name}_qga_in"
	while [ $SECONDS -lt $deadline ]; do
		id=$((RANDOM * 32768 + RANDOM))
		printf '{"execute":"guest-sync","arguments":{"id":%d}}\n' "$id" >&"$in" || break
		while r=$(realvm__chan_read "$name" qga 5); do
			[ "$(jq -r '.return' <<<"$r" 2>/dev/null)" = "$id" ] && return 0
		done
	done
	echo "the guest agent did not answer within $2 s"
	return 1
}

# realvm_exec NAME [-t SECONDS] CMD...: run CMD (words joined, as ssh does)
# with /bin/sh -c in the guest through the QEMU guest agent; its stdout and
# stderr come out here, its exit status is returned (128+N for signal N).
# 255 with a message on stderr: the agent failed or the command outlived
# the timeout (default 120 s).
realvm_exec() {
	local name=$1 t=120 req r pid deadline
	shift
	[ "${1:-}" = -t ] && { t=$2; shift 2; }
	realvm__qga_sync "$name" 30 >&2 || return 255
	req=$(jq -nc --arg c "$*" '{execute: "guest-exec",
		arguments: {path: "/bin/sh", arg: ["-c", $c], "capture-output": true}}')
	r=$(realvm__chan_req "$name" qga "$req" 30) || { echo "$r" >&2; return 255; }
	pid=$(jq -er '.return.pid' <<<"$r") || { echo "guest-exec: $r" >&2; return 255; }
	deadline=$((SECONDS + t))
	while :; do
		r=$(realvm__chan_req "$name" qga \
			"{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}" 30) ||
			{ echo "$r" >&2; return 255; }
		jq -e '.return.exited' <<<"$r" >/dev/null && break
		if [ $SECONDS -ge $deadline ]; then
			echo "realvm_exec: '$*' still running in the guest after $t s" >&2
			return 255
		fi
		sleep 0.2
	done
	jq -r '.return["out-data"] // ""' <<<"$r" | base64 -d
	jq -r '.return["err-data"] // ""' <<<"$r" | base64 -d >&2
	jq -e '.return.signal' <<<"$r" >/dev/null &&
		return $((128 + $(jq '.return.signal' <<<"$r")))
	return "$(jq '.return.exitcode // 255' <<<"$r")"
}

# realvm_start NAME [--bdf BDF] [--addr CIDR] [--timeout S] [-- QEMU_ARG...]:
# start qemu-system-x86_64 (KVM, -cpu $realvm_cpu, 2 vCPUs, 384 MiB) with the
# 82574L BDF (default: the first one) passed through, bound to vfio-pci
# first if it is not; wait for the guest's REALVM-READY.  Sets NAME_pid
# (QEMU), NAME_qmp and NAME_qga (sockets), NAME_bdf, NAME_console (the
# console log), NAME_boot_s (QEMU start to ready).  Fails with a message.
realvm_start() {
	local name=$1 bdf= addr=10.0.2.15/24 t=$realvm_boot_timeout dir prev pid t0 log
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--bdf) bdf=$2; shift 2 ;;
		--addr) addr=$2; shift 2 ;;
		--timeout) t=$2; shift 2 ;;
		--) shift; break ;;
		*) echo "realvm_start: unknown option $1"; return 2 ;;
		esac
	done
	case "$name" in
	[A-Za-z_]*) ;;
	*) echo "realvm_start: NAME must be a shell name: $name"; return 2 ;;
	esac
	[ -n "$realvm_initrd" ] || realvm_build_initramfs || return 1
	if [ -z "$bdf" ]; then
		local d
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] &&
				{ bdf=${d##*/}; break; }
		done
		[ -n "$bdf" ] || { echo "realvm_start: no 82574L (8086:10d3) here"; return 1; }
	fi
	prev=$(realvm__bind_vfio "$bdf") || { echo "realvm_start: cannot bind $bdf to vfio-pci"; return 1; }
	dir=$realvm_tmp/$name
	log=$dir/console.log
	rm -rf "$dir" && mkdir -p "$dir" && : > "$log" || return 1
	eval "${name}_dir=\$dir ${name}_bdf=\$bdf ${name}_prev_driver=\$prev ${name}_console=\$log"
	eval "${name}_qmp=\$dir/qmp.sock ${name}_qga=\$dir/qga.sock"
	t0=$(realvm__now_ms)
	qemu-system-x86_64 -accel kvm -cpu "$realvm_cpu" -smp 2 -m 384 \
		-name "guest=$name,debug-threads=on" \
		-nodefaults -display none -no-reboot \
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" \
		-chardev "socket,id=qga0,path=$dir/qga.sock,server=on,wait=off" \
		-device virtio-serial-pci,id=vser0 \
		-device virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0 \
		-chardev stdio,id=con0,signal=off -serial chardev:con0 \
		-device "vfio-pci,host=$bdf,rombar=0" \
		-kernel "$realvm_kernel" -initrd "$realvm_initrd" \
		-append "console=ttyS0 panic=-1 ${REALVM_APPEND:-quiet} realvm.addr=$addr" \
		"$@" </dev/null > >(realvm__stream "$name" "$log" >&"$realvm_out") 2>&1 &
	pid=$!
	eval "${name}_pid=$pid"
	realvm_names="$realvm_names $name"
	realvm__diag "$name: QEMU $pid, $bdf passed through${prev:+ (was on $prev)}"
	while :; do
		grep -q '^REALVM-READY' "$log" && break
		if grep -q '^REALVM-FAIL' "$log"; then
			echo "realvm_start: the guest failed: $(grep '^REALVM-FAIL' "$log")"
			return 1
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			echo "realvm_start: QEMU exited ($?) before the guest was ready"
			return 1
		fi
		if [ $(( $(realvm__now_ms) - t0 )) -gt $((t * 1000)) ]; then
			echo "realvm_start: the guest was not ready after $t s"
			return 1
		fi
		sleep 0.5
	done
	eval "${name}_boot_s=$(( ($(realvm__now_ms) - t0 + 500) / 1000 ))"
	realvm__chan_open "$name" qmp "$dir/qmp.sock" || return 1
	local greet
	IFS= read -r -t 30 -u "$(eval "echo \$${name}_qmp_out")" greet
	case "$greet" in
	*'"QMP"'*) ;;
	*) echo "realvm_start: no QMP greeting ($greet)"; return 1 ;;
	esac
	realvm_qmp "$name" '{"execute":"qmp_capabilities"}' >/dev/null || return 1
	realvm__chan_open "$name" qga "$dir/qga.sock" &&
		realvm__qga_sync "$name" 60 || return 1
	eval "realvm__diag \"$name: ready after \$${name}_boot_s s\""
}

# realvm_stop NAME [TIMEOUT]: quit through QMP, wait for QEMU (kill -9
# after TIMEOUT, default 60 s), give the NIC back to the driver it had
# before realvm_start.  Fails when QEMU had to be killed or did not exit 0.
realvm_stop() {
	local name=$1 t=${2:-60} pid bdf prev rc=0 deadline d
	eval "pid=\${${name}_pid:-} bdf=\${${name}_bdf:-} prev=\${${name}_prev_driver:-}"
	[ -n "$pid" ] || { echo "realvm_stop: $name is not running"; return 1; }
	realvm_qmp "$name" '{"execute":"quit"}' >/dev/null ||
		echo "realvm_stop: QMP quit got no reply"
	deadline=$((SECONDS + t))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "realvm_stop: QEMU $pid still there after $t s: killed"
		kill -9 "$pid"
		rc=1
	fi
	wait "$pid" || { echo "realvm_stop: QEMU exited with status $?"; rc=1; }
	realvm__chan_close "$name" qmp
	realvm__chan_close "$name" qga
	eval "${name}_pid="
	realvm_names=$(tr ' ' '\n' <<<"$realvm_names" | grep -vx "$name" | tr '\n' ' ')
	if [ -n "$prev" ]; then
		d=/sys/bus/pci/devices/$bdf
		echo > "$d/driver_override"
		echo "$bdf" > "$d/driver/unbind"
		[ "$prev" = - ] || echo "$bdf" > "/sys/bus/pci/drivers/$prev/bind" ||
			{ echo "realvm_stop: $bdf not back on $prev"; rc=1; }
	fi
	return $rc
}

# realvm_bugs NAME: the lines of the guest's console that show a kernel
# bug (the patterns selftests/rig/vm-run looks for); fails when none.
realvm_bugs() {
	local log bugs='(^|[^A-Za-z_])BUG[: ]|WARNING:|Oops|general protection fault'
	bugs+='|soft lockup|hard LOCKUP|rcu.*(stall|self-detected)|refcount_t'
	bugs+='|list_(add|del) corruption|Kernel panic'
	eval "log=\$${1}_console"
	grep -aE "$bugs" "$log"
}

# --- the same guest under libvirt ---------------------------------------
#
# libvirtd is Debian's (libvirt-daemon-system), its configuration, state,
# logs and cache on tmpfs mounted over /etc/libvirt, /var/lib/libvirt,
# /var/log/libvirt, /var/cache/libvirt and /run/libvirt: the rig's root is
# read-only, and the test must not see (or change) a libvirt of the host.
# The mounts need a mount namespace of the test's own (unshare -m).
# cgroup v2 is mounted on /sys/fs/cgroup if it is not, with the cpu and
# cpuset controllers enabled, so that libvirt makes its machine cgroups
# (/machine/qemu-N-NAME.libvirt-qemu/{emulator,vcpuN}) as on a host.
realvm_lv_dirs="/etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt"
realvm_lv_pid=
realvm_lv_mounted=
realvm_lv_domains=

# realvm_libvirtd_start [--hook FILE]: start libvirtd (FILE installed as
# the QEMU hook /etc/libvirt/hooks/qemu.d/pisteer first: libvirt looks for
# hooks when it starts).  Exports LIBVIRT_DEFAULT_URI; fails with a
# message and libvirtd's log.
realvm_libvirtd_start() {
	local hook= d i
	while [ $# -gt 0 ]; do
		case "$1" in
		--hook) hook=$2; shift 2 ;;
		*) echo "realvm_libvirtd_start: unknown option $1"; return 2 ;;
		esac
	done
	command -v libvirtd >/dev/null && command -v virsh >/dev/null ||
		{ echo "no libvirtd or virsh (scripts/deps.sh installs libvirt-daemon-system, libvirt-clients)"; return 1; }
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
		{ echo "realvm_libvirtd_start: not in a mount namespace of its own (unshare -m): it mounts over /etc/libvirt"; return 1; }
	if [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "cannot mount cgroup2"; return 1; }
	fi
	for d in cpuset cpu; do
		grep -qw "$d" /sys/fs/cgroup/cgroup.subtree_control ||
			echo "+$d" > /sys/fs/cgroup/cgroup.subtree_control ||
			{ echo "cannot enable the $d cgroup controller"; return 1; }
	done
	for d in $realvm_lv_dirs; do
		[ -d "$d" ] || mkdir -p "$d" 2>/dev/null ||
			{ echo "no $d to mount over (libvirt-daemon-system installs it)"; return 1; }
		mount -t tmpfs -o mode=0755 tmpfs "$d" || { echo "cannot mount tmpfs on $d"; return 1; }
		realvm_lv_mounted="$d $realvm_lv_mounted"
	done
	mkdir -p /etc/libvirt/hooks/qemu.d /var/log/libvirt/qemu || return 1
	cat > /etc/libvirt/libvirtd.conf <<-EOC
	unix_sock_group = "root"
	unix_sock_ro_perms = "0770"
	unix_sock_rw_perms = "0770"
	auth_unix_ro = "none"
	auth_unix_rw = "none"
	log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
	EOC
	# No virtlogd, no security driver, no per-domain /dev namespace: the
	# rig has none of their prerequisites and the test needs none.
	cat > /etc/libvirt/qemu.conf <<-EOC
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	namespaces = [ ]
	stdio_handler = "file"
	cgroup_controllers = [ "cpu", "cpuset" ]
	EOC
	if [ -n "$hook" ]; then
		cp "$hook" /etc/libvirt/hooks/qemu.d/pisteer &&
			chmod 755 /etc/libvirt/hooks/qemu.d/pisteer || return 1
	fi
	export LIBVIRT_DEFAULT_URI=qemu:///system
	libvirtd </dev/null > "$realvm_tmp/libvirtd.out" 2>&1 &
	realvm_lv_pid=$!
	for i in $(seq 300); do
		virsh -q version >/dev/null 2>&1 && break
		kill -0 "$realvm_lv_pid" 2>/dev/null || break
		sleep 0.2
	done
	if ! virsh -q version >/dev/null 2>&1; then
		echo "libvirtd did not answer within 60 s:"
		tail -n 20 "$realvm_tmp/libvirtd.out" /var/log/libvirt/libvirtd.log 2>/dev/null
		return 1
	fi
	realvm__diag "libvirtd $realvm_lv_pid: $(virsh version 2>/dev/null | grep -i 'running hypervisor' | tr -s ' ')"
}

# realvm_libvirtd_log [N]: the last N (20) lines of libvirtd's log.
realvm_libvirtd_log() {
	tail -n "${1:-20}" /var/log/libvirt/libvirtd.log "$realvm_tmp/libvirtd.out" 2>/dev/null
}

# realvm_libvirtd_stop: destroy what is left, stop libvirtd, unmount.
realvm_libvirtd_stop() {
	local name d pid tl
	for name in $realvm_lv_domains; do
		eval "pid=\${${name}_pid:-} tl=\${${name}_tail:-}"
		[ -n "$tl" ] && kill "$tl" 2>/dev/null
		[ -n "$pid" ] || continue
		virsh -q destroy "$name" >/dev/null 2>&1
		grep -qa qemu "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
		eval "${name}_pid="
	done
	realvm_lv_domains=
	if [ -n "$realvm_lv_pid" ]; then
		kill "$realvm_lv_pid" 2>/dev/null
		wait "$realvm_lv_pid" 2>/dev/null
		realvm_lv_pid=
	fi
	for d in $realvm_lv_mounted; do
		umount "$d" || umount -l "$d"
	done
	realvm_lv_mounted=
}

# realvm__cpu_xml: <cpu> for $realvm_cpu ("host,FEATURE=off,...").
realvm__cpu_xml() {
	local f
	echo "  <cpu mode='host-passthrough' check='none'>"
	for f in $(tr ',' ' ' <<<"${realvm_cpu#host}"); do
		case "$f" in
		*=off) echo "    <feature policy='disable' name='${f%=off}'/>" ;;
		*=on) echo "    <feature policy='require' name='${f%=on}'/>" ;;
		esac
	done
	echo "  </cpu>"
}

# realvm__domain_xml NAME BDF VCPUS "PINS" EMULATORPIN CONSOLE ADDR: the
# domain's XML (see realvm_virt_start).
realvm__domain_xml() {
	local name=$1 bdf=$2 vcpus=$3 pins=$4 emu=$5 log=$6 addr=$7 i c b1 b2 b3 b4
	read -r b1 b2 b3 b4 <<<"$(tr ':.' '  ' <<<"$bdf")"
	{
		echo "<domain type='kvm'>"
		echo "  <name>$name</name>"
		echo "  <memory unit='MiB'>384</memory>"
		echo "  <vcpu placement='static'>$vcpus</vcpu>"
		echo "  <cputune>"
		i=0
		for c in ${pins:-$(printf '0 %.0s' $(seq "$vcpus"))}; do
			echo "    <vcpupin vcpu='$i' cpuset='$c'/>"
			i=$((i + 1))
		done
		echo "    <emulatorpin cpuset='$emu'/>"
		echo "  </cputune>"
		echo "  <os>"
		echo "    <type arch='x86_64' machine='pc'>hvm</type>"
		echo "    <kernel>$realvm_kernel</kernel>"
		echo "    <initrd>$realvm_initrd</initrd>"
		echo "    <cmdline>console=ttyS0 panic=-1 ${REALVM_APPEND:-quiet} realvm.addr=$addr</cmdline>"
		echo "  </os>"
		echo "  <features><acpi/><apic/></features>"
		realvm__cpu_xml
		echo "  <clock offset='utc'/>"
		echo "  <on_poweroff>destroy</on_poweroff>"
		echo "  <on_reboot>destroy</on_reboot>"
		echo "  <on_crash>destroy</on_crash>"
		echo "  <devices>"
		echo "    <emulator>$(command -v qemu-system-x86_64)</emulator>"
		echo "    <controller type='usb' model='none'/>"
		echo "    <serial type='file'><source path='$log'/><target port='0'/></serial>"
		echo "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
		echo "    <hostdev mode='subsystem' type='pci' managed='no'>"
		echo "      <source><address domain='0x$b1' bus='0x$b2' slot='0x$b3' function='0x$b4'/></source>"
		echo "      <driver name='vfio'/>"
		echo "      <rom bar='off'/>"
		echo "    </hostdev>"
		echo "    <memballoon model='none'/>"
		echo "  </devices>"
		echo "</domain>"
	}
}

# realvm_virt_start NAME [--bdf BDF] [--vcpus N] [--vcpupin "CPUS..."]
# [--emulatorpin CPUS] [--addr CIDR] [--timeout S]: the guest of
# realvm_start as the transient libvirt domain NAME (virsh create): the
# 82574L BDF (default: the first) as <hostdev managed='no'> (bound to
# vfio-pci first if it is not), <cputune> with a vcpupin per vCPU (the
# words of --vcpupin, default all 0) and an emulatorpin (default: all
# online CPUs), direct kernel boot, the serial console a file streamed
# into the output, the guest agent's channel owned by libvirt.  Waits
# for REALVM-READY.  Sets NAME_pid (QEMU, from libvirt's pid file),
# NAME_bdf, NAME_console, NAME_xml, NAME_boot_s.
realvm_virt_start() {
	local name=$1 bdf= addr=10.0.2.15/24 t=$realvm_boot_timeout vcpus=1 pins= emu dir prev
	local t0 log i c pid
	shift
	emu=$(cat /sys/devices/system/cpu/online)
	while [ $# -gt 0 ]; do
		case "$1" in
		--bdf) bdf=$2; shift 2 ;;
		--vcpus) vcpus=$2; shift 2 ;;
		--vcpupin) pins=$2; shift 2 ;;
		--emulatorpin) emu=$2; shift 2 ;;
		--addr) addr=$2; shift 2 ;;
		--timeout) t=$2; shift 2 ;;
		*) echo "realvm_virt_start: unknown option $1"; return 2 ;;
		esac
	done
	case "$name" in
	[A-Za-z_]*) ;;
	*) echo "realvm_virt_start: NAME must be a shell name: $name"; return 2 ;;
	esac
	[ -n "$realvm_lv_pid" ] || { echo "realvm_virt_start: no libvirtd (realvm_libvirtd_start)"; return 1; }
	[ -n "$realvm_initrd" ] || realvm_build_initramfs || return 1
	if [ -z "$bdf" ]; then
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10d3 ] &&
				{ bdf=${d##*/}; break; }
		done
		[ -n "$bdf" ] || { echo "realvm_virt_start: no 82574L (8086:10d3) here"; return 1; }
	fi
	prev=$(realvm__bind_vfio "$bdf") || { echo "realvm_virt_start: cannot bind $bdf to vfio-pci"; return 1; }
	dir=$realvm_tmp/$name
	log=$dir/console.log
	rm -rf "$dir" && mkdir -p "$dir" && : > "$log" || return 1
	eval "${name}_dir=\$dir ${name}_bdf=\$bdf ${name}_prev_driver=\$prev ${name}_console=\$log"
	eval "${name}_xml=\$dir/domain.xml"
	realvm__domain_xml "$name" "$bdf" "$vcpus" "$pins" "$emu" "$log" "$addr" > "$dir/domain.xml" || return 1
	t0=$(realvm__now_ms)
	if ! virsh -q create "$dir/domain.xml" > "$dir/create.out" 2>&1; then
		echo "realvm_virt_start: virsh create failed: $(cat "$dir/create.out")"
		tail -n 20 "/var/log/libvirt/qemu/$name.log" 2>/dev/null
		realvm_libvirtd_log
		return 1
	fi
	realvm_lv_domains="$realvm_lv_domains $name"
	pid=$(cat "/run/libvirt/qemu/$name.pid" 2>/dev/null)
	[ -n "$pid" ] || { echo "realvm_virt_start: no /run/libvirt/qemu/$name.pid"; return 1; }
	eval "${name}_pid=$pid"
	tail -n +1 -F "$log" 2>/dev/null > >(realvm__stream "$name" /dev/null >&"$realvm_out") &
	eval "${name}_tail=$!"
	realvm__diag "$name: libvirt domain, QEMU $pid, $bdf as hostdev${prev:+ (was on $prev)}"
	while :; do
		grep -q '^REALVM-READY' "$log" && break
		if grep -q '^REALVM-FAIL' "$log"; then
			echo "realvm_virt_start: the guest failed: $(grep '^REALVM-FAIL' "$log")"
			return 1
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "realvm_virt_start: QEMU exited before the guest was ready:"
			tail -n 20 "/var/log/libvirt/qemu/$name.log" 2>/dev/null
			return 1
		fi
		if [ $(( $(realvm__now_ms) - t0 )) -gt $((t * 1000)) ]; then
			echo "realvm_virt_start: the guest was not ready after $t s"
			return 1
		fi
		sleep 0.5
	done
	eval "${name}_boot_s=$(( ($(realvm__now_ms) - t0 + 500) / 1000 ))"
	eval "realvm__diag \"$name: ready after \$${name}_boot_s s\""
}

# realvm_virt_destroy NAME [TIMEOUT]: virsh destroy, wait for QEMU to go
# (TIMEOUT, default 60 s), the console stream stopped, the NIC back on the
# driver it had.  Fails with a message.
realvm_virt_destroy() {
	local name=$1 t=${2:-60} pid bdf prev tl rc=0 deadline d
	eval "pid=\${${name}_pid:-} bdf=\${${name}_bdf:-} prev=\${${name}_prev_driver:-} tl=\${${name}_tail:-}"
	[ -n "$pid" ] || { echo "realvm_virt_destroy: $name is not running"; return 1; }
	virsh -q destroy "$name" || rc=1
	deadline=$((SECONDS + t))
	while [ -e "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	[ ! -e "/proc/$pid" ] || { echo "realvm_virt_destroy: QEMU $pid still there after $t s"; rc=1; }
	[ -n "$tl" ] && { kill "$tl" 2>/dev/null; wait "$tl" 2>/dev/null; }
	eval "${name}_pid= ${name}_tail="
	realvm_lv_domains=$(tr ' ' '\n' <<<"$realvm_lv_domains" | grep -vx "$name" | tr '\n' ' ')
	if [ -n "$prev" ]; then
		d=/sys/bus/pci/devices/$bdf
		echo > "$d/driver_override"
		echo "$bdf" > "$d/driver/unbind"
		[ "$prev" = - ] || echo "$bdf" > "/sys/bus/pci/drivers/$prev/bind" ||
			{ echo "realvm_virt_destroy: $bdf not back on $prev"; rc=1; }
	fi
	return $rc
}

# Whatever is still running when the test ends is killed, then the
# temporary files go; a trap the test had already set still runs.
realvm__cleanup() {
	local name pid
	realvm_libvirtd_stop >/dev/null 2>&1
	for name in $realvm_names; do
		eval "pid=\${${name}_pid:-}"
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		realvm__chan_close "$name" qmp
		realvm__chan_close "$name" qga
	done
	rm -rf "$realvm_tmp"
}
realvm__prev_trap() {
	local t
	t=$(trap -p EXIT)
	[ -n "$t" ] || return 0
	eval "set -- $t"
	printf '%s' "$3"
}
realvm__at_exit=$(realvm__prev_trap)
trap 'realvm__cleanup; eval "$realvm__at_exit"' EXIT
