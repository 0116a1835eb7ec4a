# chaos-kit: chaos-agent, chaosctl, their tests and packaging.
# Quiet by default; V=1 shows commands. WERROR=1 turns warnings into errors
# (CI sets it). SANITIZE=address,undefined builds everything with sanitizers.

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0-dev)
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
PKGS := libmicrohttpd libcjson libcurl libseccomp libcrypto expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Each binary links only what it uses.
AGENT_LIBS := $(shell pkg-config --libs libmicrohttpd libcjson libcurl libseccomp libcrypto 2>/dev/null)
CTL_LIBS := $(shell pkg-config --libs libcjson libcurl libcrypto expat 2>/dev/null) -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wformat-security -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wwrite-strings -Wvla -Wcast-qual -Wundef -Wnull-dereference
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE -DCHAOS_VERSION='"$(VERSION)"' -include common/prelude.h
ifeq ($(SANITIZE),)
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
else
HARDEN := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -fPIE
HARDEN_LD := -fsanitize=$(SANITIZE) -pie -Wl,-z,relro,-z,now
endif
ALL_CFLAGS := -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(HARDEN_LD) $(LDFLAGS)

ifneq ($(V),1)
Q := @
QCC = @printf '  CC      %s\n' $@;
QLD = @printf '  LD      %s\n' $@;
else
QCC :=
QLD :=
endif

B := build
# Rebuild everything when the flags change (e.g. SANITIZE toggled).
FLAGS_SIG := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(shell mkdir -p $(B) && (echo '$(FLAGS_SIG)' | cmp -s - $(B)/flags || echo '$(FLAGS_SIG)' > $(B)/flags))

# Every .c of a program's folders belongs to it: a new fault or command is
# a new file, not a Makefile edit.
COMMON_SRCS := $(sort $(wildcard common/*.c))
FAULT_SRCS := $(sort $(wildcard faults/*.c faults/*/*.c))
AGENT_SRCS := $(sort $(wildcard agent/*.c))
CTL_SRCS := $(sort $(wildcard controller/*.c))

obj = $(patsubst %.c,$(B)/%.o,$(1))
COMMON_OBJS := $(call obj,$(COMMON_SRCS))
FAULT_OBJS := $(call obj,$(FAULT_SRCS))
AGENT_OBJS := $(call obj,$(AGENT_SRCS))
CTL_OBJS := $(call obj,$(CTL_SRCS))

BINS := bin/chaos-agent bin/chaosctl

all: $(BINS)

$(B)/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	$(QCC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The test-hooks agent: same sources, plus hooks tests need (never shipped).
$(B)/testhooks/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	$(QCC)$(CC) $(ALL_CFLAGS) -DCHAOS_TEST_HOOKS -MMD -MP -c -o $@ $<

bin/chaos-agent: $(AGENT_OBJS) $(FAULT_OBJS) $(COMMON_OBJS)
	@mkdir -p bin
	$(QLD)$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(AGENT_LIBS)

bin/chaosctl: $(CTL_OBJS) $(COMMON_OBJS)
	@mkdir -p bin
	$(QLD)$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $^ $(CTL_LIBS)

tests/bin/chaos-agent-testhooks: $(patsubst %.c,$(B)/testhooks/%.o,$(AGENT_SRCS)) $(FAULT_OBJS) $(COMMON_OBJS)
	@mkdir -p tests/bin
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- unit tests: one cmocka binary per module, linked with that module only
UNIT_TESTS := sign spec config proto auth route registry util netplan jsoncheck life state strikes buf ini ecs slug xml
UNIT_BINS := $(patsubst %,tests/bin/test_%,$(UNIT_TESTS))
UNIT_DEPS_sign := common/sign.c common/util.c common/err.c common/file.c
UNIT_DEPS_spec := common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c
UNIT_DEPS_config := agent/config.c common/util.c common/err.c common/file.c common/log.c
UNIT_DEPS_proto := agent/proto.c common/err.c
UNIT_DEPS_auth := agent/auth.c agent/nonce.c common/sign.c common/util.c common/err.c common/file.c
UNIT_DEPS_route := agent/route.c common/util.c common/err.c
UNIT_DEPS_strikes := agent/strikes.c
UNIT_DEPS_registry := agent/registry.c faults/faults.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c tests/unit/fake_ops.c
UNIT_DEPS_util := common/util.c common/err.c faults/proc.c
UNIT_DEPS_life := agent/life.c agent/answer.c agent/registry.c agent/state.c common/jsoncheck.c agent/metrics.c agent/route.c agent/config.c faults/faults.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c common/file.c common/log.c tests/unit/fake_ops.c
UNIT_DEPS_state := agent/state.c agent/registry.c faults/faults.c common/spec.c common/spec_table.c common/spec_json.c common/jsoncheck.c common/netaddr.c common/util.c common/err.c common/file.c common/log.c tests/unit/fake_ops.c
UNIT_DEPS_jsoncheck := common/jsoncheck.c common/util.c common/err.c
UNIT_DEPS_netplan := faults/network/plan.c common/netaddr.c common/util.c common/err.c
UNIT_DEPS_buf := common/buf.c common/err.c
UNIT_DEPS_ini := controller/ini.c common/file.c common/util.c common/err.c
UNIT_DEPS_ecs := faults/ecs/request.c faults/ecs/client.c common/buf.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c
UNIT_DEPS_slug := controller/slug.c
UNIT_DEPS_xml := controller/xml.c common/util.c common/err.c

.SECONDEXPANSION:
tests/bin/test_%: $(B)/tests/unit/test_%.o $$(call obj,$$(UNIT_DEPS_$$*))
	@mkdir -p tests/bin
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# ---- fuzz targets: libFuzzer with clang (make fuzz), corpus replay otherwise
FUZZ_TARGETS := request authhdr spec config proto json state ini report ecs xml
FUZZ_DEPS_request := agent/route.c common/jsoncheck.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/sign.c common/util.c common/err.c common/file.c
FUZZ_DEPS_authhdr := common/sign.c common/util.c common/err.c common/file.c
FUZZ_DEPS_spec := common/jsoncheck.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c
FUZZ_DEPS_config := agent/config.c common/util.c common/err.c common/file.c common/log.c
FUZZ_DEPS_proto := agent/proto.c common/err.c
FUZZ_DEPS_state := agent/state.c agent/registry.c faults/faults.c common/spec.c common/spec_table.c common/spec_json.c common/jsoncheck.c common/netaddr.c common/util.c common/err.c common/file.c common/log.c tests/unit/fake_ops.c
FUZZ_DEPS_json := common/jsoncheck.c common/util.c common/err.c
FUZZ_DEPS_ini := controller/ini.c common/file.c common/util.c common/err.c
FUZZ_DEPS_report := controller/report.c controller/report_svg.c common/buf.c common/file.c common/util.c common/err.c
FUZZ_DEPS_ecs := faults/ecs/request.c faults/ecs/client.c common/buf.c common/spec.c common/spec_table.c common/spec_json.c common/netaddr.c common/util.c common/err.c
FUZZ_DEPS_xml := controller/xml.c common/util.c common/err.c
REPLAY_BINS := $(patsubst %,tests/bin/replay_%,$(FUZZ_TARGETS))

tests/bin/replay_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o $$(call obj,$$(FUZZ_DEPS_$$*))
	@mkdir -p tests/bin
	$(QLD)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS_ALL) $(PKG_CFLAGS)
bin/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_DEPS_$$*)
	@mkdir -p bin/fuzz
	$(QLD)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(PKG_LIBS) -lm

fuzz: $(patsubst %,bin/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@echo "fuzzers in bin/fuzz; run e.g. bin/fuzz/fuzz_request tests/fuzz/corpus/request"

# Run each fuzzer briefly over its corpus (FUZZ_SECONDS each).
FUZZ_SECONDS ?= 30
fuzz-run: fuzz
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(B)/fuzz-out/$$t; \
		bin/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			$(B)/fuzz-out/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# ---- checks
PYTEST ?= /usr/bin/python3 -m pytest
check: all $(UNIT_BINS) $(REPLAY_BINS) tests/bin/chaos-agent-testhooks
	$(Q)scripts/check-format.py
	$(Q)tests/run-unit.sh $(UNIT_BINS)
	$(Q)tests/run-replay.sh $(FUZZ_TARGETS)
	$(Q)$(PYTEST) -q tests/integration
	$(Q)$(PYTEST) -q tests/docker
	$(Q)$(MAKE) --no-print-directory check-e2e
	$(Q)if command -v qemu-system-x86_64 >/dev/null; then \
		$(MAKE) --no-print-directory check-vm; \
	else \
		echo "check: VM tests NOT run: qemu-system-x86_64 is missing" \
		    "(scripts/install-deps.sh installs it; make check-vm runs them)" >&2; \
	fi
	$(Q)if [ "$$(id -u)" -eq 0 ]; then \
		$(MAKE) --no-print-directory check-packaging && \
		$(MAKE) --no-print-directory check-images; \
	else \
		echo "check: packaging and image tests NOT run: they need root" \
		    "(make check-packaging check-images)" >&2; \
	fi
	$(Q)if [ "$$(id -u)" -eq 0 ] && command -v qemu-system-x86_64 >/dev/null; then \
		$(MAKE) --no-print-directory check-instance; \
	else \
		echo "check: instance VM tests NOT run: they need root and qemu" \
		    "(make check-instance)" >&2; \
	fi
	$(Q)$(MAKE) --no-print-directory check-infra

# Container and process faults against a private Docker engine only.
check-docker: all
	$(Q)$(PYTEST) -q tests/docker

# Network faults under a real kernel with sch_netem: Debian's cloud kernel
# under qemu in software emulation (tests/vm/build-initramfs.sh, tests/lib/vm.py).
# chaosctl run/submit/discovery with real Chaos Toolkit and moto, from the
# project virtualenv (scripts/setup-venv.sh makes it; Python >= 3.12).
check-e2e: all
	$(Q)scripts/setup-venv.sh
	$(Q)$(PYTEST) -q tests/e2e

# Network faults need sch_netem: a Debian cloud kernel under qemu (TCG).
check-vm: all
	$(Q)tests/vm/build-initramfs.sh
	$(Q)$(PYTEST) -q tests/vm

# A container instance for real: Debian 12 booted under qemu (TCG) with
# systemd, Docker, cgroup v2 only and sch_netem, the amd64 DEB installed with
# apt; ECS-like tasks inside; every fault family measured there
# (tests/instance/build-image.sh, tests/lib/vm.py Instance). Needs root.
check-instance: all
	$(Q)start=$$(date +%s); \
	packaging/build.sh amd64 && tests/instance/build-image.sh && \
	$(PYTEST) -q -rP tests/instance; rc=$$?; \
	echo "check-instance: $$(( $$(date +%s) - start ))s"; exit $$rc

# RPM and DEB packages for amd64 and arm64, built portably in a Debian 11
# root (packaging/build.sh); they land in build/packages/. The host's
# chaosctl writes the completion scripts they carry.
packages: bin/chaosctl
	$(Q)packaging/build.sh

# The packages for real (root): lintian, rpmlint, the unit under
# systemd-analyze, a booted Debian 12 (systemd-nspawn) with the DEB and the
# ECS user data against moto, the payloads in a Debian 11 root (arm64 under
# qemu-user). Debian roots are cached in build/roots.
# The tests' two roots are made (or found in the cache) while the packages
# build: one waits on the network, the other on the compiler.
check-packaging: all
	$(Q)start=$$(date +%s); mkdir -p $(B); \
	bash -c '. packaging/roots.sh && root_boot && root_run' >$(B)/test-roots.log 2>&1 & roots=$$!; \
	scripts/setup-venv.sh && packaging/build.sh; rc=$$?; \
	if ! wait $$roots; then cat $(B)/test-roots.log >&2; rc=1; fi; \
	if [ $$rc -eq 0 ]; then $(PYTEST) -q -rP tests/packaging; rc=$$?; fi; \
	echo "check-packaging: $$(( $$(date +%s) - start ))s"; exit $$rc

# Container images from packaging/runner/Dockerfile (the Batch runner) and
# packaging/daemon/Dockerfile (the agent for an ECS daemon service), built
# by the engine of DOCKER_HOST from the packages' binaries (so they need
# make packages, root), with plain docker build; an engine that has no
# debian:trixie-slim and cannot pull it gets one made from a debootstrap
# root. IMAGE_BUILD_ARGS go to docker build, e.g. --platform linux/arm64,
# --network host or -t more tags; docs/aws.md pushes them to ECR.
IMAGE_BUILD_ARGS ?=
image-runner: packages
	$(Q)packaging/images.sh runner $(IMAGE_BUILD_ARGS)

image-agent: packages
	$(Q)packaging/images.sh agent $(IMAGE_BUILD_ARGS)

# The images for real (root): a private Docker engine whose images and
# build cache stay in build/images, the base image made from a debootstrap
# root, both Dockerfiles built as they are; the runner runs a library
# experiment against the local sandbox with a Batch job's environment and
# uploads to moto's S3 (SIGTERM included), the agent runs on a sandbox
# instance as the ECS task definition says; botocore validates that.
check-images: all
	$(Q)start=$$(date +%s); \
	scripts/setup-venv.sh && packaging/build.sh && $(PYTEST) -q -rP tests/images; rc=$$?; \
	echo "check-images: $$(( $$(date +%s) - start ))s"; exit $$rc

# infrastructure/ without AWS: OpenTofu (fmt, test), tflint, checkov,
# hclfmt, and the python-hcl2 cross-checks, user data and AWS schema tests
# (tests/infra). Tools are built or installed once into build/infra-tools
# (scripts/install-infra-tools.sh; OpenTofu takes minutes when cold).
check-infra:
	$(Q)start=$$(date +%s); \
	scripts/install-infra-tools.sh && tests/infra/run.sh; rc=$$?; \
	echo "check-infra: $$(( $$(date +%s) - start ))s"; exit $$rc

check-unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

demo:
	$(Q)scripts/demo.sh

# The sanitizer builds of the fast layers (unit, corpus replay,
# integration): .ci/run runs this before the ordinary build and check.
SAN := address,undefined
check-sanitize:
	$(Q)$(MAKE) --no-print-directory SANITIZE=$(SAN) all $(UNIT_BINS) $(REPLAY_BINS) \
		tests/bin/chaos-agent-testhooks
	$(Q)tests/run-unit.sh $(UNIT_BINS)
	$(Q)tests/run-replay.sh $(FUZZ_TARGETS)
	$(Q)$(PYTEST) -q tests/integration

# The layout rules of CONTRIBUTING.md (scripts/check-format.py says which).
format-check:
	$(Q)scripts/check-format.py

bench: all
	$(Q)tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/chaos-agent $(DESTDIR)$(PREFIX)/sbin/chaos-agent
	install -m 0755 bin/chaosctl $(DESTDIR)$(PREFIX)/bin/chaosctl

clean:
	rm -rf $(B) bin tests/bin

.PHONY: all check check-unit check-docker check-vm check-e2e check-instance check-packaging check-infra check-images check-sanitize format-check packages image-runner image-agent demo bench fuzz fuzz-run install clean
.DELETE_ON_ERROR:
# Test and fuzz objects are intermediate to make; keep them between runs.
.SECONDARY:

# Dependency files live beside the objects, under the source folders'
# names; the rest of build/ (debootstrap roots, the package build's and
# the packaging tests' trees, the image tests' Docker engine, the infra
# tools' virtualenvs) holds other files named *.d, such as
# usr/sbin/invoke-rc.d, and tens of thousands of files: never searched.
DEP_DIRS := $(wildcard $(addprefix $(B)/,agent common controller faults tests testhooks))
-include $(if $(DEP_DIRS),$(shell find $(DEP_DIRS) -name '*.d' -type f -print 2>/dev/null))
