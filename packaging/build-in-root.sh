#!/usr/bin/env bash
# Runs inside the Debian 11 build root (packaging/build.sh enters it) with
# build/pkg of the host mounted on /work. Builds, for one architecture:
#
#   1. the libraries the binaries embed, from Debian's source packages
#      (with Debian's patches): OpenSSL 1.1.1 from Debian 11's security
#      archive (the point release's libssl-dev lacks its fixes, and the
#      mirror has no arm64 builds of the security updates), then, from
#      Debian 12, libcurl (Debian 11's 7.74 lacks CURLOPT_AWS_SIGV4 and
#      CURLOPT_PROTOCOLS_STR; twice: with TLS for chaosctl, without for the
#      agent), libmicrohttpd, expat and cJSON, each as a static library
#      with only the features we use, into /work/deps/ARCH
#      (kept between runs: a stamp of this script and of the source
#      versions says when to rebuild);
#   2. chaos-agent and chaosctl from /work/src-ARCH with `make WERROR=1`,
#      linked against those archives and Debian 11's static libseccomp, so
#      they need nothing but glibc (>= 2.31) at run time;
#   3. stripped copies in /work/out/ARCH and the embedded libraries'
#      copyright files in /work/out/licenses.
#
# Usage (inside the root): build-in-root.sh amd64|arm64
set -euo pipefail

die() {
	echo "build-in-root: $*" >&2
	exit 1
}

arch=${1:-}
case $arch in
amd64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
*) die "usage: build-in-root.sh amd64|arm64 (got '$arch')" ;;
esac

jobs=$(nproc)
work=/work
srcs=$work/deps/src
prefix=$work/deps/$arch
export PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
export CC=$triplet-gcc AR=$triplet-ar RANLIB=$triplet-ranlib
# The same hardening as the project's own objects; -fPIC so the archives
# link into position-independent executables.
export CFLAGS="-O2 -g -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2"

# The source packages and the suite each comes from: OpenSSL from Debian
# 11's security archive (the newest 1.1.1 update), the rest from Debian 12
# (bookworm and bookworm-security).
sources=(openssl/bullseye-security curl/bookworm libmicrohttpd/bookworm expat/bookworm cjson/bookworm)
packages=("${sources[@]%%/*}")

fetch_sources() {
	local s p dir
	mkdir -p "$srcs"
	# .fetched lists what was fetched: a changed list fetches anew.
	if [ "$(cat "$srcs/.fetched" 2>/dev/null)" != "${sources[*]}" ]; then
		apt-get update -qq
		rm -rf "${srcs:?}"/*
		for s in "${sources[@]}"; do
			(cd "$srcs" && apt-get source -qq --download-only "$s") >/dev/null ||
				die "apt-get source $s failed"
		done
		echo "${sources[*]}" >"$srcs/.fetched"
	fi
	for p in "${packages[@]}"; do
		dir=$(find "$srcs" -maxdepth 1 -type d -name "$p-[0-9]*" | head -1)
		if [ -z "$dir" ]; then
			# dpkg-source applies Debian's patches (security fixes among them).
			(cd "$srcs" && dpkg-source --no-check -x "$(ls "$p"_*.dsc)" >/dev/null) ||
				die "dpkg-source -x $p failed"
		fi
	done
}

srcdir() {
	find "$srcs" -maxdepth 1 -type d -name "$1-[0-9]*" | head -1
}

# build_autotools NAME[/VARIANT] STEPS CONFIGURE_ARGS...: out-of-tree
# build into $prefix, or $prefix/VARIANT for a second build of the same
# source with other options. STEPS names the make runs, DIR:TARGET each:
# only the library and its headers are built and installed, not the
# programs and tests around them.
build_autotools() {
	local name=${1%%/*} variant='' steps=$2 pkg src bdir step into=$prefix
	[[ $1 == */* ]] && variant=${1#*/} && into=$prefix/$variant
	shift 2
	pkg=$(srcdir "$name")
	[ -n "$pkg" ] || die "no source for $name"
	# Debian's expat source keeps the project one level down, in expat/.
	src=$pkg
	[ -f "$src/configure.ac" ] || src=$pkg/$name
	bdir=$work/deps/build-$arch/$name${variant:+-$variant}
	rm -rf "$bdir"
	mkdir -p "$bdir"
	# Where there is no configure (expat's source is a git export), or
	# Debian's patches touch configure.ac, Makefile.am or m4 files and the
	# shipped one is stale: make it anew, as Debian's build does.
	if [ ! -f "$src/.autoreconf-done" ] && { [ ! -f "$src/configure" ] ||
		{ [ -f "$pkg/debian/patches/series" ] &&
			(cd "$pkg/debian/patches" && grep -v '^#' series | xargs -r grep -lE \
				'^\+\+\+ .*(configure\.ac|Makefile\.am|\.m4)' >/dev/null); }; }; then
		(cd "$src" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf $name failed"
		touch "$src/.autoreconf-done"
	fi
	echo "build-in-root: $name${variant:+ ($variant)} ($arch)" >&2
	(cd "$bdir" && "$src/configure" --host="$triplet" --prefix="$into" \
		--disable-shared --enable-static "$@" >configure.log 2>&1) ||
		{ tail -30 "$bdir/configure.log" >&2; die "configure $name failed (see $bdir/config.log)"; }
	for step in $steps; do
		make -C "$bdir/${step%%:*}" -j"$jobs" "${step#*:}" >>"$bdir/make.log" 2>&1 ||
			{ tail -30 "$bdir/make.log" >&2; die "make $step for $name failed"; }
	done
}

# OpenSSL's libcrypto and libssl, static, from the Debian source with its
# patches: no tests, no documentation, no programs. Debian's own feature
# set (no IDEA, MDC2, RC5, SSLv3, zlib) and its OPENSSLDIR, so the library
# reads the configuration and finds the certificates Debian 11's did. The
# version text gets the Debian revision: upstream's "1.1.1w" is the same
# for every security update, and the packaging tests read the revision
# back from the shipped binaries' version output.
build_openssl() {
	local src bdir target debver
	src=$(srcdir openssl)
	[ -n "$src" ] || die "no source for openssl"
	debver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	case $arch in
	amd64) target=linux-x86_64 ;;
	arm64) target=linux-aarch64 ;;
	esac
	bdir=$work/deps/build-$arch/openssl
	rm -rf "$bdir"
	mkdir -p "$(dirname "$bdir")"
	# OpenSSL builds in its source tree: a copy per architecture.
	cp -a "$src" "$bdir"
	sed -i -E "s/^(# *define OPENSSL_VERSION_TEXT +\"[^\"]*)\"/\1 (Debian $debver)\"/" \
		"$bdir/include/openssl/opensslv.h"
	grep -q "(Debian $debver)\"" "$bdir/include/openssl/opensslv.h" ||
		die "openssl: OPENSSL_VERSION_TEXT not found in opensslv.h"
	echo "build-in-root: openssl $debver ($arch)" >&2
	(cd "$bdir" && env -u CFLAGS ./Configure "$target" --prefix="$prefix" \
		--openssldir=/usr/lib/ssl --libdir=lib no-shared no-dso no-tests \
		no-idea no-mdc2 no-rc5 no-zlib no-ssl3 no-ssl3-method no-capieng \
		-fPIC -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 >configure.log 2>&1) ||
		{ tail -30 "$bdir/configure.log" >&2; die "configure openssl failed"; }
	(cd "$bdir" && make -j"$jobs" build_libs >make.log 2>&1 &&
		make install_dev >>make.log 2>&1) ||
		{ tail -30 "$bdir/make.log" >&2; die "make openssl failed"; }
	echo "$debver" >"$prefix/openssl.version"
}

build_deps() {
	local want cj cflags
	# The recipe (these functions) and the source versions decide.
	want=$( (declare -f build_deps build_autotools build_openssl; ls "$srcs") |
		sha256sum | cut -c1-16)
	if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$want" ]; then
		return
	fi
	rm -rf "$prefix"
	mkdir -p "$prefix/lib" "$prefix/include/cjson"
	build_openssl
	# HTTP and unix sockets; nothing else.
	local curl_http=(--without-zlib --without-brotli --without-zstd \
		--without-nghttp2 --without-libidn2 --without-libpsl --without-librtmp \
		--without-libssh2 --without-libgsasl --disable-ldap --disable-ldaps \
		--disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
		--disable-imap --disable-smtp --disable-gopher --disable-mqtt --disable-smb \
		--disable-ftp --disable-file --disable-manual --disable-docs)
	# chaosctl's: HTTPS too, with our OpenSSL, and SigV4. The CA bundle is a
	# per-package symlink (packaging/build.sh), since Debian and Amazon Linux
	# keep theirs in different places.
	build_autotools curl "lib:all lib:install include:install" --with-openssl="$prefix" \
		--with-ca-bundle=/usr/lib/chaosctl/ca-bundle.crt --without-ca-path \
		"${curl_http[@]}"
	# The agent's: no TLS at all. It speaks plain HTTP only (to Docker's
	# socket and to the ECS agent on 169.254.170.2, and it sets
	# CURLOPT_PROTOCOLS_STR "http"); a TLS-capable libcurl would link libssl
	# and most of libcrypto into it, over a megabyte of code and relocated
	# tables in memory for nothing.
	build_autotools curl/http "lib:all lib:install" --without-ssl "${curl_http[@]}"
	# Debian's patches name the library after a TLS flavour (libcurl-nss.a).
	local lib
	for lib in "$prefix/lib" "$prefix/http/lib"; do
		if [ ! -f "$lib/libcurl.a" ]; then
			mv "$(ls "$lib"/libcurl-*.a)" "$lib/libcurl.a"
		fi
	done
	# HTTP only: the agent's API is plain HTTP (see docs/security.md).
	build_autotools libmicrohttpd "src/microhttpd:all src/microhttpd:install src/include:install" \
		--disable-https --without-gnutls --disable-doc \
		--disable-examples --disable-curl --disable-postprocessor
	# chaosctl's XML parser (AWS Query answers, parsed from memory): the
	# library and its headers, not xmlwf, the examples or the tests.
	build_autotools expat "lib:all lib:install" \
		--without-xmlwf --without-examples --without-tests --without-docbook
	cj=$(srcdir cjson)
	echo "build-in-root: cjson ($arch)" >&2
	read -r -a cflags <<<"$CFLAGS"
	"$CC" "${cflags[@]}" -std=c89 -c -o "$prefix/cJSON.o" "$cj/cJSON.c"
	"$AR" rcs "$prefix/lib/libcjson.a" "$prefix/cJSON.o"
	cp "$cj/cJSON.h" "$prefix/include/cjson/cJSON.h"
	echo "$want" >"$prefix/.stamp"
}

licenses() {
	local out=$work/out/licenses p
	mkdir -p "$out"
	for p in "${packages[@]}"; do
		cp "$(srcdir "$p")/debian/copyright" "$out/$p.copyright"
	done
	cp /usr/share/doc/libseccomp-dev/copyright "$out/libseccomp.copyright"
}

build_project() {
	local src=$work/src-$arch out=$work/out/$arch sys=/usr/lib/$triplet d=$prefix/lib
	# The agent links the TLS-less libcurl and no libssl; of libcrypto it
	# uses SHA-256 and two helpers (common/sign.c says why no more).
	local agent_libs="$d/libmicrohttpd.a $d/libcjson.a $prefix/http/lib/libcurl.a"
	agent_libs+=" $d/libcrypto.a $sys/libseccomp.a -lpthread -ldl"
	local ctl_libs="$d/libexpat.a $d/libcjson.a $d/libcurl.a $d/libssl.a $d/libcrypto.a"
	ctl_libs+=" -lpthread -ldl -lm"
	echo "build-in-root: chaos-agent and chaosctl ($arch)" >&2
	# Make variables given on the command line replace the pkg-config
	# answers of the Makefile: every library but glibc is an archive.
	# Debian 11's gcc 10 flags a snprintf in controller/cmd_run.c whose
	# truncation the code ignores, which gcc 12 (the project's compiler)
	# does not: it stays a printed warning here rather than an error.
	make -C "$src" -j"$jobs" WERROR=1 CC="$CC" \
		CFLAGS="-include $src/packaging/compat/glibc.h -Wno-error=format-truncation" \
		PKG_CFLAGS="-I$prefix/include -DCURL_STATICLIB" \
		AGENT_LIBS="$agent_libs" CTL_LIBS="$ctl_libs" \
		all >&2
	mkdir -p "$out"
	"$triplet-strip" --strip-unneeded -o "$out/chaos-agent" "$src/bin/chaos-agent"
	"$triplet-strip" --strip-unneeded -o "$out/chaosctl" "$src/bin/chaosctl"
}

fetch_sources
build_deps
licenses
build_project
