#!/usr/bin/env bash
# Build the container-instance VM of the instance test layer: a Debian 12
# disk image that boots like an ECS container instance. systemd as init,
# cgroup v2 only, Docker, Debian's cloud kernel with sch_netem, and the
# project's chaos-agent DEB installed with apt and configured the way the
# ECS user data configures it (listen address, key, sch_netem at boot).
#
#   tests/instance/build-image.sh [--force]
#
# Inputs: the Debian root from packaging/roots.sh (root_instance, cached in
# build/roots/) and build/packages/chaos-agent_VERSION-1_amd64.deb (make
# packages). Outputs, in build/instance/:
#   disk.img           raw ext4 file system, the VM's /dev/vda (sparse)
#   vmlinuz, initrd    the root's own kernel and initramfs
#   cmdline            the kernel options the image boots with
#   agent.key          the agent's HMAC key (a copy of the guest's)
#   ssh/id_ed25519     the key the test harness logs in with
#   stamp              what the image was made from
# The disk image is made without loop mounts (mkfs.ext4 -d), then booted
# once under qemu to import the container image into Docker and create the
# test tasks (tests/instance/workload.py); the tests boot
# it with snapshot=on, so it never changes afterwards. A second run with the
# same inputs (the root, the DEB's contents, this script, workload.py and
# probe.py) returns at once.
# Needs root (chroot), qemu-system-x86_64, mkfs.ext4 and ssh-keygen.
set -euo pipefail

die() {
	echo "build-image: $*" >&2
	exit 1
}
log() { echo "build-image: $*" >&2; }

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=$top/build/instance
self=$top/tests/instance/build-image.sh
force=0
[ "${1:-}" = "--force" ] && force=1

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
for t in mkfs.ext4 ssh-keygen dpkg-deb qemu-system-x86_64; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh installs it)"
done
version=$(cat VERSION)
deb=$top/build/packages/chaos-agent_${version}-1_amd64.deb
[ -f "$deb" ] || die "$deb is missing: run make packages (or packaging/build.sh amd64)"

# shellcheck source=packaging/roots.sh
. packaging/roots.sh
root=$(root_instance)

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

# What the image is made of: the root's stamp, the DEB's control files and
# payload checksums (not its bytes: file times differ between builds of the
# same sources), and this script.
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$deb" "$ctl/DEBIAN"
stamp=$( (cat "$root/.mkroot-stamp" "$self" "$top/tests/instance/workload.py" \
	"$top/tests/instance/probe.py"; cat "$ctl"/DEBIAN/*) | sha256sum | cut -c1-16)
if [ $force -eq 0 ] && [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] &&
	[ -f "$out/disk.img" ]; then
	exit 0
fi
start=$(date +%s)
rm -f "$out/stamp"

# ---- the keys the harness uses (made once, kept across images)
mkdir -p "$out/ssh"
[ -f "$out/ssh/id_ed25519" ] ||
	ssh-keygen -q -t ed25519 -N '' -C chaos-instance-test -f "$out/ssh/id_ed25519"

# ---- the guest's tree: a copy of the cached root, the DEB installed by apt
work=$out/root.new
rm -rf "$work"
log "copying the root"
cp -a "$root" "$work"
rm -f "$work/.mkroot-stamp"

inwork() {
	unshare --mount --propagation private --fork -- chroot "$work" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}
printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
chmod 0755 "$work/usr/sbin/policy-rc.d"
cp "$deb" "$work/tmp/"
log "installing $(basename "$deb") with apt"
inwork apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" \
	>"$out/apt.log" 2>&1 || {
	tail -20 "$out/apt.log" >&2
	die "apt-get install of the DEB failed (log: $out/apt.log)"
}
rm -f "$work/tmp/$(basename "$deb")" "$work/usr/sbin/policy-rc.d"

# ---- the agent, configured as the ECS user data configures it
# qemu's user network gives the guest 10.0.2.15; the harness reaches the
# agent there through a host forward.
sed -i 's/^listen = .*/listen = 10.0.2.15:8421/' "$work/etc/chaos-agent/agent.conf"
grep -q '^listen = 10.0.2.15:8421$' "$work/etc/chaos-agent/agent.conf" ||
	die "the packaged agent.conf has no 'listen =' line to set"
[ -f "$out/agent.key" ] || "$top/bin/chaosctl" keygen --out "$out/agent.key" >/dev/null
install -m 0600 -o root -g root "$out/agent.key" "$work/etc/chaos-agent/agent.key"
echo sch_netem >"$work/etc/modules-load.d/chaos-agent.conf"

# ---- the machine
echo chaos-instance >"$work/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 chaos-instance\n' >"$work/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$work/etc/fstab"
# A fixed address: no DHCP wait at boot.
cat >"$work/etc/systemd/network/10-uplink.network" <<'EOF'
[Match]
Name=eth0

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
ln -sf /lib/systemd/system/systemd-networkd.service \
	"$work/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$work/etc/systemd/system/network-online.target.wants"
ln -sf /lib/systemd/system/systemd-networkd-wait-online.service \
	"$work/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service"
# Units that only cost boot time in a throwaway VM (each process start is
# slow under emulation): timers, consoles, and modules nothing here uses.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
	e2scrub_reap.service systemd-timesyncd.service getty@tty1.service \
	serial-getty@ttyS0.service modprobe@fuse.service modprobe@loop.service \
	modprobe@dm_mod.service modprobe@drm.service modprobe@efi_pstore.service \
	modprobe@configfs.service; do
	ln -sf /dev/null "$work/etc/systemd/system/$u"
done
# The harness logs in as root with its own key.
install -d -m 0700 "$work/root/.ssh"
install -m 0600 "$out/ssh/id_ed25519.pub" "$work/root/.ssh/authorized_keys"
cat >"$work/etc/ssh/sshd_config.d/chaos-instance.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
GSSAPIAuthentication no
EOF
# The initramfs needs only the disk driver and the file system.
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$work/etc/initramfs-tools/conf.d/chaos-instance.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' >"$work/etc/initramfs-tools/modules"
kver=$(basename "$(ls -d "$work"/lib/modules/*)")
inwork update-initramfs -u -k "$kver" >>"$out/apt.log" 2>&1 ||
	die "update-initramfs failed (log: $out/apt.log)"

# ---- the test tasks and their peer, made at the first boot
# The container image: busybox-static, imported by the first boot.
lib=$work/usr/local/lib/chaos-vm
img=$work/var/lib/chaos-vm/busybox
install -d "$lib" "$img/bin" "$img/tmp" "$img/proc" "$img/sys" "$img/dev" "$img/etc"
cp "$work/bin/busybox" "$img/bin/busybox"
for applet in $("$img/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$img/bin/$applet"
done
tar -C "$img" -cf "$work/var/lib/chaos-vm/busybox.tar" .
rm -rf "$img"
install -m 0644 "$top/tests/instance/probe.py" "$lib/probe.py"
python3 "$top/tests/instance/workload.py" >"$lib/provision.sh"
chmod 0755 "$lib/provision.sh"
cat >"$work/etc/systemd/system/chaos-vm-provision.service" <<'UNIT'
[Unit]
Description=First boot of the test image: the container image and the tasks, then power off
Requires=docker.service
After=docker.service
ConditionPathExists=!/var/lib/chaos-vm/provisioned
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/usr/local/lib/chaos-vm/provision.sh
ExecStart=/usr/bin/touch /var/lib/chaos-vm/provisioned
ExecStart=/bin/echo CHAOS-VM-PROVISIONED
StandardOutput=journal+console
StandardError=journal+console
UNIT
# The peer of the tasks' traffic: probe servers on the instance itself.
cat >"$work/etc/systemd/system/chaos-vm-probe.service" <<'UNIT'
[Unit]
Description=Probe servers the instance tests send traffic to

[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/chaos-vm/probe.py serve 7000 7001 7100
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
for u in chaos-vm-provision chaos-vm-probe; do
	ln -sf "/etc/systemd/system/$u.service" \
		"$work/etc/systemd/system/multi-user.target.wants/$u.service"
done

# The kernel options the image needs, read by tests/lib/vm.py too: the
# disk, cgroup v2 only as on Amazon Linux 2023 (no v1 hierarchy can even be
# mounted), eth0 kept as named (no rename to wait for), and no AppArmor
# (Amazon Linux has none; Docker would need apparmor_parser).
cmdline="root=/dev/vda rw net.ifnames=0 apparmor=0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
cp "$work/boot/vmlinuz-$kver" "$out/vmlinuz.new"
cp "$work/boot/initrd.img-$kver" "$out/initrd.new"

# ---- the disk: an ext4 file system filled from the tree, no loop mount
used=$(du -sm "$work" | cut -f1)
size=$((used + 2048))
rm -f "$out/disk.img.new"
log "making a ${size} MiB ext4 image (${used} MiB used)"
mkfs.ext4 -q -F -L chaos-root -d "$work" "$out/disk.img.new" "${size}M" ||
	die "mkfs.ext4 -d failed"
rm -rf "$work"

# ---- first boot: Docker imports the image, then the machine powers off.
# The agent stays masked: its state directory starts empty in the tests.
log "first boot (provisioning)"
console=$out/provision.log
if ! timeout 600 qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 2048 -smp 2 \
	-nodefaults -no-user-config -display none -monitor none -no-reboot \
	-serial "file:$console" -nic user,model=virtio-net-pci \
	-drive "file=$out/disk.img.new,format=raw,if=virtio,cache=unsafe" \
	-kernel "$out/vmlinuz.new" -initrd "$out/initrd.new" \
	-append "$cmdline console=ttyS0 quiet systemd.mask=chaos-agent.service" \
	>/dev/null 2>&1; then
	tail -30 "$console" >&2
	die "the provisioning boot did not end (console: $console)"
fi
grep -q CHAOS-VM-PROVISIONED "$console" || {
	tail -30 "$console" >&2
	die "the provisioning boot did not import the image (console: $console)"
}
mv -f "$out/vmlinuz.new" "$out/vmlinuz"
mv -f "$out/initrd.new" "$out/initrd"
mv -f "$out/disk.img.new" "$out/disk.img"
echo "$kver" >"$out/kversion"
echo "$cmdline" >"$out/cmdline"
echo "$stamp" >"$out/stamp"
log "image ready in $(($(date +%s) - start))s ($out/disk.img, kernel $kver)"
