#!/usr/bin/env bash
# make packages: build chaos-agent and chaosctl portably and package them.
#
#   packaging/build.sh [amd64|arm64]...     (default: both)
#
# 1. Compiles both programs for each architecture inside a Debian 11 root
#    (glibc 2.31) made by debootstrap (packaging/roots.sh), with every
#    library but glibc linked in statically (packaging/build-in-root.sh).
# 2. Fails when a binary needs a glibc symbol newer than 2.31
#    (packaging/check-glibc.sh).
# 3. Writes, into build/packages/:
#      chaos-agent_VERSION-1_ARCH.deb   chaosctl_VERSION-1_ARCH.deb
#      chaos-agent-VERSION-1.RPMARCH.rpm chaosctl-VERSION-1.RPMARCH.rpm
#    and SHA256SUMS.
# Needs root (debootstrap, chroot) and the host's bin/chaosctl (make
# packages builds it), which writes the packages' completion scripts. Roots
# and library builds are cached under build/; a second run rebuilds only
# what changed.
set -euo pipefail

die() {
	echo "packages: $*" >&2
	exit 1
}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=packaging/roots.sh
. packaging/roots.sh
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
for t in dpkg-deb rpmbuild readelf gzip; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh installs it)"
done
[ -x bin/chaosctl ] || die "bin/chaosctl is missing: run make (it writes the completion scripts)"

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)
for a in "${arches[@]}"; do
	case $a in
	amd64 | arm64) ;;
	*) die "architecture '$a': only amd64 and arm64 are built" ;;
	esac
done

version=$(cat VERSION)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION '$version' is not X.Y.Z"
pkgver=$version-1
work=$top/build/pkg
dist=$top/build/packages
mkdir -p "$work" "$dist"
# One build at a time (CI starts one in the background while the tests
# run; make check-packaging and check-instance then wait for it here).
exec 7>"$work/.lock"
flock 7
start=$(date +%s)

root=$(root_build)

# Copy the sources the build needs into build/pkg/src-ARCH. File times are
# kept, so make rebuilds only what changed since the last run; the folders
# are emptied first, so a deleted file does not linger.
stage_sources() {
	local dst=$work/src-$1 d
	mkdir -p "$dst"
	for d in agent common faults controller packaging; do
		rm -rf "${dst:?}/$d"
	done
	tar -C "$top" -cf - agent common faults controller packaging/compat \
		packaging/build-in-root.sh Makefile VERSION |
		tar -C "$dst" -xf -
}

# Run build-in-root.sh for one architecture inside the root, with
# build/pkg on /work. The mounts live in a private mount namespace and
# vanish with it, even when the build fails.
build_in_root() {
	mkdir -p "$root/work"
	# The inner script takes its values as arguments, not by expansion here.
	# shellcheck disable=SC2016
	unshare --mount --propagation private --fork -- bash -c '
		set -e
		mount --bind "$1" "$2/work"
		mount -t proc proc "$2/proc"
		exec chroot "$2" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			bash "/work/src-$3/packaging/build-in-root.sh" "$3"' _ "$work" "$root" "$1"
}

for a in "${arches[@]}"; do
	stage_sources "$a"
	build_in_root "$a" || die "the $a build failed"
	packaging/check-glibc.sh 2.31 "$work/out/$a/chaos-agent" "$work/out/$a/chaosctl"
done

man_gz() {
	mkdir -p "$(dirname "$2")"
	gzip -9nc "$1" >"$2"
	chmod 0644 "$2"
}

# Lay out one package's files under $1 (a fresh directory) for format $3.
stage_agent() {
	local d=$1 a=$2 fmt=$3 unitdir=/usr/lib/systemd/system docdir licdir
	# Debian 12 still ships units under /lib (the /usr merge of dpkg's
	# file database is not done); Amazon Linux uses /usr/lib.
	[ "$fmt" = deb ] && unitdir=/lib/systemd/system
	docdir=$d/usr/share/doc/chaos-agent
	licdir=$docdir
	[ "$fmt" = rpm ] && licdir=$d/usr/share/licenses/chaos-agent
	install -D -m 0755 "$work/out/$a/chaos-agent" "$d/usr/sbin/chaos-agent"
	install -D -m 0644 packaging/chaos-agent.service "$d$unitdir/chaos-agent.service"
	install -D -m 0644 packaging/sysusers.conf "$d/usr/lib/sysusers.d/chaos-agent.conf"
	install -D -m 0644 packaging/agent.conf "$d/etc/chaos-agent/agent.conf"
	# The state directory (root only) is the RPM's to own; on Debian the
	# unit's StateDirectory= and the agent make it, and purge removes it.
	[ "$fmt" = deb ] || install -d -m 0700 "$d/var/lib/chaos-agent"
	[ "$fmt" = rpm ] || install -D -m 0644 packaging/deb/chaos-agent.lintian-overrides \
		"$d/usr/share/lintian/overrides/chaos-agent"
	man_gz packaging/man/chaos-agent.8 "$d/usr/share/man/man8/chaos-agent.8.gz"
	install -D -m 0644 docs/install.md "$docdir/install.md"
	install -D -m 0644 docs/operations.md "$docdir/operations.md"
	install -D -m 0644 docs/security.md "$docdir/security.md"
	licenses "$licdir" "$fmt" curl libmicrohttpd cjson openssl libseccomp
}

stage_ctl() {
	local d=$1 a=$2 fmt=$3 docdir licdir bundle=/etc/ssl/certs/ca-certificates.crt
	docdir=$d/usr/share/doc/chaosctl
	licdir=$docdir
	[ "$fmt" = rpm ] && licdir=$d/usr/share/licenses/chaosctl
	# The embedded libcurl looks for CA certificates here; each system keeps
	# its bundle elsewhere.
	[ "$fmt" = rpm ] && bundle=/etc/pki/tls/certs/ca-bundle.crt
	install -D -m 0755 "$work/out/$a/chaosctl" "$d/usr/bin/chaosctl"
	[ "$fmt" = rpm ] || install -D -m 0644 packaging/deb/chaosctl.lintian-overrides \
		"$d/usr/share/lintian/overrides/chaosctl"
	install -d "$d/usr/lib/chaosctl"
	# Debian policy wants links across top-level directories absolute,
	# rpmlint wants them relative.
	[ "$fmt" = deb ] || bundle=../../..$bundle
	ln -s "$bundle" "$d/usr/lib/chaosctl/ca-bundle.crt"
	man_gz packaging/man/chaosctl.1 "$d/usr/share/man/man1/chaosctl.1.gz"
	# Completion scripts are text made from chaosctl's own tables: the host's
	# bin/chaosctl (make packages builds it from the same sources) writes them.
	local zshdir=$d/usr/share/zsh/vendor-completions
	[ "$fmt" = rpm ] && zshdir=$d/usr/share/zsh/site-functions
	install -d "$d/usr/share/bash-completion/completions" "$zshdir"
	bin/chaosctl completion bash >"$d/usr/share/bash-completion/completions/chaosctl"
	bin/chaosctl completion zsh >"$zshdir/_chaosctl"
	chmod 0644 "$d/usr/share/bash-completion/completions/chaosctl" "$zshdir/_chaosctl"
	install -D -m 0644 docs/protocol.md "$docdir/protocol.md"
	licenses "$licdir" "$fmt" curl expat cjson openssl
}

# licenses DIR FORMAT LIB...: the project's copyright notice and those of
# the libraries the binary embeds.
licenses() {
	local dir=$1 fmt=$2 lib
	shift 2
	install -d "$dir"
	sed -e "s/@YEAR@/$(date -u +%Y)/" -e "s/@LIBS@/$*/" packaging/copyright >"$dir/copyright"
	chmod 0644 "$dir/copyright"
	for lib in "$@"; do
		install -m 0644 "$work/out/licenses/$lib.copyright" "$dir/copyright.$lib"
	done
	[ "$fmt" = deb ] || mv "$dir/copyright" "$dir/LICENSE"
}

deb_changelog() {
	local pkg=$1 dir=$2
	{
		printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$pkgver"
		printf '  * Built by packaging/build.sh; the changes are in the project history.\n\n'
		printf ' -- chaos-kit maintainers <maintainers@users.noreply.r-seed-c3d54143.example>  %s\n' \
			"$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
	} | gzip -9n >"$dir/usr/share/doc/$pkg/changelog.Debian.gz"
	chmod 0644 "$dir/usr/share/doc/$pkg/changelog.Debian.gz"
}

build_deb() {
	local pkg=$1 a=$2 d=$work/deb/$1-$2 f size
	rm -rf "$d"
	mkdir -p "$d/DEBIAN"
	"stage_$3" "$d" "$a" deb
	deb_changelog "$pkg" "$d"
	size=$(du -sk --exclude=DEBIAN "$d" | cut -f1)
	sed -e "s/@VERSION@/$pkgver/" -e "s/@ARCH@/$a/" -e "s/@SIZE@/$size/" \
		"packaging/deb/$pkg.control" >"$d/DEBIAN/control"
	for f in postinst prerm postrm; do
		if [ -f "packaging/deb/$pkg.$f" ]; then
			install -m 0755 "packaging/deb/$pkg.$f" "$d/DEBIAN/$f"
		fi
	done
	if [ -d "$d/etc" ]; then
		(cd "$d" && find etc -type f -printf '/%p\n') >"$d/DEBIAN/conffiles"
	fi
	(cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
		xargs -0 md5sum) >"$d/DEBIAN/md5sums"
	chmod 0644 "$d/DEBIAN/control" "$d/DEBIAN/md5sums"
	[ ! -f "$d/DEBIAN/conffiles" ] || chmod 0644 "$d/DEBIAN/conffiles"
	dpkg-deb --root-owner-group -Zxz --build "$d" "$dist/${pkg}_${pkgver}_$a.deb" >/dev/null
}

build_rpms() {
	local a=$1 rpmarch d=$work/rpm/$1 top_rpm=$work/rpmbuild
	case $a in
	amd64) rpmarch=x86_64 ;;
	arm64) rpmarch=aarch64 ;;
	esac
	rm -rf "$d" "$top_rpm"
	mkdir -p "$d/stage" "$top_rpm"
	stage_agent "$d/stage" "$a" rpm
	stage_ctl "$d/stage" "$a" rpm
	sed -e "s/@VERSION@/$version/g" \
		-e "s/@DATE@/$(LC_ALL=C date -u +'%a %b %d %Y')/" \
		packaging/rpm/chaos-kit.spec >"$d/chaos-kit.spec"
	rpmbuild -bb --quiet --target "$rpmarch" \
		--define "_topdir $top_rpm" --define "stage $d/stage" \
		--define "_build_id_links none" \
		"$d/chaos-kit.spec" >"$d/rpmbuild.log" 2>&1 ||
		{ tail -30 "$d/rpmbuild.log" >&2; die "rpmbuild for $rpmarch failed"; }
	cp "$top_rpm/RPMS/$rpmarch/"*.rpm "$dist/"
}

for a in "${arches[@]}"; do
	rm -f "$dist"/*_"$a".deb
	build_deb chaos-agent "$a" agent
	build_deb chaosctl "$a" ctl
	build_rpms "$a"
done
(cd "$dist" && sha256sum ./*.deb ./*.rpm | sed 's# \./# #' >SHA256SUMS)
echo "packages: built in $(($(date +%s) - start))s:" >&2
(cd "$dist" && find . -maxdepth 1 \( -name '*.deb' -o -name '*.rpm' \) -printf '%s %f\n' |
	sort -k2 | awk '{printf "  %-48s %7d KiB\n", $2, $1/1024}') >&2
