#!/usr/bin/env bash
# Install every build and test dependency of chaos-kit on a fresh Debian 12
# machine. Idempotent: packages already present are skipped by apt itself.
# Usage: scripts/install-deps.sh [--no-update]
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get)" >&2
	exit 1
fi

pkgs=(
	# toolchain
	build-essential pkg-config clang llvm libclang-rt-14-dev
	# libraries the agent and chaosctl link against
	libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev libseccomp-dev libssl-dev libexpat1-dev
	# unit tests
	libcmocka-dev
	# integration tests: process inspection, networking
	procps iproute2 python3 python3-pytest curl ca-certificates
	# container tests: a private Docker engine and a busybox image root
	docker.io busybox-static
	# VM tests (make check-vm): Debian's cloud kernel, downloaded with
	# apt-get into build/vm, booted under qemu with an initramfs made by cpio
	qemu-system-x86 cpio
	# packaging (make packages, make check-packaging): Debian 11 and 12 roots
	# made with debootstrap, booted with systemd-nspawn or entered with
	# chroot; rpmbuild, rpm2cpio, lintian, rpmlint, shellcheck; qemu-user
	# runs the arm64 build; groff-base renders the man pages for lintian and
	# their test
	debootstrap systemd-container rpm rpm2cpio rpmlint lintian shellcheck
	qemu-user-static binutils groff-base xz-utils
	# make bench: the reference it compares burn-cpu with
	stress-ng
	# run reports and shell completion (tests/integration/test_report.py,
	# test_completion.py): a real browser loads and screenshots report.html,
	# zsh runs the zsh completion
	chromium fonts-dejavu-core zsh
	# infrastructure checks (make check-infra): virtualenvs for checkov and
	# python-hcl2 when the python3 on PATH is Debian's
	python3-venv
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	[ "${1:-}" = "--no-update" ] || apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all dependencies present"
