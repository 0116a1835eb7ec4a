#!/usr/bin/env bash
# The Debian roots that packaging and its tests use, defined once. Source
# it, then call a function: each prints the root's path (made on first use
# by packaging/mkroot.sh, reused from build/roots/ afterwards).
#
#   root_build  Debian 11, amd64 with arm64 multiarch: compilers (native and
#               aarch64 cross), autotools, static OpenSSL and libseccomp,
#               deb-src lines for Debian 12's sources
#   root_boot   Debian 12 with systemd, booted by systemd-nspawn to install
#               the DEB and run the user-data script (AWS CLI v2 included);
#               rpm too, to run the RPM's scriptlets under a real systemd;
#               bash-completion, to complete from the installed chaosctl
#   root_run    Debian 11 minbase (+ arm64 glibc), none of the project's
#               libraries: the unpacked packages must run there
#   root_instance  Debian 12 as an ECS container instance, for the VM layer
#               (tests/instance): systemd, Docker, the cloud kernel, sshd for
#               the test harness and the tools its measurements use

packaging_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

root_build() {
	"$packaging_dir/mkroot.sh" build-bullseye bullseye amd64,arm64 \
		build-essential,crossbuild-essential-arm64,dpkg-dev,autoconf,automake,libtool,pkg-config,libssl-dev,libssl-dev:arm64,libseccomp-dev,libseccomp-dev:arm64,ca-certificates \
		"deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main"
}

root_boot() {
	"$packaging_dir/mkroot.sh" boot-bookworm bookworm amd64 \
		systemd,systemd-sysv,dbus,iproute2,procps,kmod,ca-certificates,curl,awscli,rpm,bash-completion
}

root_run() {
	"$packaging_dir/mkroot.sh" run-bullseye bullseye amd64,arm64 libc6:arm64
}

root_instance() {
	"$packaging_dir/mkroot.sh" instance-bookworm bookworm amd64 \
		systemd,systemd-sysv,dbus,udev,kmod,iproute2,procps,iputils-ping,netbase,openssh-server,docker.io,linux-image-cloud-amd64,busybox-static,python3,curl
}
