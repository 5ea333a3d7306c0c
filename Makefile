# SPDX-License-Identifier: GPL-2.0
#
# pisteer top-level Makefile.
#
#   make               CLI, test programs and both modules against KDIR
#   make modules-all   both modules against every pinned kernel (kernels.env)
#   make check         everything make check does (Documentation/testing.md)
#   make demo          the main job on the emulated host
#   make bench         round-trip and mechanism benchmarks (figures, not a test)
#   make soak          long soak stages in the rig (KERNEL=, SOAK_SCALE=; not in check)
#   make install       CLI, man pages, completion, DKMS sources, boot unit, libvirt hook
#   make uninstall     removes what make install put there
#   make deb           the Debian packages pisteer and pisteer-dkms, in build/deb/
#
# Kernel modules are built only through Kbuild (make -C KDIR M=...), the way
# DKMS builds them.

include kernels.env
PISTEER_CACHE ?= /var/cache/pisteer
# What scripts/deps.sh fetched for 7.x when the pin had moved on, as long
# as kernels.env still pins what that was resolved for.
PIN_7 := $(KVER_7)=$(PKGVER_7)
-include $(PISTEER_CACHE)/kernels.resolved.env
ifneq ($(RESOLVED_FOR_7),$(PIN_7))
include kernels.env
endif

RELEASE := $(shell cat VERSION)
KVERS := $(KVER_61) $(KVER_612) $(KVER_7)
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)),$(RUNNING_KDIR),/lib/modules/$(KVER_612)/build)

B := build
CC ?= cc
CFLAGS ?= -O2 -g
# CPPFLAGS and LDFLAGS are empty unless given (dpkg-buildflags gives them
# for the package build: fortify, relro, bindnow).
USER_CFLAGS := $(CPPFLAGS) $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -Iuapi \
	-DPISTEER_RELEASE='"$(RELEASE)"'
LDLIBS_JSON := -ljson-c -lm
# pisteer pin --domain: libvirt's C API, its headers (libvirt-dev) at
# build time; libvirt.so.0 is dlopen()ed when a domain is named.
LDLIBS_CLI := $(LDLIBS_JSON) -lhwloc -ldl

CLI_SRCS := tools/pisteer.c tools/cmdline.c tools/cmd_version.c tools/cmd_status.c tools/status_prom.c \
	tools/cmd_check.c tools/cmd_steer.c tools/cmd_config.c tools/cmd_pin.c tools/cmd_isolate.c tools/cmd_guest.c tools/cmd_lat.c \
	tools/lat_hist.c \
	tools/lib/pisteer_dev.c tools/lib/guest_sysfs.c tools/lib/cpus.c tools/lib/topo.c \
	tools/lib/place.c tools/lib/qmp.c tools/lib/vmproc.c tools/lib/cgcpuset.c \
	tools/lib/state.c tools/lib/irqs.c tools/lib/sysfile.c tools/lib/hostfacts.c \
	tools/lib/lvpin.c
CLI_LIB_SRCS := $(filter-out tools/pisteer.c,$(CLI_SRCS))
CLI_HDRS := tools/commands.h $(wildcard tools/lib/*.h) uapi/linux/pisteer.h tools/lat_hist.h
# pisteer rdma-lat: only the CLI links libibverbs; the unit tests take the
# parts that need no verbs library (statistics, exchange codec, GID choice,
# reports).
RDMA_NOVERBS_SRCS := tools/lib/latstats.c tools/lib/rdma_xchg.c tools/lib/rdma_gid.c \
	tools/lib/rdma_report.c
RDMA_SRCS := tools/cmd_rdma_lat.c tools/lib/rdma_pp.c $(RDMA_NOVERBS_SRCS)
RDMA_HDRS := tools/lib/latstats.h tools/lib/rdma_xchg.h tools/lib/rdma_pp.h \
	tools/lib/rdma_report.h
LDLIBS_RDMA := -libverbs -lm

PTVM_SRCS := selftests/lib/ptvm.c selftests/lib/ptdev.c selftests/lib/e1000e.c \
	selftests/lib/procirq.c selftests/lib/stats.c selftests/lib/guest.S \
	selftests/lib/kvmstats.c selftests/lib/hostctl.c
TEST_LIB_HDRS := $(wildcard selftests/lib/*.h)
KTAP_SRCS := selftests/lib/ktap.c
PRIVS_SRCS := selftests/lib/privs.c

VM_TESTS := passthrough_irq passthrough_multi version_ioctl list_ioctl lat_ioctl ioctl_fuzz \
	vm_cycles
VM_TEST_BINS := $(addprefix $(B)/selftests/,$(VM_TESTS)) $(B)/selftests/ptvm_demo \
	$(B)/selftests/irq_bench $(B)/selftests/scan_bench $(B)/selftests/entry_bench \
	$(B)/selftests/mech_bench $(B)/selftests/rdma_fakepeer \
	$(B)/selftests/thread_bounce $(B)/selftests/repin_lat $(B)/selftests/with_pid \
	$(B)/selftests/vec_hold $(B)/selftests/guest_fuzz
UNIT_TEST_BINS := $(B)/selftests/cli_unit $(B)/selftests/guest_unit $(B)/selftests/pin_unit \
	$(B)/selftests/pin_qemu $(B)/selftests/rdma_unit

.PHONY: all cli tests modules modules-all deps check demo bench soak clean help install uninstall deb

all: cli tests modules

help:
	@sed -n '3,17p' Makefile

cli: $(B)/pisteer
tests: $(VM_TEST_BINS) $(UNIT_TEST_BINS)

$(B)/pisteer: $(CLI_SRCS) $(RDMA_SRCS) $(CLI_HDRS) $(RDMA_HDRS) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(LDFLAGS) -o $@ $(CLI_SRCS) $(RDMA_SRCS) $(LDLIBS_CLI) $(LDLIBS_RDMA)

$(B)/selftests/rdma_unit: selftests/tools/rdma_unit.c $(RDMA_NOVERBS_SRCS) $(RDMA_HDRS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS) tools/lib/pisteer_dev.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(RDMA_NOVERBS_SRCS) $(KTAP_SRCS) $(LDLIBS_JSON) -lm

$(B)/selftests/rdma_fakepeer: selftests/vm/rdma_fakepeer.c tools/lib/rdma_xchg.c \
		tools/lib/rdma_xchg.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< tools/lib/rdma_xchg.c

$(B)/selftests/cli_unit: selftests/tools/cli_unit.c $(CLI_LIB_SRCS) $(CLI_HDRS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(CLI_LIB_SRCS) $(KTAP_SRCS) $(LDLIBS_CLI)

$(B)/selftests/pin_unit: selftests/tools/pin_unit.c $(CLI_LIB_SRCS) $(CLI_HDRS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS) VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(CLI_LIB_SRCS) $(KTAP_SRCS) $(LDLIBS_CLI)

$(B)/selftests/pin_qemu: selftests/tools/pin_qemu.c tools/lib/cpus.c tools/lib/sysfile.c \
		tools/lib/pisteer_dev.c $(CLI_HDRS) $(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< tools/lib/cpus.c tools/lib/sysfile.c tools/lib/pisteer_dev.c \
		$(KTAP_SRCS) \
		$(LDLIBS_JSON)

$(B)/selftests/guest_unit: selftests/tools/guest_unit.c tools/lib/guest_sysfs.c \
		tools/lib/sysfile.c tools/lib/pisteer_dev.c $(CLI_HDRS) $(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< tools/lib/guest_sysfs.c tools/lib/sysfile.c tools/lib/pisteer_dev.c \
		$(KTAP_SRCS) $(LDLIBS_JSON)

$(B)/selftests/passthrough_irq: selftests/vm/passthrough_irq.c $(PTVM_SRCS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS) $(KTAP_SRCS)

$(B)/selftests/passthrough_multi: selftests/vm/passthrough_multi.c $(PTVM_SRCS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS) $(KTAP_SRCS)

$(B)/selftests/irq_bench: selftests/bench/irq_bench.c $(PTVM_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS) $(LDLIBS_JSON)

$(B)/selftests/mech_bench: selftests/bench/mech_bench.c $(PTVM_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS) $(LDLIBS_JSON)

$(B)/selftests/scan_bench: selftests/bench/scan_bench.c selftests/lib/modstate.c $(PTVM_SRCS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< selftests/lib/modstate.c $(PTVM_SRCS) $(KTAP_SRCS) \
		$(LDLIBS_JSON)

$(B)/selftests/entry_bench: selftests/bench/entry_bench.c tools/lib/pisteer_dev.c $(PTVM_SRCS) \
		$(CLI_HDRS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< tools/lib/pisteer_dev.c $(PTVM_SRCS) $(LDLIBS_JSON)

$(B)/selftests/ptvm_demo: selftests/demo/ptvm_demo.c $(PTVM_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS)

$(B)/selftests/vec_hold: selftests/vm/vec_hold.c $(PTVM_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(PTVM_SRCS)

$(B)/selftests/thread_bounce: selftests/vm/thread_bounce.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(B)/selftests/repin_lat: selftests/vm/repin_lat.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(B)/selftests/with_pid: selftests/vm/with_pid.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $<

$(B)/selftests/guest_fuzz: selftests/vm/guest_fuzz.c $(KTAP_SRCS) $(TEST_LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< $(KTAP_SRCS)

$(B)/selftests/list_ioctl: selftests/vm/list_ioctl.c tools/lib/pisteer_dev.c \
		$(KTAP_SRCS) $(PRIVS_SRCS) $(TEST_LIB_HDRS) $(CLI_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< tools/lib/pisteer_dev.c $(KTAP_SRCS) $(PRIVS_SRCS)

$(B)/selftests/lat_ioctl: selftests/vm/lat_ioctl.c $(KTAP_SRCS) $(PRIVS_SRCS) \
		$(TEST_LIB_HDRS) uapi/linux/pisteer.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(KTAP_SRCS) $(PRIVS_SRCS)

$(B)/selftests/version_ioctl: selftests/vm/version_ioctl.c $(KTAP_SRCS) $(PRIVS_SRCS) \
		$(TEST_LIB_HDRS) uapi/linux/pisteer.h VERSION
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -o $@ $< $(KTAP_SRCS) $(PRIVS_SRCS)

$(B)/selftests/ioctl_fuzz: selftests/vm/ioctl_fuzz.c selftests/lib/iocgen.c \
		selftests/lib/modstate.c $(PTVM_SRCS) $(KTAP_SRCS) $(PRIVS_SRCS) $(TEST_LIB_HDRS) \
		uapi/linux/pisteer.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< selftests/lib/iocgen.c selftests/lib/modstate.c \
		$(PTVM_SRCS) $(KTAP_SRCS) $(PRIVS_SRCS)

$(B)/selftests/vm_cycles: selftests/vm/vm_cycles.c selftests/lib/modstate.c $(PTVM_SRCS) \
		$(KTAP_SRCS) $(TEST_LIB_HDRS) uapi/linux/pisteer.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $< selftests/lib/modstate.c $(PTVM_SRCS) $(KTAP_SRCS)

modules:
	@test -d "$(KDIR)" || { echo "no kernel build dir $(KDIR): run scripts/deps.sh or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# One copy of the module sources per pinned kernel, so that the builds can
# live side by side (Kbuild writes its objects next to the sources).
# scripts/kbuild.sh runs the 7.x build in the trixie chroot (gcc-14).
# (*.mod.c: what modpost wrote next to the sources after an in-tree make.)
MOD_SRCS := Kbuild VERSION $(filter-out %.mod.c,$(wildcard kmod/Kbuild kmod/*.[ch] \
	kmod/compat/*.h guest/Kbuild guest/*.[ch])) uapi/linux/pisteer.h
# In-kernel unit tests, built beside the modules for the suite only
# (PISTEER_SELFTESTS=1), never shipped (DKMS_FILES has MOD_SRCS alone).
TEST_MOD_SRCS := $(filter-out %.mod.c,$(wildcard selftests/kmod/Kbuild selftests/kmod/*.c))

modules-all: $(foreach k,$(KVERS),$(B)/modules/$(k)/.built)

$(B)/modules/%/.built: $(MOD_SRCS) $(TEST_MOD_SRCS)
	@rm -rf $(B)/modules/$*
	@mkdir -p $(B)/modules/$*
	@cp --parents $(MOD_SRCS) $(TEST_MOD_SRCS) $(B)/modules/$*/
	scripts/kbuild.sh $* $(B)/modules/$* W=1 PISTEER_SELFTESTS=1 modules \
		> $(B)/modules/$*/build.log 2>&1 || { cat $(B)/modules/$*/build.log; exit 1; }
	@touch $@

# make check's sparse stage builds in a copy of its own (C=2 rebuilds with
# other flags), so that it can run beside the W=1 build of the same kernel.
$(B)/sparse/%/.copied: $(MOD_SRCS) $(TEST_MOD_SRCS)
	@rm -rf $(B)/sparse/$*
	@mkdir -p $(B)/sparse/$*
	@cp --parents $(MOD_SRCS) $(TEST_MOD_SRCS) $(B)/sparse/$*/
	@touch $@

# make install: for people who do not use the packages (make deb).  The
# CLI, its man pages (section 8: sbin) and its bash completion (where
# bash-completion looks: $(PREFIX)/share/bash-completion/completions, which
# /usr/local/share and /usr/share both are), and the module sources as DKMS
# wants them, in $(PREFIX)/src/pisteer-VERSION: `dkms install
# $(PREFIX)/src/pisteer-VERSION` builds and installs both modules for the
# running kernel (DKMS copies them to /usr/src/pisteer-VERSION first when
# PREFIX is not /usr).  DESTDIR stages the whole tree elsewhere.
# uninstall removes those files and the source tree's directories (a
# directory someone else put files in stays, with an error), never the
# shared ones (sbin, man8, completions, src); it leaves DKMS's own copy and builds to
# `dkms remove`.
#
# Zero-touch (pisteer.service, not enabled by make install: `systemctl
# enable pisteer.service`): the unit in $(UNITDIR) (ExecStart names
# $(SBINDIR)), the module loaded at boot by $(MODLOADDIR)/pisteer.conf,
# /etc/pisteer/pisteer.conf (never overwritten; uninstall removes it only
# as installed) and the libvirt hook /etc/libvirt/hooks/qemu.d/pisteer.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
MAN_PAGES := $(wildcard tools/man/*.8)
BASH_COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
MODLOADDIR ?= $(PREFIX)/lib/modules-load.d
DKMS_SRCDIR = $(PREFIX)/src/pisteer-$(RELEASE)
DKMS_FILES = dkms.conf $(MOD_SRCS)
DKMS_DIRS = kmod/compat kmod guest uapi/linux uapi
CONF_FILE = $(DESTDIR)$(SYSCONFDIR)/pisteer/pisteer.conf
HOOK_FILE = $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/pisteer

install: $(B)/pisteer
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/pisteer $(DESTDIR)$(SBINDIR)/pisteer
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 tools/completion/pisteer $(DESTDIR)$(BASH_COMPLETIONDIR)/pisteer
	for f in $(DKMS_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; \
	done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MODLOADDIR)
	sed 's|/usr/sbin/pisteer|$(SBINDIR)/pisteer|' tools/system/pisteer.service \
		> $(DESTDIR)$(UNITDIR)/pisteer.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pisteer.service
	install -m 0644 tools/system/pisteer.modules-load $(DESTDIR)$(MODLOADDIR)/pisteer.conf
	[ -e $(CONF_FILE) ] || install -D -m 0644 tools/system/pisteer.conf $(CONF_FILE)
	install -D -m 0755 tools/hooks/qemu-pisteer $(HOOK_FILE)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pisteer $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN_PAGES)))
	rm -f $(DESTDIR)$(BASH_COMPLETIONDIR)/pisteer
	rm -f $(addprefix $(DESTDIR)$(DKMS_SRCDIR)/,$(DKMS_FILES))
	for d in $(addprefix $(DESTDIR)$(DKMS_SRCDIR)/,$(DKMS_DIRS)) $(DESTDIR)$(DKMS_SRCDIR); do \
		[ ! -d $$d ] || rmdir $$d || exit 1; \
	done
	rm -f $(DESTDIR)$(UNITDIR)/pisteer.service $(DESTDIR)$(MODLOADDIR)/pisteer.conf $(HOOK_FILE)
	! cmp -s tools/system/pisteer.conf $(CONF_FILE) || rm -f $(CONF_FILE)
	[ ! -d $(DESTDIR)$(SYSCONFDIR)/pisteer ] || rmdir $(DESTDIR)$(SYSCONFDIR)/pisteer || \
		echo "$(CONF_FILE) was changed: left in place"

# make deb: dpkg-buildpackage writes the packages next to the tree it
# builds, so it builds a copy in build/deb/src (the checkout's files,
# committed or not, without build/) and they land in build/deb/.
# The source package (native: the tree is its own upstream) is built too,
# so that lintian checks debian/ as well.
DEB_DIR := $(B)/deb

deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 sh -c 'for f; do [ ! -e "$$f" ] || echo "$$f"; done' sh | \
			tar -cf - -T - | tar -xf - -C $(DEB_DIR)/src; \
	else \
		tar -cf - --exclude=./$(B) --exclude-vcs . | tar -xf - -C $(DEB_DIR)/src; \
	fi
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc > ../build.log 2>&1 || \
		{ cat ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

deps:
	bash scripts/deps.sh

check: deps
	STAGE="$(STAGE)" TEST="$(TEST)" KERNEL="$(KERNEL)" bash selftests/check.sh

demo: deps
	$(MAKE) cli tests modules-all
	bash selftests/demo.sh

bench: deps
	$(MAKE) cli tests modules-all
	bash selftests/bench.sh

# Not part of check: thousands of VM lifetimes, module reloads under load,
# a million fuzzed ioctls, CPU hotplug; build/soak/summary.json.
soak: deps
	$(MAKE) cli tests modules-all
	SOAK_SCALE="$(SOAK_SCALE)" KERNEL="$(KERNEL)" bash selftests/soak.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(B)
