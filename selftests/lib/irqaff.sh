# SPDX-License-Identifier: GPL-2.0
# Watching where host IRQs are delivered, for shell tests (source it).
# $irqs holds the IRQ numbers, blank-separated, in the order wanted.
# Builtins only: a fork costs tens of ms under TCG and would be measured.

# effective: the effective CPU of each IRQ of $irqs into $eff ("0 1 ").
effective() {
	local i c
	eff=
	for i in $irqs; do
		read -r c < "/proc/irq/$i/effective_affinity_list"
		eff+="$c "
	done
}

# expect_effective WANT MS: wait up to MS ms for the effective CPUs to be
# WANT; the ms it took are appended to $aff_log when that is set.
expect_effective() {
	local t0=${EPOCHREALTIME/./} t
	while :; do
		effective
		[ "$eff" = "$1" ] && break
		t=${EPOCHREALTIME/./}
		if [ $(((10#$t - 10#$t0) / 1000)) -gt "$2" ]; then
			echo "effective CPUs '$eff', expected '$1'"
			return 1
		fi
	done
	t=${EPOCHREALTIME/./}
	[ -z "${aff_log:-}" ] || echo "$(((10#$t - 10#$t0) / 1000))" >> "$aff_log"
}

# The affinity of IRQs (all when none given), one "IRQ LIST" a line, in
# the order given (of /proc/irq when none is).
irq_affinities() {
	local f a
	if [ $# -eq 0 ]; then
		set -- /proc/irq/[0-9]*
		set -- "${@#/proc/irq/}"
	fi
	for f in "$@"; do
		read -r a < "/proc/irq/$f/smp_affinity_list" && echo "$f $a"
	done
}
