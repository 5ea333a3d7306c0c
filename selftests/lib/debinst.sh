# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by selftests/check.sh: the stage that installs the built
# packages on a clean Debian 12 (selftests/tools/debinst.sh), with the
# packages make deb built for this tree (check.sh's deb_file).
debinst_check() {
	local cli dkms
	cli=$(deb_file pisteer amd64) && dkms=$(deb_file pisteer-dkms all) || {
		printf '%s\n' "$cli" "${dkms:-}" | sed 's/^/# /'
		return 1
	}
	selftests/tools/debinst.sh "$cli" "$dkms"
}
