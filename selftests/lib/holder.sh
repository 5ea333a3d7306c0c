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
# holder_start NAME BDF: sets NAME_pid, NAME_in (fd), NAME_out (fd)
holder_start() {
	local name=$1 bdf=$2 in out line
	mkfifo "$fifos/$name.in" "$fifos/$name.out"
	# The new holder must not inherit the other holders' FIFO ends, or
	# closing their input would not end them.
	(
		for fd in $holder_fds; do eval "exec $fd>&-"; done
		exec "$holder" -H -d "$bdf" <"$fifos/$name.in" >"$fifos/$name.out"
	) &
	eval "${name}_pid=$!"
	exec {in}>"$fifos/$name.in" {out}<"$fifos/$name.out"
	eval "${name}_in=$in ${name}_out=$out"
	holder_fds="$holder_fds $in $out"
	read -r -t 120 -u "$out" line
	[ "$line" = ready ] || ktap_diag "holder $name said '$line'"
}
# holder_stop NAME: end the VM and wait for it
holder_stop() {
	local in out pid
	eval "in=\$${1}_in out=\$${1}_out pid=\$${1}_pid"
	exec {in}>&- {out}<&-
	wait "$pid"
}

# tell HOLDER CMD ANSWER: send a command to a holder and check its answer
tell() {
	local in out line
	eval "in=\$${1}_in out=\$${1}_out"
	echo "$2" >&"$in"
	read -r -t 60 -u "$out" line
	[ "$line" = "$3" ] || { echo "holder $1 answered '$line' to '$2'"; return 1; }
}
