#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/completion/pisteer under bash-completion's own framework: the
# completion function called as bash calls it (COMP_WORDS, COMP_CWORD,
# COMP_LINE, COMP_POINT) on a fixture /proc and /sys, COMPREPLY checked.
# And against the built pisteer's --help, so that the completion cannot go
# stale: every command pisteer --help lists and every option each
# command's --help names is offered, and nothing else is (a command
# documented in tools/man/ but not in this build is skipped).
#
# usage: completion.sh PATH-TO-pisteer
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/ktap.sh
. "$top/selftests/lib/ktap.sh"
# shellcheck source=../lib/helptext.sh
. "$top/selftests/lib/helptext.sh"

cli=${1:?usage: completion.sh PATH-TO-pisteer}
framework=/usr/share/bash-completion/bash_completion
export LC_ALL=C

if [ ! -f "$framework" ]; then
	echo "1..0 # SKIP no $framework (package bash-completion: scripts/deps.sh)"
	exit 4
fi
# shellcheck disable=SC1090
. "$framework"
# shellcheck source=../../tools/completion/pisteer
. "$top/tools/completion/pisteer"

t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT

# The fixture: two VMs (4242 with a vCPU fd too, 4300), a process with
# only an eventfd; vfio-pci's directory as sysfs has it (its own files
# beside the devices); two RDMA devices; CPUs 0-2 and 5 online; in the
# guest, 0000:00:05.0 attached with three queues and eth1 on PCI.
mkdir -p "$t/proc/4242/fd" "$t/proc/4300/fd" "$t/proc/4301/fd" \
	"$t/sys/bus/pci/drivers/vfio-pci" "$t/sys/class/infiniband/mlx5_0" \
	"$t/sys/class/infiniband/rxe0" "$t/sys/devices/system/cpu" \
	"$t/sys/kernel/pisteer/devices/0000:00:05.0/queues/"{0,1,2} \
	"$t/sys/class/net/eth1/device" "$t/sys/class/net/lo"
ln -s anon_inode:kvm-vm "$t/proc/4242/fd/11"
ln -s anon_inode:kvm-vcpu:0 "$t/proc/4242/fd/12"
ln -s anon_inode:kvm-vm "$t/proc/4300/fd/7"
ln -s 'anon_inode:[eventfd]' "$t/proc/4301/fd/5"
ln -s /dev/null "$t/proc/4301/fd/0"
for f in 0000:3b:00.1 0000:af:10.2 bind unbind new_id remove_id uevent module; do
	: >"$t/sys/bus/pci/drivers/vfio-pci/$f"
done
echo 0-2,5 >"$t/sys/devices/system/cpu/online"
printf ' 45:  1  0  PCI-MSIX-0000:3b:00.1 0-edge  vfio-msix[0](0000:3b:00.1)\n 46:  0  0  IO-APIC  1-edge  i8042\n' \
	>"$t/proc/interrupts"
export PISTEER_PROC=$t/proc PISTEER_SYSFS=$t/sys

# comp WORD...: complete the last word of the command line WORD...,
# as bash does after splitting it at COMP_WORDBREAKS; COMPREPLY sorted,
# one a line.
comp() {
	local w prev=
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	# The line as typed: "--vm=42" is the words --vm, =, 42.
	COMP_LINE=
	for w in "$@"; do
		[ -z "$COMP_LINE" ] || [ "$w" = = ] || [ "$prev" = = ] || COMP_LINE+=" "
		COMP_LINE+=$w
		prev=$w
	done
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_pisteer pisteer "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort -u | sed '/^$/d'
}

# expect DESC "WANT..." WORD...: the completion is exactly WANT.
expect() {
	local desc=$1 want have
	want=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u)
	shift 2
	have=$(comp "$@")
	if [ "$have" = "$want" ]; then
		ktap_ok "$desc"
	else
		ktap_diag "'$*': offered (<) / expected (>):"
		diff <(printf '%s\n' "$have") <(printf '%s\n' "$want") | sed 's/^/# /'
		ktap_fail "$desc"
	fi
}

documented_only() {
	[ -f "$top/tools/man/pisteer-$1.8" ] && ! "$cli" help "$1" >/dev/null 2>&1
}

# The commands: those of pisteer --help and help, the ones documented for
# another branch only reported.
commands_offered() {
	local have want c extra=()
	have=$(comp pisteer "")
	want=$( { "$cli" --help | help_commands; echo help; } | sort -u)
	for c in $(comm -23 <(printf '%s\n' "$have") <(printf '%s\n' "$want")); do
		if documented_only "$c"; then
			echo "# '$c' is offered and documented, not in this build"
			continue
		fi
		extra+=("$c")
	done
	[ ${#extra[@]} -eq 0 ] || { echo "offered, not in pisteer --help: ${extra[*]}"; return 1; }
	c=$(comm -13 <(printf '%s\n' "$have") <(printf '%s\n' "$want"))
	[ -z "$c" ] || { echo "not offered: $(echo $c)"; return 1; }
}

# Every option of CMD's --help, and only those and --help, after "-".
# (guest: its options are its status subcommand's.)
options_offered() {
	local cmd=$1 have want
	if [ "$cmd" = guest ]; then
		have=$(comp pisteer guest status -)
	else
		have=$(comp pisteer "$cmd" -)
	fi
	want=$( { "$cli" help "$cmd" | help_options; echo --help; } | sort -u)
	same_set "pisteer $cmd -" "$have" "$want"
}

same_set() {
	[ "$2" = "$3" ] && return 0
	echo "$1: offered (<) / pisteer --help (>):"
	diff <(printf '%s\n' "$2") <(printf '%s\n' "$3")
	return 1
}

# The policies of steer's --help (its entries that are not options).
policies_offered() {
	local want
	want=$("$cli" help steer | help_entries | awk '$1 !~ /^-/ { print $1 }' | sort -u)
	same_set "pisteer steer --vm 1" "$(comp pisteer steer --vm 1 "")" "$want"
}

# The subcommands of guest's synopsis.
subcommands_offered() {
	local want
	want=$("$cli" help guest | help_synopsis | awk '{ print $3 }' | sort -u)
	same_set "pisteer guest" "$(comp pisteer guest "")" "$want"
}

mapfile -t cmds < <("$cli" --help | help_commands)
ktap_plan $((22 + ${#cmds[@]}))
ktap_check "pisteer <TAB>: the commands of pisteer --help, and help" commands_offered
expect "pisteer st<TAB>: status, steer" "status steer" pisteer st
expect "pisteer -<TAB>: --help, --version" "--help --version" pisteer -
# shellcheck disable=SC2154 # set by tools/completion/pisteer
expect "pisteer help <TAB>: the commands" "$_pisteer_commands" pisteer help ""
expect "pisteer status --j<TAB>: --json" "--json" pisteer status --j
expect "pisteer status <TAB>: its options" "--vm --device --json --format --output --help" pisteer status ""
expect "pisteer status --vm <TAB>: the pids holding a kvm-vm file" "4242 4300" \
	pisteer status --vm ""
expect "pisteer status --vm=42<TAB>: 4242" "4242" pisteer status --vm = 42
expect "pisteer steer --device <TAB>: the devices bound to vfio-pci" \
	"0000:3b:00.1 0000:af:10.2" pisteer steer --device ""
expect "pisteer steer --irq <TAB>: vfio's host IRQs" "45" pisteer steer --irq ""
expect "pisteer steer --vm 1 <TAB>: the policies" "auto follow housekeeping static off none" \
	pisteer steer --vm 1 ""
ktap_check "pisteer steer --vm 1 <TAB>: every policy of steer --help" policies_offered
expect "pisteer steer --vm 1 static <TAB>: the online CPUs" "0 1 2 5" \
	pisteer steer --vm 1 static ""
expect "pisteer steer --vm 1 follow <TAB>: nothing" "" pisteer steer --vm 1 follow ""
expect "pisteer lat --interval <TAB>: nothing (a number)" "" pisteer lat --interval ""
# The --format values of status --help's synopsis (table|json|...).
formats=$("$cli" help status | help_synopsis | grep -oE -- '--format [a-z|]+' | cut -d' ' -f2 | tr '|' ' ')
expect "pisteer status --format <TAB>: the formats of status --help (${formats:-none})" \
	"${formats:-no --format in status --help}" pisteer status --format ""
expect "pisteer rdma-lat --ib-dev <TAB>: the RDMA devices" "mlx5_0 rxe0" \
	pisteer rdma-lat --ib-dev ""
ktap_check "pisteer guest <TAB>: the subcommands of guest --help" subcommands_offered
expect "pisteer guest attach <TAB>: interfaces on a device, RDMA devices" "eth1 mlx5_0 rxe0" \
	pisteer guest attach ""
expect "pisteer guest detach <TAB>: the attached devices" "0000:00:05.0" \
	pisteer guest detach ""
expect "pisteer guest set 0000:00:05.0 <TAB>: its queues" "0 1 2" \
	pisteer guest set 0000:00:05.0 ""
expect "pisteer guest set 0000:00:05.0 1 <TAB>: the online CPUs" "0 1 2 5" \
	pisteer guest set 0000:00:05.0 1 ""
for c in "${cmds[@]}"; do
	ktap_check "pisteer $c -<TAB>: every option of pisteer $c --help, no other" \
		options_offered "$c"
done
ktap_finish
