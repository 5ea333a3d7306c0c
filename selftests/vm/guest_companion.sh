#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest_companion: pisteer_guest.ko and `pisteer guest` with real drivers.
# The rig's own kernel plays the guest: its 82574Ls are given back to the
# e1000e driver (MSI-X: rx, tx and "other" vectors), its NVMe controller
# brings kernel-managed vectors, soft-RoCE an RDMA device name (resolved by
# the CLI: the module needs no ib_core and knows no RDMA names).  Traffic
# is ping to the slirp gateway.  Attach races driver unbinds; an NVMe reset
# and e1000e in MSI mode (IntMode=1, whose "up" frees and allocates its
# vector again) reallocate vectors under an attached device.  At the end
# the 82574Ls go back to vfio-pci.
. "$(dirname "$0")/../lib/rigtest.sh" holder

ko=$top/build/modules/$(uname -r)/guest/pisteer_guest.ko
pg=/sys/kernel/pisteer
plan=33

mapfile -t nics < <(vfio_82574l_bdfs)
modprobe nvme
for _ in $(seq 50); do [ -e /sys/class/nvme/nvme0/device ] && break; sleep 0.1; done
nvme=$(basename "$(readlink -f /sys/class/nvme/nvme0/device 2>/dev/null)" 2>/dev/null)

ktap_plan $plan
if [ "${#nics[@]}" -lt 2 ] || [ ! -f "$ko" ]; then
	ktap_diag "needs two 82574Ls on vfio-pci (found ${#nics[@]}) and $ko"
	while [ "$__ktap_n" -lt $plan ]; do ktap_skip "rig without two 82574Ls or module"; done
	ktap_finish
fi
a=${nics[0]} b=${nics[1]}

netdev_of() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n 1; }

# wr_err FILE VALUE ERRTEXT: writing VALUE and a newline (as echo does) to
# FILE fails with that error.
wr_err() {
	local out
	out=$( { printf '%s\n' "$2" > "$1"; } 2>&1) && { echo "writing '$2' to $1 succeeded"; return 1; }
	case "$out" in
	*"$3"*) return 0 ;;
	*) echo "writing '$2' to $1: '$out', expected '$3'"; return 1 ;;
	esac
}

# irq_cpu_counts IRQ: its per-CPU counts from /proc/interrupts, blank-separated.
irq_cpu_counts() {
	awk -v irq="$1:" -v n="$(nproc)" '$1 == irq { s = $2; for (i = 3; i <= n + 1; i++) s = s " " $i; print s }' /proc/interrupts
}
qdir() { echo "$pg/devices/$1/queues/$2"; }

# A guest without an RDMA stack: nothing of it loaded, none pulled in.
# unload_with_holders MOD: rmmod MOD after every module that holds it
# (whatever earlier tests loaded: rxe, uverbs and the like, per kernel).
unload_with_holders() {
	local h
	grep -qw "^$1" /proc/modules || return 0
	for h in /sys/module/"$1"/holders/*; do
		[ -e "$h" ] || continue
		unload_with_holders "${h##*/}" || return 1
	done
	rmmod "$1" || { echo "cannot rmmod $1"; return 1; }
}
insmod_no_ib_core() {
	unload_with_holders ib_core || return 1
	grep -qw '^ib_core' /proc/modules && { echo "ib_core still loaded"; return 1; }
	insmod "$ko" || return 1
	[ -d "$pg" ] || { echo "no $pg"; return 1; }
	lsmod | grep -qw ib_core && { echo "ib_core loaded after insmod"; lsmod; return 1; }
	return 0
}
modprobe e1000e
ktap_check "bare insmod pisteer_guest.ko with ib_core not loaded; ib_core stays out" insmod_no_ib_core

ktap_check "attach of an unknown name: ENODEV, nothing attached" bash -c "
	$(declare -f wr_err); wr_err $pg/attach nosuchdev0 'No such device' &&
	[ -z \"\$(ls $pg/devices)\" ]"
no_driver() {
	[ ! -e /sys/bus/pci/devices/0000:00:00.0/driver ] || { echo "the host bridge has a driver"; return 1; }
	dmesg -c >/dev/null
	wr_err "$pg/attach" 0000:00:00.0 'No such device' || return 1
	dmesg | grep -q '0000:00:00.0: no driver is bound to the device: bind its driver first' ||
		{ echo "kernel log:"; dmesg | grep pisteer_guest; return 1; }
	[ -z "$(ls "$pg/devices")" ] || { echo "attached: $(ls "$pg/devices")"; return 1; }
}
ktap_check "attach of a device with no driver bound (host bridge): ENODEV, logged, nothing attached" no_driver
ktap_check "attach of a device whose driver has MSI/MSI-X off (idle vfio-pci NIC): ENXIO" bash -c "
	$(declare -f wr_err); wr_err $pg/attach $b 'No such device or address' && [ -z \"\$(ls $pg/devices)\" ]"
ktap_check "attach of garbage and of an over-long name: EINVAL" bash -c "
	$(declare -f wr_err); wr_err $pg/attach '' 'Invalid argument' &&
	wr_err $pg/attach 'a b' 'Invalid argument' &&
	wr_err $pg/attach $(printf 'x%.0s' $(seq 80)) 'Invalid argument'"

t0=$SECONDS
rebind "$a" e1000e
nd=$(netdev_of "$a")
ip link set "$nd" up && ip addr add 10.0.2.15/24 dev "$nd"
ktap_diag "$a on e1000e as $nd in $((SECONDS - t0)) s"

ktap_check "attach $a by PCI address" bash -c "echo $a > $pg/attach && test -d $pg/devices/$a/queues/0"

# The queues are the device's MSI-X vectors, named as /proc/interrupts names them.
check_queues() {
	local want got q irq name
	want=$(ls "/sys/bus/pci/devices/$a/msi_irqs" | sort -n | tr '\n' ' ')
	got=$(cat "$pg"/devices/"$a"/queues/*/irq | sort -n | tr '\n' ' ')
	[ "$want" = "$got" ] || { echo "queue IRQs '$got', device MSI-X IRQs '$want'"; return 1; }
	for q in "$pg"/devices/"$a"/queues/*; do
		irq=$(cat "$q/irq")
		name=$(awk -v irq="$irq:" '$1 == irq { print $NF }' /proc/interrupts)
		[ "$(cat "$q/name")" = "$name" ] || { echo "queue ${q##*/}: '$(cat "$q/name")', /proc/interrupts: '$name'"; return 1; }
	done
	# Ordered by name: the "other" vector, then rx, then tx.
	got=$(cat "$pg/devices/$a/queues/0/name" "$pg/devices/$a/queues/1/name" \
		"$pg/devices/$a/queues/2/name" | tr '\n' ' ')
	[ "$got" = "$nd $nd-rx-0 $nd-tx-0 " ] || { echo "queue order: $got"; return 1; }
	[ "$(cat "$pg/devices/$a/queues/"*/single_dest | sort -u)" = 1 ] ||
		{ echo "single_dest: $(cat "$pg/devices/$a/queues/"*/single_dest)"; return 1; }
}
ktap_check "queues = the device's MSI-X IRQs, with the driver's names, ordered by name" check_queues
ktap_check "attach twice (by address, by netdev name): EEXIST" bash -c "
	$(declare -f wr_err); wr_err $pg/attach $a 'File exists' && wr_err $pg/attach $nd 'File exists'"
ktap_check "detach, then attach by netdev name $nd" bash -c "
	echo $a > $pg/detach && ! test -e $pg/devices/$a && echo $nd > $pg/attach && test -d $pg/devices/$a"
ktap_check "detach of a device not attached: ENOENT" bash -c "
	$(declare -f wr_err); wr_err $pg/detach $b 'No such file or directory'"

check_status_json() {
	local js irqs want
	js=$("$cli" guest status --json) || return 1
	irqs=$(jq -r --arg d "$a" '.[] | select(.device == $d) | .queues | map(.irq) | join(" ")' <<<"$js")
	want=$(for q in 0 1 2; do cat "$(qdir "$a" $q)/irq"; done | tr '\n' ' ')
	[ "$irqs " = "$want" ] || { echo "status --json IRQs '$irqs', sysfs '$want'"; return 1; }
	"$cli" guest status | grep -q "^$a .* $nd-rx-0 " || { "$cli" guest status; return 1; }
}
ktap_check "pisteer guest status (table and --json) shows the queues" check_status_json

rxq=$(qdir "$a" 1) txq=$(qdir "$a" 2)
rx=$(cat "$rxq/irq") tx=$(cat "$txq/irq")
check_set() {
	"$cli" guest set "$nd" 1 1 >/dev/null || return 1
	[ "$(cat "/proc/irq/$rx/effective_affinity_list")" = 1 ] &&
		[ "$(cat "$rxq/cpu")" = 1 ] && [ "$(cat "$rxq/effective_cpu")" = 1 ] ||
		{ echo "rx irq $rx: cpu $(cat "$rxq/cpu"), effective $(cat "/proc/irq/$rx/effective_affinity_list")"; return 1; }
}
ktap_check "pisteer guest set $nd 1 1: rx IRQ effective affinity is CPU 1" check_set

# offset Q: /proc/interrupts total of queue Q's IRQ minus the queue's count,
# read with no interrupt in between (the two /proc reads agree).
offset() {
	local irq p1 p2 c i
	irq=$(cat "$(qdir "$a" "$1")/irq")
	for i in $(seq 20); do
		p1=$(irq_cpu_counts "$irq")
		c=$(cat "$(qdir "$a" "$1")/count")
		p2=$(irq_cpu_counts "$irq")
		[ "$p1" = "$p2" ] && { echo $(( $(tr ' ' '+' <<<"$p1") - c )); return 0; }
	done
	return 1
}

# traffic_on CPU: spread every queue to CPU, ping; the rx and tx IRQs
# count on CPU only, and each queue's count grew by what the IRQ took.
traffic_on() {
	local cpu=$1 q irq after c0 c1 i
	"$cli" guest spread "$a" "$cpu" >/dev/null || return 1
	declare -A before off
	for q in 1 2; do
		irq=$(cat "$(qdir "$a" $q)/irq")
		before[$q]=$(irq_cpu_counts "$irq")
		off[$q]=$(offset $q) || { echo "queue $q: interrupts never quiet"; return 1; }
	done
	busybox ping -c 10 -i 0.2 -W 2 10.0.2.2 >/dev/null || { echo "ping 10.0.2.2 failed"; return 1; }
	for q in 1 2; do
		irq=$(cat "$(qdir "$a" $q)/irq")
		after=$(irq_cpu_counts "$irq")
		read -ra c0 <<<"${before[$q]}"
		read -ra c1 <<<"$after"
		local grew=0
		for i in "${!c1[@]}"; do
			if [ "$i" -eq "$cpu" ]; then
				grew=$((c1[i] - c0[i]))
			elif [ "${c1[i]}" -ne "${c0[i]}" ]; then
				echo "queue $q (irq $irq) took interrupts on CPU $i: ${before[$q]} -> $after"
				return 1
			fi
		done
		[ "$grew" -gt 0 ] || { echo "queue $q (irq $irq): no interrupt on CPU $cpu"; return 1; }
		[ "$(offset $q)" = "${off[$q]}" ] ||
			{ echo "queue $q: count and /proc/interrupts disagree on what irq $irq took"; return 1; }
		echo "queue $q (irq $irq): $grew interrupts, all on CPU $cpu; count agrees"
	done
}
ktap_check "spread to CPU 1, ping: rx/tx interrupts on CPU 1 only, count matches" traffic_on 1
ktap_check "spread to CPU 0, ping: rx/tx interrupts on CPU 0 only, count matches" traffic_on 0

check_spread_all() {
	local map
	"$cli" guest spread "$a" >/dev/null || return 1
	map=$(awk '{ print $1 ":" $3 ":" $4 }' "$pg/devices/$a/map" | tr '\n' ' ')
	[ "$map" = "0:0:0 1:1:1 2:0:0 " ] || { echo "map after spread all: $map"; cat "$pg/devices/$a/map"; return 1; }
	[ "$(cat "$pg/devices/$a/spread")" = all ]
}
ktap_check "spread all: queues 1:1 round-robin (0,1,0), map shows cpu and effective" check_spread_all

map_a=$(cat "$pg/devices/$a/map")
bad_cpu_writes() {
	local v
	for v in 0-1 0,1 abc '' 2 -1 4294967296 '1 1'; do
		wr_err "$rxq/cpu" "$v" 'Invalid argument' || return 1
	done
	for v in x '' 0-5 2 'al' '0-1x'; do
		wr_err "$pg/devices/$a/spread" "$v" 'Invalid argument' || return 1
	done
	[ "$(cat "$pg/devices/$a/map")" = "$map_a" ] || { echo "map changed"; return 1; }
}
ktap_check "bad cpu and spread writes: EINVAL, nothing changed" bad_cpu_writes

offline_cpu() {
	local rc=0 before after
	echo 0 > /sys/devices/system/cpu/cpu1/online || { echo "cannot offline CPU 1"; return 1; }
	# Taking CPU 1 down moved its IRQs (the kernel did that); compare from here.
	before=$(cat "$pg/devices/$a/map")
	wr_err "$rxq/cpu" 1 'Invalid argument' || rc=1
	wr_err "$pg/devices/$a/spread" 0-1 'Invalid argument' || rc=1
	after=$(cat "$pg/devices/$a/map")
	echo 1 > /sys/devices/system/cpu/cpu1/online || { echo "cannot online CPU 1"; return 1; }
	[ "$after" = "$before" ] || { echo "map changed: $before -> $after"; rc=1; }
	return $rc
}
ktap_check "offline CPU: set and spread refuse it (EINVAL), affinity unchanged" offline_cpu

check_managed() {
	local before q managed=
	[ -n "$nvme" ] || { echo "no NVMe controller in the rig"; return 1; }
	echo "$nvme" > "$pg/attach" || return 1
	before=$(cat "$pg/devices/$nvme/map")
	for q in "$pg"/devices/"$nvme"/queues/*; do
		[ "$(cat "$q/name")" = nvme0q0 ] && continue
		managed=$q
	done
	[ -n "$managed" ] || { echo "no NVMe I/O queue"; return 1; }
	dmesg -c >/dev/null
	wr_err "$managed/cpu" 0 'Operation not permitted' || return 1
	dmesg | grep -q "managed by the kernel" || { echo "no reason in the kernel log"; return 1; }
	wr_err "$pg/devices/$nvme/spread" all 'Operation not permitted' || return 1
	[ "$(cat "$pg/devices/$nvme/map")" = "$before" ] || { echo "NVMe map changed"; return 1; }
	"$cli" guest set "$nvme" "${managed##*/}" 0 2>&1 | grep -q "kernel-managed"
}
ktap_check "kernel-managed NVMe queue: set and spread EPERM with the reason logged, unchanged" check_managed

# quiet_count DEV Q: "<count> <IRQ total>" of queue Q, read with no
# interrupt in between (the two /proc reads agree).
quiet_count() {
	local irq p1 p2 c
	for _ in $(seq 20); do
		irq=$(cat "$(qdir "$1" "$2")/irq") || return 1
		p1=$(irq_cpu_counts "$irq")
		c=$(cat "$(qdir "$1" "$2")/count") || return 1
		p2=$(irq_cpu_counts "$irq")
		[ -n "$p1" ] && [ "$p1" = "$p2" ] && { echo "$c $(( $(tr ' ' '+' <<<"$p1") ))"; return 0; }
	done
	echo "queue $2 of $1: interrupts never quiet" >&2
	return 1
}

# same_vectors DEV: after reading its generation, the queues are the
# device's MSI/MSI-X IRQs, one directory each, with /proc/interrupts' names.
same_vectors() {
	local dev=$1 want got q irq name
	cat "$pg/devices/$dev/generation" >/dev/null || return 1
	want=$(ls "/sys/bus/pci/devices/$dev/msi_irqs" 2>/dev/null | sort -n | tr '\n' ' ')
	got=$(cat "$pg/devices/$dev/queues/"*/irq 2>/dev/null | sort -n | tr '\n' ' ')
	[ "$want" = "$got" ] || { echo "$dev: queue IRQs '$got', device's '$want'"; return 1; }
	[ "$(ls "$pg/devices/$dev/queues" | wc -l)" -eq "$(wc -w <<<"$want")" ] ||
		{ echo "$dev: queue directories $(ls "$pg/devices/$dev/queues" | tr '\n' ' ')for '$want'"; return 1; }
	[ "$(wc -l < "$pg/devices/$dev/map")" -eq "$(wc -w <<<"$want")" ] ||
		{ echo "$dev: map:"; cat "$pg/devices/$dev/map"; return 1; }
	for q in "$pg/devices/$dev/queues/"*; do
		[ -e "$q/irq" ] || continue
		irq=$(cat "$q/irq")
		name=$(awk -v irq="$irq:" '$1 == irq { print $NF }' /proc/interrupts)
		[ "$(cat "$q/name")" = "$name" ] || { echo "queue ${q##*/}: '$(cat "$q/name")', /proc/interrupts: '$name'"; return 1; }
	done
}

# An NVMe controller reset frees and allocates the vectors again (same IRQ
# numbers here, counts from zero).  The queue list is read again: one
# generation more, and each count is its new vector's, which took all its
# interrupts after the attach: its /proc/interrupts total.  I/O then
# raises counts within the generation.
nvme_reset() {
	local g0 g1 q cnt tot before=() i=0
	[ -n "$nvme" ] || { echo "no NVMe controller in the rig"; return 1; }
	g0=$(cat "$pg/devices/$nvme/generation") || return 1
	for q in "$pg/devices/$nvme/queues/"*; do
		read -r cnt tot < <(quiet_count "$nvme" "${q##*/}") || return 1
		[ "$cnt" -le "$tot" ] || { echo "queue ${q##*/}: count $cnt above the IRQ's total $tot"; return 1; }
	done
	echo 1 > /sys/class/nvme/nvme0/reset_controller || return 1
	for _ in $(seq 100); do [ "$(cat /sys/class/nvme/nvme0/state)" = live ] && break; sleep 0.1; done
	same_vectors "$nvme" || return 1
	g1=$(cat "$pg/devices/$nvme/generation")
	[ "$g1" -gt "$g0" ] || { echo "generation $g0 -> $g1 across the reset"; return 1; }
	for q in "$pg/devices/$nvme/queues/"*; do
		read -r cnt tot < <(quiet_count "$nvme" "${q##*/}") || return 1
		[ "$cnt" = "$tot" ] || { echo "queue ${q##*/} after the reset: count $cnt, its IRQ took $tot"; return 1; }
		before[i++]=$cnt
	done
	dd if=/dev/nvme0n1 of=/dev/null bs=4k count=256 iflag=direct status=none || return 1
	[ "$(cat "$pg/devices/$nvme/generation")" = "$g1" ] || { echo "generation moved on I/O"; return 1; }
	i=0
	for q in "$pg/devices/$nvme/queues/"*; do
		read -r cnt tot < <(quiet_count "$nvme" "${q##*/}") || return 1
		[ "$cnt" = "$tot" ] && [ "$cnt" -ge "${before[i]}" ] ||
			{ echo "queue ${q##*/} after I/O: count ${before[i]} -> $cnt, IRQ total $tot"; return 1; }
		i=$((i + 1))
	done
	echo "generation $g0 -> $g1; counts after I/O: $(cat "$pg/devices/$nvme/queues/"*/count | tr '\n' ' ')"
}
ktap_check "NVMe reset reallocates vectors: list read again (generation up), counts = new IRQs' totals, grow" nvme_reset

t0=$SECONDS
rebind "$b" e1000e
nd_b=$(netdev_of "$b")
ktap_diag "$b on e1000e as $nd_b in $((SECONDS - t0)) s"
ip link set "$nd_b" up
second_device() {
	local map_before
	map_before=$(cat "$pg/devices/$a/map")
	"$cli" guest attach "$nd_b" >/dev/null || return 1
	"$cli" guest set "$b" 1 1 >/dev/null || return 1
	"$cli" guest set "$b" 2 0 >/dev/null || return 1
	[ "$(cat "$(qdir "$b" 1)/effective_cpu")" = 1 ] && [ "$(cat "$(qdir "$b" 2)/effective_cpu")" = 0 ] ||
		{ cat "$pg/devices/$b/map"; return 1; }
	[ "$(cat "$pg/devices/$a/map")" = "$map_before" ] || { echo "$a changed"; return 1; }
	[ "$("$cli" guest status --json | jq length)" -eq 3 ] || { "$cli" guest status; return 1; }
	"$cli" guest detach "$b" >/dev/null && test -d "$pg/devices/$a" && ! test -e "$pg/devices/$b"
}
ktap_check "second 82574L ($nd_b) attaches, is set and detaches independently" second_device

cli_errors() {
	local out rc
	out=$("$cli" guest set "$a" 7 0 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "has no queue 7" <<<"$out" || { echo "set queue 7: $rc $out"; return 1; }
	out=$("$cli" guest set "$a" 1 x 2>&1); rc=$?
	[ $rc -eq 2 ] || { echo "set CPU x: $rc $out"; return 1; }
	out=$("$cli" guest set "$a" 1 5 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "invalid value" <<<"$out" || { echo "set CPU 5: $rc $out"; return 1; }
	out=$("$cli" guest attach nosuch0 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "named 'nosuch0'" <<<"$out" || { echo "attach nosuch0: $rc $out"; return 1; }
	out=$("$cli" guest spread "$b" 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "not attached" <<<"$out" || { echo "spread on detached: $rc $out"; return 1; }
}
ktap_check "pisteer guest: clear errors (no queue, bad CPU, unknown name, not attached)" cli_errors

modprobe rdma_rxe && rdma link add pgrxe0 type rxe netdev "$nd" && echo "$a" > "$pg/detach"
ktap_diag "soft-RoCE pgrxe0 on $nd: parent $(cat /sys/class/infiniband/pgrxe0/parent 2>&1)"

# The module resolves no RDMA names: written to it, one fails with
# ENODEV (unknown), "rdma:" with EOPNOTSUPP, each logging the way out.
rdma_name_to_module() {
	local before
	before=$(ls "$pg/devices")
	dmesg -c >/dev/null
	wr_err "$pg/attach" pgrxe0 'No such device' || return 1
	wr_err "$pg/attach" rdma:pgrxe0 'Operation not supported' || return 1
	[ "$(ls "$pg/devices")" = "$before" ] || { echo "devices changed: $before -> $(ls "$pg/devices")"; return 1; }
	[ "$(dmesg | grep -c 'pisteer guest attach pgrxe0')" -eq 2 ] ||
		{ echo "kernel log:"; dmesg | grep pisteer_guest; return 1; }
	dmesg | grep -q 'attach rdma:pgrxe0: the module does not resolve RDMA device names: write the PCI address' ||
		{ dmesg | grep pisteer_guest; return 1; }
}
ktap_check "RDMA name written to the module's attach file: ENODEV/EOPNOTSUPP, logged, nothing changed" \
	rdma_name_to_module

# The CLI resolves pgrxe0 to $a (through $nd) for every subcommand.
cli_rdma_name() {
	local out
	out=$("$cli" guest attach pgrxe0) || return 1
	[ "$out" = "pgrxe0 ($a): attached" ] || { echo "attach said: $out"; return 1; }
	test -d "$pg/devices/$a/queues" || { echo "$a not attached"; return 1; }
	"$cli" guest status pgrxe0 | grep -q "^$a .* $nd-rx-0 " || { "$cli" guest status pgrxe0; return 1; }
	"$cli" guest set pgrxe0 1 1 >/dev/null && [ "$(cat "$rxq/effective_cpu")" = 1 ] ||
		{ echo "set pgrxe0 1 1: $(cat "$pg/devices/$a/map")"; return 1; }
	"$cli" guest spread pgrxe0 0 >/dev/null && [ "$(cat "$pg/devices/$a/spread")" = 0 ] &&
		[ "$(cat "$rxq/effective_cpu")" = 0 ] || { echo "spread pgrxe0 0: $(cat "$pg/devices/$a/map")"; return 1; }
	out=$("$cli" guest detach pgrxe0) && [ "$out" = "pgrxe0 ($a): detached" ] &&
		! test -e "$pg/devices/$a" || { echo "detach: $out"; return 1; }
	"$cli" guest attach rdma:pgrxe0 >/dev/null && test -d "$pg/devices/$a"
}
ktap_check "pisteer guest attach/status/set/spread/detach pgrxe0 (soft-RoCE on $nd): resolved to $a" \
	cli_rdma_name
rdma link delete pgrxe0

# Attach in a tight loop while the driver is unbound and bound again: an
# attach either completes before the unbind (which then detaches it) or
# finds no driver; it never leaves the device attached without one.
# Four rounds (an e1000e bind takes seconds under TCG); make soak's
# guest_fuzz stage unbinds and binds for as long as it fuzzes.
attach_race() {
	local i rc=0 stop log bg n
	stop=$(mktemp -u) log=$(mktemp)
	echo "$a" > "$pg/detach"
	dmesg -c >/dev/null
	(
		n=0
		while [ ! -e "$stop" ]; do
			{ echo "$a" > "$pg/attach"; } 2>>"$log" && n=$((n + 1))
		done
		echo "ok $n" >>"$log"
	) &
	bg=$!
	for i in $(seq 4); do
		echo "$a" > /sys/bus/pci/drivers/e1000e/unbind || { echo "unbind failed"; rc=1; break; }
		sleep 0.2
		if test -e "$pg/devices/$a"; then
			echo "round $i: attached with no driver bound"; rc=1
			echo "$a" > "$pg/detach"
		fi
		echo "$a" > /sys/bus/pci/drivers/e1000e/bind || { echo "bind failed"; rc=1; break; }
		for _ in $(seq 50); do test -e "$pg/devices/$a" && break; sleep 0.1; done
		same_vectors "$a" || { echo "round $i: queues not the device's"; rc=1; }
	done
	touch "$stop"
	wait "$bg"
	n=$(awk '$1 == "ok" { print $2 }' "$log")
	echo "$n attaches succeeded; other outcomes: $(grep -v '^ok ' "$log" | sed 's/.*: //' | sort | uniq -c | tr -s ' \n' ' ')"
	if grep -v '^ok ' "$log" | grep -qv 'File exists\|No such device$'; then
		echo "attach failed otherwise:"; grep -v '^ok ' "$log" | sort -u; rc=1
	fi
	[ "${n:-0}" -ge 4 ] || { echo "only ${n:-0} attaches succeeded in 4 rounds"; rc=1; }
	if dmesg | grep -E 'BUG|WARNING|Oops|general protection|refcount_t|list_(add|del) corruption|INFO: task'; then
		echo "kernel log shows a bug"; rc=1
	fi
	# Each attach of $a was detached again, but the one in place now.
	if [ "$(dmesg | grep -c "$a: attached")" -ne "$(( $(dmesg | grep -c "$a: detached") + 1 ))" ]; then
		echo "attached/detached lines:"; dmesg | grep "$a: \(at\|de\)tached" | sort | uniq -c; rc=1
	fi
	rm -f "$log" "$stop"
	nd=$(netdev_of "$a")
	ip link set "$nd" up
	return $rc
}
ktap_check "attach racing driver unbind/bind x4: never attached without a driver, no splat, balanced" attach_race

unbind_with_reader() {
	local m q rc=0
	exec {m}<"$pg/devices/$a/map" {q}<"$(qdir "$a" 1)/count"
	echo "$a" > /sys/bus/pci/drivers/e1000e/unbind
	if test -e "$pg/devices/$a"; then echo "$a still attached after unbind"; rc=1; fi
	if cat <&"$m" >/dev/null 2>&1 && [ -n "$(cat <&"$q" 2>/dev/null)" ]; then
		echo "files held open still read after unbind"; rc=1
	fi
	exec {m}<&- {q}<&-
	dmesg | grep -q "$a: detached (driver unbind)" || { echo "no detach message"; rc=1; }
	return $rc
}
ktap_check "driver unbind while attached with files held open: detached, reads fail" unbind_with_reader

# PCI removal of an attached device (the bus notifier's device-gone path),
# with a queue file held open; a rescan brings the device back.
pci_remove() {
	local f rc=0
	echo "$b" > "$pg/attach" || return 1
	exec {f}<"$(qdir "$b" 0)/irq"
	echo 1 > "/sys/bus/pci/devices/$b/remove"
	if test -e "$pg/devices/$b"; then echo "$b still attached after removal"; rc=1; fi
	if [ -n "$(cat <&"$f" 2>/dev/null)" ]; then echo "held file still reads"; rc=1; fi
	exec {f}<&-
	echo 1 > /sys/bus/pci/rescan
	for _ in $(seq 100); do [ -e "/sys/bus/pci/devices/$b" ] && break; sleep 0.1; done
	[ -e "/sys/bus/pci/devices/$b" ] || { echo "$b did not come back"; rc=1; }
	return $rc
}
ktap_check "PCI removal while attached with a file held open: detached cleanly; rescan restores" pci_remove
# Probed again, it may have another interface name.
for _ in $(seq 100); do nd_b=$(netdev_of "$b"); [ -n "$nd_b" ] && break; sleep 0.1; done

ktap_check "rmmod with devices attached (NVMe) is clean" bash -c "
	rmmod pisteer_guest && ! test -e $pg && ! grep -qw pisteer_guest /proc/modules"

check_no_module() {
	local out rc
	out=$("$cli" guest status 2>&1); rc=$?
	[ $rc -eq 3 ] && grep -q "not loaded" <<<"$out" || { echo "$rc: $out"; return 1; }
}
ktap_check "pisteer guest without the module: exit 3, says so" check_no_module

ktap_check "insmod attach=<nvme>,<netdev>: both attached at load" bash -c "
	[ -n '$nvme' ] && insmod $ko attach=$nvme,$nd_b && test -d $pg/devices/$nvme && test -d $pg/devices/$b &&
	rmmod pisteer_guest"
ktap_check "insmod attach=nosuch0 fails (ENODEV) and leaves nothing" bash -c "
	! insmod $ko attach=nosuch0 2>/dev/null && ! test -e $pg && ! grep -qw pisteer_guest /proc/modules"
ktap_check "insmod attach=rdma:rxe0 fails (EOPNOTSUPP), says to use the PCI address or the CLI" bash -c "
	dmesg -c >/dev/null; ! insmod $ko attach=rdma:rxe0 2>/dev/null && ! test -e $pg &&
	dmesg | grep -q 'attach=rdma:rxe0: error -95' &&
	dmesg | grep -q 'write the PCI address (see /sys/class/infiniband/rxe0/device), or run .pisteer guest attach rxe0.'"

# e1000e with IntMode=1 uses one MSI vector, allocated at probe; bringing
# the interface up tests MSI by freeing it and allocating it again (and
# falls back to INTx, no vector, when the test interrupt does not come).
# The queue list follows: one generation more, the device's vectors now.
msi_mode_up() {
	local g0 g1 nd_a cnt tot
	insmod "$ko" || return 1
	# IntMode is per board, in probe order: the reload probes every
	# driverless 82574L; one that is not then goes next.
	rmmod e1000e && modprobe e1000e IntMode=1,1,1,1 || { echo "cannot reload e1000e with IntMode=1"; return 1; }
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$a/driver")")" = e1000e ] || rebind "$a" e1000e || return 1
	nd_a=$(netdev_of "$a")
	echo "$a" > "$pg/attach" || return 1
	[ "$(ls "$pg/devices/$a/queues")" = 0 ] || { echo "queues in MSI mode: $(ls "$pg/devices/$a/queues")"; return 1; }
	same_vectors "$a" || return 1
	g0=$(cat "$pg/devices/$a/generation")
	ip link set "$nd_a" up || return 1
	same_vectors "$a" || return 1
	g1=$(cat "$pg/devices/$a/generation")
	[ "$g1" -gt "$g0" ] || { echo "generation $g0 -> $g1 across up"; return 1; }
	if [ -e "$pg/devices/$a/queues/0" ]; then
		read -r cnt tot < <(quiet_count "$a" 0) || return 1
		[ "$cnt" = "$tot" ] || { echo "new MSI vector: count $cnt, its IRQ took $tot"; return 1; }
	fi
	echo "generation $g0 -> $g1, queues after up: $(ls "$pg/devices/$a/queues" | wc -l) ($(grep -c "$nd_a" /proc/interrupts) IRQ line(s) named $nd_a)"
	ip link set "$nd_a" down
	rmmod pisteer_guest && rmmod e1000e && modprobe e1000e
}
ktap_check "e1000e IntMode=1: up reallocates the MSI vector; queue list read again (generation up)" msi_mode_up

restore() {
	rebind "$a" vfio-pci && rebind "$b" vfio-pci
}
ktap_check "82574Ls back on vfio-pci" restore
ktap_finish
