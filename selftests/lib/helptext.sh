# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# What a pisteer --help text says, in pieces the man pages and the bash
# completion are compared with; source it.  Each function reads one help
# text on stdin and prints one item a line.
#
# A help text starts with its synopsis: "usage: pisteer ..." and further
# forms "       pisteer ...", a deeper-indented line continuing the form
# above, up to the first blank line.  An entry is a line indented by two
# spaces: its head (an option with its value, a policy, a subcommand, a
# command, a variable, an exit status) runs up to the first two spaces.

# The synopsis forms, one a line, blanks squeezed.
help_synopsis() {
	awk 'NR == 1 { if (!sub(/^usage: /, "")) exit; form = $0; next }
	     /^$/ { exit }
	     /^       pisteer / { print form; sub(/^ +/, ""); form = $0; next }
	     { sub(/^ +/, ""); form = form " " $0 }
	     END { if (form != "") print form }' | tr -s ' '
}

# The entries' heads, in order.
help_entries() {
	awk '/^  [^ ]/ { s = substr($0, 3); sub(/  .*/, "", s); print s }'
}

# Every long option the text names in its synopsis or as an entry, sorted.
help_options() {
	local text
	text=$(cat)
	{
		printf '%s\n' "$text" | help_synopsis | grep -oE -- '--[a-z][a-z0-9-]*'
		printf '%s\n' "$text" | help_entries | awk '$1 ~ /^--/ { print $1 }'
	} | sort -u
}

# pisteer --help: the commands (the entries under "Commands:").
help_commands() {
	awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit }
	     on && /^  [^ ]/ { print $1 }'
}
