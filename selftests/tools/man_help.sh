#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The man pages (tools/man/) say what the commands' --help says: per page,
# that it renders without a warning (groff -ww, man --warnings) and names
# this release; that its SYNOPSIS is the --help synopsis, form by form;
# and that the tags of its OPTIONS (and POLICIES, SUBCOMMANDS, COMMANDS,
# ENVIRONMENT, EXIT STATUS) sections are the --help entries, in order.
# Also: every command pisteer --help lists has its page.
#
# A page of a command this build does not have is skipped (a command
# documented on another branch before it is merged), and so is its entry
# in pisteer.8's COMMANDS.
#
# usage: man_help.sh PATH-TO-pisteer
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/ktap.sh
. "$top/selftests/lib/ktap.sh"
# shellcheck source=../lib/helptext.sh
. "$top/selftests/lib/helptext.sh"

cli=${1:?usage: man_help.sh PATH-TO-pisteer}
man=$top/tools/man
release=$(cat "$top/VERSION")
export LC_ALL=C

# The help text of command $1 ("" for pisteer itself).
help_of() {
	if [ -z "$1" ]; then
		"$cli" --help
	else
		"$cli" help "$1"
	fi
}

in_build() {
	"$cli" help "$1" >/dev/null 2>&1
}

# The page's text at a width where no line breaks: a synopsis form, a tag
# are each one line.
render_wide() {
	groff -man -Tascii -rLL=2000n -P-cbou "$@" 2>/dev/null
}

man_synopsis() {
	render_wide "$1" | awk '/^SYNOPSIS$/ { on = 1; next } on && /^[^ ]/ { exit }
		on && NF { sub(/^ +/, ""); print }' | tr -s ' '
}

# The .TP tags of the compared sections, rendered, in order.
man_entries() {
	{
		echo '.TH X 8'
		echo 'BEGIN-TAGS'
		echo '.br'
		awk '/^\.SH / { s = substr($0, 5); gsub(/"/, "", s); next }
		     s !~ /^(OPTIONS|POLICIES|SUBCOMMANDS|COMMANDS|ENVIRONMENT|EXIT STATUS)$/ { next }
		     /^\.TP/ { tag = 1; next }
		     tag { print; print ".br"; tag = 0 }' "$1"
		echo 'END-TAGS'
	} | render_wide | awk '/^ *END-TAGS$/ { exit } on && NF { sub(/^ +/, ""); print }
		/^ *BEGIN-TAGS$/ { on = 1 }'
}

render_clean() {
	local f=$1 out th
	out=$(groff -man -ww -z "$f" 2>&1)
	[ -z "$out" ] || { printf 'groff -ww: %s\n' "$out"; return 1; }
	out=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	[ -z "$out" ] || { printf 'man --warnings: %s\n' "$out"; return 1; }
	th=$(sed -n 's/^\.TH .*"pisteer \([^"]*\)".*/\1/p' "$f")
	[ "$th" = "$release" ] || { echo ".TH says pisteer '$th', VERSION '$release'"; return 1; }
}

same() {
	local what=$1 have=$2 want=$3
	[ "$have" = "$want" ] && return 0
	echo "$what: the man page (<) / --help (>):"
	diff <(printf '%s\n' "$have") <(printf '%s\n' "$want")
	return 1
}

synopsis_same() {
	same SYNOPSIS "$(man_synopsis "$1")" "$(help_of "$2" | help_synopsis)"
}

# Also, --help has an entry for every option of its synopsis.
# pisteer.8's COMMANDS may name a command of another branch (its own page
# there, not in this build): left out, said in a diagnostic.
entries_same() {
	local f=$1 cmd=$2 have e kept=()
	have=$(man_entries "$f")
	while IFS= read -r e; do
		if [ -z "$cmd" ] && [ -f "$man/pisteer-$e.8" ] &&
			! help_of "" | help_commands | grep -qx -- "$e" && ! in_build "$e"; then
			echo "# pisteer.8 documents '$e', not in this build: left out"
			continue
		fi
		kept+=("$e")
	done <<<"$have"
	same "tagged entries" "$(printf '%s\n' "${kept[@]}")" "$(help_of "$cmd" | help_entries)" ||
		return 1
	[ -n "$cmd" ] || return 0
	# and --help describes every option its synopsis names
	local o bad=0
	for o in $(help_of "$cmd" | help_synopsis | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		help_of "$cmd" | help_entries | awk '{ print $1 }' | grep -qx -- "$o" ||
			{ echo "pisteer $cmd --help: $o is in the synopsis, not an entry"; bad=1; }
	done
	return $bad
}

# Every command of pisteer --help has a page.
pages_for_commands() {
	local c bad=0
	for c in $(help_of "" | help_commands); do
		[ -f "$man/pisteer-$c.8" ] || { echo "no tools/man/pisteer-$c.8"; bad=1; }
	done
	return $bad
}

pages=("$man/pisteer.8")
for f in "$man"/pisteer-*.8; do
	pages+=("$f")
done

ktap_plan $((1 + 3 * ${#pages[@]}))
ktap_check "every command of pisteer --help has its page in tools/man/" pages_for_commands
for f in "${pages[@]}"; do
	name=${f##*/}
	cmd=${name#pisteer}
	cmd=${cmd#-}
	cmd=${cmd%.8}
	ktap_check "$name: groff -ww and man --warnings clean, .TH names pisteer $release" \
		render_clean "$f"
	if [ -n "$cmd" ] && ! in_build "$cmd"; then
		ktap_skip "$name: SYNOPSIS is pisteer $cmd --help's: pisteer $cmd is not in this build"
		ktap_skip "$name: OPTIONS are pisteer $cmd --help's entries: pisteer $cmd is not in this build"
		continue
	fi
	ktap_check "$name: SYNOPSIS is pisteer${cmd:+ $cmd} --help's" synopsis_same "$f" "$cmd"
	ktap_check "$name: tagged entries (OPTIONS ...) are pisteer${cmd:+ $cmd} --help's, in order" \
		entries_same "$f" "$cmd"
done
ktap_finish
