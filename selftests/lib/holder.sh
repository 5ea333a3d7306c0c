# SPDX-License-Identifier: GPL-2.0
# Passthrough VMs held running for shell tests (source it; needs $top).
holder=$top/build/selftests/ptvm_demo

# The 82574Ls bound to vfio-pci, one PCI address a line, in order.
vfio_82574l_bdfs() {
	local d
	for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
		[ "$(cat "$d/device" 2>/dev/null)" = 0x10d3 ] && basename "$d"
	done
}
#
# A holder is a passthrough VM kept running by ptvm_demo -H; we talk to it
# through two FIFOs with the commands ptvm_demo.c lists; closing its
# input ends it.
fifos=$(mktemp -d)
holder_fds=
trap 'rm -rf "$fifos"' EXIT
# holder_start NAME BDF [ARG...]: sets NAME_pid, NAME_in (fd), NAME_out
# (fd); ARGs go to ptvm_demo -H (e.g. -m msi).  With holder_as_pid=PID set,
# the VM runs with that pid (selftests/vm/with_pid.c).
holder_start() {
	local name=$1 bdf=$2 in out line wrap=()
	[ -n "${holder_as_pid:-}" ] && wrap=("$top/build/selftests/with_pid" "$holder_as_pid")
	mkfifo "$fifos/$name.in" "$fifos/$name.out"
	# The new holder must not inherit the other holders' FIFO ends, or
	# closing their input would not end them.
	(
		for fd in $holder_fds; do eval "exec $fd>&-"; done
		exec "${wrap[@]}" "$holder" -H -d "$bdf" "${@:3}" <"$fifos/$name.in" >"$fifos/$name.out"
	) &
	eval "${name}_job=$! ${name}_pid=${holder_as_pid:-$!}"
	exec {in}>"$fifos/$name.in" {out}<"$fifos/$name.out"
	eval "${name}_in=$in ${name}_out=$out"
	holder_fds="$holder_fds $in $out"
	read -r -t 120 -u "$out" line
	[ "$line" = ready ] || ktap_diag "holder $name said '$line'"
}
# holder_stop NAME: end the VM and wait for it
holder_stop() {
	local in out job
	eval "in=\$${1}_in out=\$${1}_out job=\$${1}_job"
	exec {in}>&- {out}<&-
	wait "$job"
}

# vm_id PID: the VM's id as pisteer names it (PID-FD of its kvm-vm file)
vm_id() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = anon_inode:kvm-vm ] && echo "$1-$(basename "$f")"
	done
}

# tell HOLDER CMD ANSWER: send a command to a holder and check its answer
tell() {
	local in out line
	eval "in=\$${1}_in out=\$${1}_out"
	echo "$2" >&"$in"
	read -r -t 60 -u "$out" line
	[ "$line" = "$3" ] || { echo "holder $1 answered '$line' to '$2'"; return 1; }
}

# rebind BDF DRIVER: hand the device to DRIVER (vfio-pci through
# driver_override, any other by clearing it).
rebind() {
	local d=/sys/bus/pci/devices/$1
	if [ "$2" = vfio-pci ]; then echo vfio-pci > "$d/driver_override"; else echo > "$d/driver_override"; fi
	[ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
	echo "$1" > "/sys/bus/pci/drivers/$2/bind" 2>/dev/null ||
		echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = "$2" ]
}

# modcount FILE NAME...: the sum of lines NAME of the module's "name value"
# debugfs file FILE (allocs, scans); nothing when none of them is there.
modcount() {
	local f=$1
	shift
	awk -v names=" $* " 'index(names, " " $1 " ") { n += $2; found = 1 }
		END { if (found) print n }' "/sys/kernel/debug/pisteer/$f"
}

# pisteer's tracepoints, all on, the buffer cleared.  The global clock:
# the default per-CPU one is not synchronised between (emulated) CPUs, so
# events of two CPUs could show in the wrong order.
tracing=/sys/kernel/tracing
trace_start() {
	echo global > "$tracing/trace_clock"
	echo 1 > "$tracing/events/pisteer/enable"
	echo > "$tracing/trace"
}
# wait_trace EVENT VMID N: N lines of pisteer:EVENT for VM VMID within 5 s
wait_trace() {
	local i n
	for i in $(seq 50); do
		n=$(grep -c "$1: .* vm=$2 " "$tracing/trace")
		[ "$n" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "$n pisteer:$1 events for VM $2, expected $3"
	grep pisteer "$tracing/trace" | tail -n 12
	return 1
}

# routes_are PID V0 V1 ...: the module's table (debugfs, builtins only: no
# fork to measure) has exactly one vector per index for VM PID, vector i
# routed to vCPU Vi.
routes_are() {
	local pid=$1 vm dev type idx irq gsi gvec dest vcpu rest n=0 table
	shift
	local want=("$@")
	# One read of the whole file: a line-by-line read seeks back after
	# each line, and each seek makes seq_file run the scan again.
	IFS= read -r -d '' table < /sys/kernel/debug/pisteer/vectors
	while read -r vm dev type idx irq gsi gvec dest vcpu rest; do
		[ "${vm%%-*}" = "$pid" ] || continue
		[ "$vcpu" = "${want[$idx]:-}" ] || return 1
		n=$((n + 1))
	done <<< "$table"
	[ "$n" -eq "${#want[@]}" ]
}

# reroute_within HOLDER PID MS V0 V1 ...: make HOLDER swap its routes and
# wait until the module shows them, at most MS ms after the holder said the
# routes were set; the ms taken are appended to $route_log.
reroute_within() {
	local h=$1 pid=$2 ms=$3 t0 t
	shift 3
	tell "$h" r rerouted || return 1
	t0=${EPOCHREALTIME/./}
	until routes_are "$pid" "$@"; do
		t=${EPOCHREALTIME/./}
		if [ $(((10#$t - 10#$t0) / 1000)) -gt "$ms" ]; then
			echo "routes of VM $pid not $* after $ms ms:"
			cat /sys/kernel/debug/pisteer/vectors
			return 1
		fi
	done
	t=${EPOCHREALTIME/./}
	echo "$(((10#$t - 10#$t0) / 1000))" >> "$route_log"
}
