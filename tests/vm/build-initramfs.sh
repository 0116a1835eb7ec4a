#!/usr/bin/env bash
# Build the VM test layer: Debian 12's cloud kernel and a small initramfs
# holding busybox, iproute2's tc and ip, bin/chaos-agent and bin/chaosctl
# (with every shared library they load) and the kernel modules the network
# faults need (sch_netem, sch_prio, ... and their dependencies).
#
# Outputs, all under build/vm/:
#   cache/               the downloaded .deb files (kept between runs)
#   kernel/              the kernel package, extracted, with a modules.dep
#   vmlinuz, kversion    the kernel image and its module version
#   initramfs.cpio.gz    the base initramfs that tests/lib/vm.py boots
#
# Idempotent: the kernel is downloaded and extracted once (VM_KERNEL_REFRESH=1
# fetches the newest one again); the initramfs is rebuilt only when one of
# its inputs (our binaries, tc, ip, busybox, this script, the kernel) is
# newer than it, which costs a few seconds. Needs apt-get, dpkg-deb, cpio,
# gzip and busybox-static (scripts/install-deps.sh installs them all).
# Extra modules: VM_EXTRA_MODULES="sch_cake cls_flower" (names, no .ko).
#
# Usage: tests/vm/build-initramfs.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/build/vm"
CACHE="$OUT/cache"
KDIR="$OUT/kernel"
INITRD="$OUT/initramfs.cpio.gz"
SELF="$ROOT/tests/vm/build-initramfs.sh"
KPKG=linux-image-cloud-amd64

# The modules that network faults use. Dependencies are added from
# modules.dep; em_* (ematches for cls_basic) are all added below.
MODULES=(
	sch_netem sch_prio sch_tbf sch_htb sch_ingress sch_sfq sch_red sch_multiq
	cls_u32 cls_basic cls_matchall cls_fw cls_flower
	act_mirred act_gact act_police act_skbedit
	veth ifb
)
# shellcheck disable=SC2206
MODULES+=(${VM_EXTRA_MODULES:-})

FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf 'build-initramfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in apt-get dpkg-deb cpio gzip ldd; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
for b in chaos-agent chaosctl; do
	[ -x "$ROOT/bin/$b" ] || die "bin/$b is missing: run make all first"
done

# iproute2's tools, also when /usr/sbin is not in PATH (non-root users).
host_tool() {
	local t
	t="$(PATH="$PATH:/usr/sbin:/sbin" command -v "$1" || true)"
	[ -n "$t" ] || die "$1 is missing: run scripts/install-deps.sh (iproute2)"
	printf '%s\n' "$t"
}
TC="$(host_tool tc)"
IP="$(host_tool ip)"

mkdir -p "$CACHE"

# ---- busybox: the host's busybox-static, or the package itself ------------
BUSYBOX=/bin/busybox
is_static() { ! ldd "$1" >/dev/null 2>&1; }
if [ ! -x "$BUSYBOX" ] || ! is_static "$BUSYBOX"; then
	BUSYBOX="$OUT/busybox-static/bin/busybox"
	if [ ! -x "$BUSYBOX" ]; then
		log "fetching busybox-static"
		(cd "$CACHE" && apt-get download -q busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb="$(ls -t "$CACHE"/busybox-static_*.deb 2>/dev/null | head -n1)"
		[ -n "$deb" ] || die "could not download busybox-static"
		rm -rf "$OUT/busybox-static"
		dpkg-deb -x "$deb" "$OUT/busybox-static"
	fi
fi
is_static "$BUSYBOX" || die "$BUSYBOX is not statically linked"

# ---- the kernel: download once, extract, make a modules.dep ---------------
fetch_kernel() {
	local dep deb
	# The metapackage names the current ABI's image package.
	dep="$(apt-cache depends "$KPKG" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')"
	[ -n "$dep" ] || die "apt-cache knows no $KPKG: run apt-get update"
	deb="$(ls -t "$CACHE/${dep}"_*.deb 2>/dev/null | head -n1 || true)"
	if [ -z "$deb" ] || [ "${VM_KERNEL_REFRESH:-0}" = 1 ]; then
		log "downloading $dep"
		# apt-get download runs as _apt, which cannot write here: it says
		# so and downloads as root instead. That warning is noise.
		(cd "$CACHE" && apt-get download -q "$dep" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb="$(ls -t "$CACHE/${dep}"_*.deb 2>/dev/null | head -n1 || true)"
		[ -n "$deb" ] || die "could not download $dep"
	fi
	log "extracting $(basename "$deb")"
	rm -rf "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	dpkg-deb -x "$deb" "$KDIR.tmp"
	local kver
	kver="$(ls "$KDIR.tmp/lib/modules")"
	[ "$(printf '%s\n' "$kver" | wc -l)" = 1 ] || die "expected one module tree in $deb"
	# The package ships no modules.dep (its postinst runs depmod): make one.
	# busybox depmod reads the depends= of each module's .modinfo.
	"$BUSYBOX" depmod -b "$KDIR.tmp" "$kver"
	rm -rf "$KDIR"
	mv "$KDIR.tmp" "$KDIR"
	cp "$KDIR/boot/vmlinuz-$kver" "$OUT/vmlinuz.tmp"
	mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
	printf '%s\n' "$kver" > "$OUT/kversion"
	basename "$deb" > "$OUT/kernel.deb"
}

if [ ! -s "$OUT/vmlinuz" ] || [ ! -s "$OUT/kversion" ] ||
   [ ! -s "$KDIR/lib/modules/$(cat "$OUT/kversion" 2>/dev/null)/modules.dep" ] ||
   [ "${VM_KERNEL_REFRESH:-0}" = 1 ]; then
	fetch_kernel
	FORCE=1
fi
KVER="$(cat "$OUT/kversion")"
MODDIR="$KDIR/lib/modules/$KVER"

# ---- up to date? -----------------------------------------------------------
inputs=("$ROOT/bin/chaos-agent" "$ROOT/bin/chaosctl" "$SELF" "$OUT/vmlinuz"
	"$BUSYBOX" "$TC" "$IP")
if [ "$FORCE" = 0 ] && [ -s "$INITRD" ]; then
	stale=0
	for f in "${inputs[@]}"; do
		[ "$f" -nt "$INITRD" ] && stale=1
	done
	if [ "$stale" = 0 ]; then
		log "up to date: $INITRD"
		exit 0
	fi
fi

# ---- the modules, dependencies first ---------------------------------------
declare -A MODPATH=() SEEN=()
ORDER=()
while IFS= read -r line; do
	path="${line%%:*}"
	name="$(basename "$path" .ko)"
	MODPATH[$name]="$path"
	MODPATH[${name//-/_}]="$path"
done < "$MODDIR/modules.dep"

# Every ematch (em_cmp, em_meta, em_u32, ...): cls_basic filters use them.
for name in $(printf '%s\n' "${!MODPATH[@]}" | LC_ALL=C sort -u); do
	case "$name" in em_*) MODULES+=("$name") ;; esac
done

deps_of() {
	# The dependencies of the module at relative path $1, from modules.dep.
	awk -v p="$1:" '$1 == p { for (i = 2; i <= NF; i++) print $i; exit }' "$MODDIR/modules.dep"
}
visit() {
	# Depth first: a module's dependencies go into ORDER before it.
	local path="$1" dep
	[ -n "${SEEN[$path]:-}" ] && return 0
	SEEN[$path]=1
	for dep in $(deps_of "$path"); do
		visit "$dep"
	done
	ORDER+=("$path")
}
builtin_mod() { grep -q "/$1\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; }
for m in "${MODULES[@]}"; do
	if [ -n "${MODPATH[$m]:-}" ]; then
		visit "${MODPATH[$m]}"
	elif builtin_mod "$m" || builtin_mod "${m//_/-}"; then
		log "$m is built into $KVER"
	else
		die "module $m is not in $KVER"
	fi
done

# ---- the root tree ----------------------------------------------------------
STAGE="$OUT/root"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cd "$STAGE"
# Debian 12's merged /usr: /bin, /sbin, /lib and /lib64 point into usr/.
mkdir -p usr/bin usr/sbin usr/lib/x86_64-linux-gnu usr/lib64 \
	etc proc sys dev tmp run root guest var/tmp
ln -s usr/bin bin
ln -s usr/sbin sbin
ln -s usr/lib lib
ln -s usr/lib64 lib64
mkdir -p "usr/lib/modules/$KVER"
chmod 1777 tmp var/tmp
chmod 0700 root

# Copy a host file to the same path in the tree, following symlinks.
put() {
	local src="$1" dst="${2:-$1}"
	mkdir -p "$STAGE/$(dirname "$dst")"
	cp -L "$src" "$STAGE/$dst"
}
# Copy an executable or shared object and every library it needs (ldd
# resolves them recursively), the dynamic loader included.
declare -A HAVE_LIB=()
put_with_libs() {
	local f="$1" dst="${2:-$1}" lib
	put "$f" "$dst"
	while IFS= read -r lib; do
		[ -n "$lib" ] || continue
		[ -n "${HAVE_LIB[$lib]:-}" ] && continue
		HAVE_LIB[$lib]=1
		put "$lib"
	done < <(ldd "$f" | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }')
}

cp "$BUSYBOX" usr/bin/busybox
# Applets into /usr/bin, except those iproute2 provides for real.
for applet in $("$BUSYBOX" --list); do
	case "$applet" in busybox|ip|tc) continue ;; esac
	ln -s busybox "usr/bin/$applet"
done

put_with_libs "$TC" /usr/sbin/tc
put_with_libs "$IP" /usr/sbin/ip
# netem's delay distribution tables ("distribution normal", ...).
for d in /usr/lib/x86_64-linux-gnu/tc/*.dist; do
	[ -e "$d" ] && put "$d"
done

put_with_libs "$ROOT/bin/chaos-agent" /usr/sbin/chaos-agent
put_with_libs "$ROOT/bin/chaosctl" /usr/bin/chaosctl
# glibc dlopens libgcc_s for pthread_exit and pthread_cancel (unwinding).
[ -e /lib/x86_64-linux-gnu/libgcc_s.so.1 ] && put_with_libs /lib/x86_64-linux-gnu/libgcc_s.so.1
# OpenSSL reads its configuration at start (a missing one is tolerated,
# but use Debian's, as on a real host). The default provider is built
# into libcrypto; the legacy one is only loaded on request.
if [ -e /usr/lib/ssl/openssl.cnf ]; then
	put /usr/lib/ssl/openssl.cnf /etc/ssl/openssl.cnf
	mkdir -p usr/lib/ssl
	ln -s /etc/ssl/openssl.cnf usr/lib/ssl/openssl.cnf
fi
for p in /usr/lib/x86_64-linux-gnu/ossl-modules/*.so; do
	[ -e "$p" ] && put_with_libs "$p"
done

# Users: the agent drops its worker to "nobody".
cat > etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat > etc/shadow <<'EOF'
root:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 0640 etc/shadow
cat > etc/nsswitch.conf <<'EOF'
passwd: files
group: files
shadow: files
hosts: files
services: files
protocols: files
EOF
cat > etc/hosts <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
printf 'chaos-vm\n' > etc/hostname
printf 'ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nipv6-icmp 58 IPv6-ICMP\n' > etc/protocols

# Modules at their real path, in load order, with a modules.dep so that
# busybox modprobe (and the kernel's request_module) find the others.
for path in "${ORDER[@]}"; do
	mkdir -p "usr/lib/modules/$KVER/$(dirname "$path")"
	cp "$MODDIR/$path" "usr/lib/modules/$KVER/$path"
done
cp "$MODDIR/modules.builtin" "$MODDIR/modules.order" "usr/lib/modules/$KVER/" 2>/dev/null || true
"$BUSYBOX" depmod -b "$STAGE" "$KVER"
printf '%s\n' "${ORDER[@]}" > etc/vm-modules
printf '%s\n' "$KVER" > etc/vm-kversion

cat > init <<'EOF'
#!/bin/sh
# /init of the chaos-kit test VM: mount the usual file systems, load the
# network modules, bring lo up, run /guest/run.sh (put there by a second
# initramfs that tests/lib/vm.py appends), print "GUEST-EXIT <code>" and
# power off. Everything goes to the serial console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
# Debian's busybox-static is built with FEATURE_SH_STANDALONE and
# FEATURE_PREFER_APPLETS: its sh runs its own "ip" and "tc" applets before
# anything in PATH, and so do its applets that run commands (timeout, env,
# xargs, nsenter, ...). These functions make the script's ip and tc the
# real iproute2 ones; /guest/run.sh is sourced in a subshell to see them.
# Elsewhere (sh -c, timeout, ...) write /usr/sbin/tc and /usr/sbin/ip.
ip() { /usr/sbin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# Keep kernel messages off the console from here on: only errors.
echo 3 > /proc/sys/kernel/printk
hostname -F /etc/hostname
echo "GUEST-BOOT $(cut -d' ' -f1 /proc/uptime)"
kver=$(cat /etc/vm-kversion)
while read -r m; do
	out=$(insmod "/lib/modules/$kver/$m" 2>&1) || case "$out" in
		*"File exists"*) ;;
		*) echo "GUEST-WARN insmod $m: $out" ;;
	esac
done < /etc/vm-modules
ip link set lo up
echo "GUEST-START $(cut -d' ' -f1 /proc/uptime)"
rc=127
if [ -f /guest/run.sh ]; then
	# shellcheck disable=SC1091
	(cd /guest && . /guest/run.sh) < /dev/null
	rc=$?
else
	echo "GUEST-WARN no /guest/run.sh"
fi
echo "GUEST-EXIT $rc $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
# poweroff -f does not return; if it did, panic=-1 and -no-reboot end qemu.
exit "$rc"
EOF
chmod 0755 init

# ---- the archive -------------------------------------------------------------
log "packing $(find . -mindepth 1 | wc -l) entries (kernel $KVER, ${#ORDER[@]} modules)"
find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -n -6 > "$INITRD.tmp"
mv "$INITRD.tmp" "$INITRD"
log "wrote $INITRD ($(du -h "$INITRD" | cut -f1), uncompressed $(du -sh --apparent-size . | cut -f1))"
