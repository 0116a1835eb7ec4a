#!/usr/bin/env bash
# Make (or reuse) a Debian root under build/roots/ with debootstrap.
#
#   packaging/mkroot.sh NAME SUITE ARCHES INCLUDE [EXTRA_SOURCES]
#
# NAME           directory under build/roots/
# SUITE          bullseye, bookworm, ...
# ARCHES         comma-separated; the first is the root's own, the others
#                are added as dpkg foreign architectures (multiarch)
# INCLUDE        comma-separated packages installed after debootstrap (may
#                name :arch packages of the foreign architectures)
# EXTRA_SOURCES  optional sources.list lines (e.g. deb-src for apt-get source)
#
# The root is made in NAME.new and renamed when complete, with a stamp of its
# arguments: a later call with the same arguments returns at once, a call with
# other arguments makes it anew. An interrupted run leaves no half root that a
# later run would trust. Prints the root's path.
set -euo pipefail

die() {
	echo "mkroot: $*" >&2
	exit 1
}

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
	die "usage: packaging/mkroot.sh NAME SUITE ARCHES INCLUDE [EXTRA_SOURCES]"
fi
name=$1 suite=$2 arches=$3 include=$4 extra=${5:-}
[[ $name =~ ^[a-z0-9][a-z0-9.-]*$ ]] || die "NAME '$name': only a-z, 0-9, '.' and '-' allowed"
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/install-deps.sh installs it)"

top=$(cd "$(dirname "$0")/.." && pwd)
roots=$top/build/roots
root=$roots/$name
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
stamp_want=$(printf '%s\n' "v3" "$suite" "$arches" "$include" "$extra" "$mirror" | sha256sum | cut -c1-16)

mkdir -p "$roots"
exec 8>"$roots/.$name.lock"
flock 8
if [ -f "$root/.mkroot-stamp" ] && [ "$(cat "$root/.mkroot-stamp")" = "$stamp_want" ]; then
	echo "$root"
	exit 0
fi

new=$root.new
# The chroot helpers mount /proc and /dev below the root: never delete
# through a mount that a killed run left behind.
for m in proc dev/pts dev sys; do
	mountpoint -q "$new/$m" 2>/dev/null && umount -l "$new/$m"
done
rm -rf "$new"
IFS=, read -r -a archlist <<<"$arches"
native=${archlist[0]}
echo "mkroot: debootstrap $suite ($native) into $new" >&2
start=$(date +%s)
log=$roots/$name.debootstrap.log
if ! debootstrap --variant=minbase --arch="$native" "$suite" "$new" "$mirror" >"$log" 2>&1; then
	tail -20 "$log" >&2
	die "debootstrap $suite failed (log: $log)"
fi

{
	echo "deb $mirror $suite main"
	# Security updates, but not for multiarch roots: multiarch needs the same
	# version of a library for every architecture, and the archive reached
	# here lacks the arm64 builds of Debian 11's security updates, so those
	# roots stay at the point release (see docs/install.md).
	if [ "$arches" = "$native" ]; then
		echo "deb ${mirror%/debian}/debian-security $suite-security main"
	fi
	[ -z "$extra" ] || printf '%s\n' "$extra"
} >"$new/etc/apt/sources.list"
# apt in the root must not start services or ask questions.
printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
chmod 0755 "$new/usr/sbin/policy-rc.d"

inroot() {
	unshare --mount --propagation private --fork -- chroot "$new" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}
for a in "${archlist[@]:1}"; do
	inroot dpkg --add-architecture "$a"
done
if [ -n "$include" ]; then
	IFS=, read -r -a pkgs <<<"$include"
	echo "mkroot: installing ${#pkgs[@]} package(s) into $name" >&2
	inroot apt-get update -qq >>"$log" 2>&1 || {
		tail -20 "$log" >&2
		die "apt-get update in $name failed (log: $log)"
	}
	inroot apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 || {
		tail -20 "$log" >&2
		die "apt-get install in $name failed (log: $log)"
	}
	inroot apt-get clean
fi
rm -f "$new/usr/sbin/policy-rc.d"
echo "$stamp_want" >"$new/.mkroot-stamp"
rm -rf "$root"
mv "$new" "$root"
echo "mkroot: $name ready in $(($(date +%s) - start))s" >&2
echo "$root"
