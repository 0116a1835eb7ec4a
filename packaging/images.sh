#!/usr/bin/env bash
# Build the container images with the Docker engine of DOCKER_HOST.
#
#   packaging/images.sh runner [DOCKER BUILD ARGS...]  chaos-kit-runner:VERSION
#   packaging/images.sh agent  [DOCKER BUILD ARGS...]  chaos-kit-agent:VERSION
#   packaging/images.sh base                           debian:trixie-slim (root)
#
# runner and agent run `docker build` on packaging/runner/Dockerfile and
# packaging/daemon/Dockerfile as they are, from the top of the work tree;
# both take their binaries from the DEBs of `make packages` (the build's
# architecture's, or --platform's). Extra arguments go to docker build
# (--platform, --network host, more tags with -t). When the engine has no
# debian:trixie-slim and cannot pull it (no Docker Hub, as on this
# project's build machines), they make it first as base does (root).
#
# base is for machines that cannot pull from Docker Hub (this project's
# tests): it makes the Dockerfiles' base image from a Debian 13 minbase
# root (packaging/roots.sh root_image), trimmed as the official slim image
# is (no documentation but copyright files, no man pages, no locales, a
# dpkg configuration that keeps later packages' out too, and apt's that
# keeps no caches), imports it
# with `docker import` and tags it debian:trixie-slim. It does nothing
# when the engine has that image from the same root already.
#
# Environment:
#   DOCKER           the docker CLI; default: docker when it has buildx,
#                    else Debian's docker.io client (20.10), whose BuildKit
#                    needs no plugin
#   BUILD_CA_BUNDLE  a CA bundle that pip and Go trust while building
#                    (a TLS-intercepting proxy's); a build secret, never in
#                    a layer
set -euo pipefail

die() {
	echo "images: $*" >&2
	exit 1
}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(cat VERSION)
BASE_IMAGE=debian:trixie-slim
ROOT_LABEL=org.chaos-kit.base-root

docker_cli() {
	if [ -n "${DOCKER:-}" ]; then
		echo "$DOCKER"
	elif docker buildx version >/dev/null 2>&1; then
		echo docker
	elif [ -x /usr/bin/docker ] && /usr/bin/docker --version | grep -q ' 20\.10\.'; then
		echo /usr/bin/docker
	else
		die "no docker client that builds with BuildKit: install docker-buildx, or set DOCKER"
	fi
}

# The architecture the image is for: --platform's (the first of a list),
# or the engine's.
target_arch() {
	local want=""
	while [ $# -gt 0 ]; do
		case $1 in
		--platform=*) want=${1#--platform=} ;;
		--platform) want=${2:-} && shift ;;
		esac
		shift
	done
	[ -n "$want" ] || want=$("$docker" version -f '{{.Server.Arch}}')
	want=${want%%,*}
	want=${want#linux/}
	case ${want%%/*} in
	amd64 | x86_64) echo amd64 ;;
	arm64 | aarch64) echo arm64 ;;
	*) die "architecture '$want': only amd64 and arm64 are packaged" ;;
	esac
}

build() {
	local name=$1 dockerfile=$2 deb=$3 arch start secret=()
	shift 3
	arch=$(target_arch "$@")
	[ -f "build/packages/${deb}_$version-1_$arch.deb" ] ||
		die "build/packages/${deb}_$version-1_$arch.deb missing: run make packages first"
	if [ -n "${BUILD_CA_BUNDLE:-}" ]; then
		[ -r "$BUILD_CA_BUNDLE" ] || die "BUILD_CA_BUNDLE=$BUILD_CA_BUNDLE is not readable"
		secret=(--secret "id=ca-bundle,src=$BUILD_CA_BUNDLE")
	fi
	ensure_base "$@"
	start=$(date +%s)
	DOCKER_BUILDKIT=1 "$docker" build --progress=plain -f "$dockerfile" \
		-t "$name:$version" "${secret[@]}" "$@" . || die "docker build of $name failed"
	echo "images: $name:$version ($arch) built in $(($(date +%s) - start))s," \
		"$("$docker" image inspect -f '{{.Size}}' "$name:$version" |
			awk '{printf "%.0f MB", $1 / 1000000}')" >&2
}

# The slim trimming of debuerreotype (the official images' builder), on a
# copy of the root in $1.
slim() {
	local d=$1
	find "$d/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	find "$d/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$d"/usr/share/{man,info,groff,linda,locale}/* "$d"/usr/share/lintian/overrides/*
	rm -rf "$d"/var/lib/apt/lists/* "$d"/var/cache/apt/*.bin "$d"/var/cache/apt/archives/*.deb \
		"$d"/var/cache/debconf/*-old "$d"/var/lib/dpkg/*-old "$d/.mkroot-stamp"
	find "$d/var/log" -type f -delete
	# and apt's configuration of the official images: no caches or
	# translations left in a layer, services never started while building
	cat >"$d/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$d/etc/apt/apt.conf.d/docker-no-languages"
	echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$d/etc/apt/apt.conf.d/docker-autoremove-suggests"
	printf '#!/bin/sh\nexit 101\n' >"$d/usr/sbin/policy-rc.d"
	chmod 0755 "$d/usr/sbin/policy-rc.d"
	cat >"$d/etc/dpkg/dpkg.cfg.d/docker" <<-'EOF'
		# as in the official debian:*-slim images
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/lintian/overrides/*
		path-exclude /usr/share/locale/*
		path-exclude /usr/share/man/*
	EOF
}

base() {
	local root stamp have
	[ "$(id -u)" -eq 0 ] || die "base must run as root (debootstrap)"
	# shellcheck source=packaging/roots.sh
	. packaging/roots.sh
	root=$(root_image)
	# The root and the trimming decide: a change of either imports anew.
	stamp=$( (cat "$root/.mkroot-stamp"; declare -f slim) | sha256sum | cut -c1-16)
	have=$("$docker" image inspect -f "{{index .Config.Labels \"$ROOT_LABEL\"}}" \
		"$BASE_IMAGE" 2>/dev/null || true)
	if [ "$have" = "$stamp" ]; then
		echo "images: $BASE_IMAGE is already the root $stamp" >&2
		return
	fi
	mkdir -p build/images
	base_work=$(mktemp -d build/images/base.XXXXXX)
	trap 'rm -rf "$base_work"' EXIT
	cp -a "$root/." "$base_work/"
	slim "$base_work"
	tar -C "$base_work" --numeric-owner -cf - . |
		"$docker" import -c 'CMD ["bash"]' -c "LABEL $ROOT_LABEL=$stamp" - "$BASE_IMAGE" >/dev/null ||
		die "docker import failed"
	echo "images: $BASE_IMAGE imported from $root" >&2
}

# The Dockerfiles' base, for a native build: the engine's, else pulled,
# else made from the debootstrap root. A cross build (--platform) needs the
# real one: the root is amd64 only.
ensure_base() {
	"$docker" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return
	echo "images: the engine has no $BASE_IMAGE; pulling it" >&2
	timeout 300 "$docker" pull -q "$BASE_IMAGE" >/dev/null && return
	case " $* " in
	*" --platform"*) die "cannot pull $BASE_IMAGE for a --platform build" ;;
	esac
	[ "$("$docker" version -f '{{.Server.Arch}}')" = amd64 ] ||
		die "cannot pull $BASE_IMAGE, and the debootstrap root is amd64 only"
	echo "images: cannot pull $BASE_IMAGE: making it from a debootstrap root" >&2
	base
}

[ $# -ge 1 ] || die "usage: packaging/images.sh runner|agent|base [DOCKER BUILD ARGS...]"
what=$1
shift
docker=$(docker_cli)
case $what in
runner) build chaos-kit-runner packaging/runner/Dockerfile chaosctl "$@" ;;
agent) build chaos-kit-agent packaging/daemon/Dockerfile chaos-agent "$@" ;;
base)
	[ $# -eq 0 ] || die "base takes no arguments"
	base
	;;
*) die "'$what': runner, agent or base" ;;
esac
