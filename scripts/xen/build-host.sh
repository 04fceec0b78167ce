#!/bin/bash
# Builds the Xen test host image from Debian packages only (run as root; called by
# scripts/xen-build.ts, which decides whether a build is needed and where it goes).
#
#   build-host.sh OUT WORK XEN_VERSION KERNEL_PACKAGE MIRROR SECURITY_MIRROR
#
# OUT gets:
#   xen              the hypervisor (Debian's xen-hypervisor-4.17-amd64, gunzipped: QEMU's
#                    -kernel loads this 32-bit multiboot ELF as it is)
#   vmlinuz          the Debian kernel, dom0's and the guests'
#   dom0-initrd.gz   a busybox initramfs that loads virtio and ext4, mounts /dev/vda and hands
#                    over to /sbin/portal-dom0-init (scripts/xen/dom0-init.sh) on it
#   dom0.qcow2       dom0's root: debootstrap --variant=minbase with the Xen tools of the
#                    hypervisor's exact version (bookworm-security), lvm2, bridge-utils,
#                    iproute2, openssh-server, netcat-openbsd; compressed; each boot runs on a
#                    thin overlay of it
# and inside dom0's root, /var/lib/xen/images/ holds the Linux test guest for Xen:
#   vmlinuz, initrd.img      the same kernel and a busybox initramfs (scripts/xen/guest-init.sh)
#                            that loads xen-blkfront and xen-netfront, runs Dropbear and prints
#                            PORTAL-READY on its console
#   golden-linux-xen.ext4    the golden filesystem the portal snapshots (64 MiB ext4)
set -euo pipefail
OUT=$1 WORK=$2 XEN_VERSION=$3 KERNEL_PACKAGE=$4 MIRROR=$5 SECURITY_MIRROR=$6
HERE=$(cd "$(dirname "$0")" && pwd)
say() { echo "[xen:build] $*"; }

rm -rf "$WORK" && mkdir -p "$WORK/debs" "$OUT"
cd "$WORK"

# 1. Hypervisor and kernel: the .debs, unpacked without installing them on the build host.
say "apt-get download xen-hypervisor-4.17-amd64=$XEN_VERSION $KERNEL_PACKAGE"
(cd debs && apt-get download -q "xen-hypervisor-4.17-amd64=$XEN_VERSION" "$KERNEL_PACKAGE" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
dpkg-deb -x debs/xen-hypervisor-4.17-amd64_*.deb xen-deb
dpkg-deb -x "$(ls debs/${KERNEL_PACKAGE}_*.deb)" kernel-deb
KVER=$(ls kernel-deb/lib/modules)
gunzip -c xen-deb/boot/xen-4.17-amd64.gz > "$OUT/xen"
cp "kernel-deb/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
MODS=kernel-deb/lib/modules/$KVER

# A busybox initramfs with these modules (in load order) and an /init script.
make_initramfs() { # DIR INIT OUT MODULE...
  local dir=$1 init=$2 out=$3; shift 3
  mkdir -p "$dir"/{bin,sbin,dev,proc,sys,run,tmp,etc,root,mnt,lib/modules}
  cp /bin/busybox "$dir/bin/busybox"
  ln -sf busybox "$dir/bin/sh"
  install -m 755 "$init" "$dir/init"
  for m in "$@"; do
    local f; f=$(find "$MODS/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$f" ] || { echo "module $m not in $KERNEL_PACKAGE" >&2; exit 1; }
    case "$f" in *.xz) xz -dc "$f" > "$dir/lib/modules/$m.ko" ;; *) cp "$f" "$dir/lib/modules/$m.ko" ;; esac
    echo "$m" >> "$dir/lib/modules/order"
  done
  (cd "$dir" && mknod -m 600 dev/console c 5 1 && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) > "$out"
}

# 2. dom0's initramfs: virtio disk + ext4, then switch_root to the real root.
EXT4="crc16 mbcache crc32c_generic jbd2 ext4"
VIRTIO="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk"
make_initramfs dom0-initrd "$HERE/dom0-initramfs.sh" "$OUT/dom0-initrd.gz" $VIRTIO $EXT4

# 3. dom0's root.
say "debootstrap --variant=minbase bookworm (from $MIRROR)"
debootstrap --variant=minbase \
  --include=lvm2,openssh-server,iproute2,bridge-utils,kmod,busybox,procps,e2fsprogs,netcat-openbsd,ifupdown \
  bookworm root "$MIRROR" > debootstrap.log 2>&1 || { tail -20 debootstrap.log; exit 1; }
cat > root/etc/apt/sources.list <<EOF
deb $MIRROR bookworm main
deb $SECURITY_MIRROR bookworm-security main
EOF
mount -t proc proc root/proc
trap 'umount root/proc 2>/dev/null || true' EXIT
say "installing xen-utils-4.17=$XEN_VERSION in dom0's root"
chroot root apt-get update -q > apt.log 2>&1 || { tail -20 apt.log; exit 1; }
DEBIAN_FRONTEND=noninteractive chroot root apt-get install -y -q --no-install-recommends \
  "xen-utils-4.17=$XEN_VERSION" "xen-utils-common=$XEN_VERSION" "xenstore-utils=$XEN_VERSION" >> apt.log 2>&1 || { tail -20 apt.log; exit 1; }
chroot root apt-get clean
umount root/proc; trap - EXIT
rm -rf root/var/lib/apt/lists/* root/usr/share/doc root/usr/share/man root/usr/share/locale root/var/cache/debconf/*-old

# Kernel modules dom0 uses (trimmed: no sound, graphics, wireless, media...), with depmod.
mkdir -p "root/lib/modules/$KVER"
cp -a "$MODS"/modules.* "root/lib/modules/$KVER/"
(cd "$MODS" && find kernel -type f \( -path '*/drivers/xen/*' -o -path '*/drivers/block/*' -o -path '*/drivers/net/*' \
   -o -path '*/drivers/virtio/*' -o -path '*/drivers/md/*' -o -path '*/drivers/char/*' -o -path '*/net/bridge/*' -o -path '*/net/802/*' \
   -o -path '*/net/llc/*' -o -path '*/net/ipv6/*' -o -path '*/net/core/*' -o -path '*/fs/*' -o -path '*/lib/*' -o -path '*/crypto/*' \) \
   -not -path '*/drivers/net/wireless/*' -not -path '*/drivers/net/ethernet/*' -not -path '*/drivers/net/can/*' -not -path '*/drivers/net/usb/*' \
   -print0 | cpio -0 -pdm --quiet "$OLDPWD/root/lib/modules/$KVER")
chroot root depmod "$KVER"

# dom0's settings: no udev (LVM makes its own device nodes), guest console logs, hotplug
# scripts, the init.
sed -i -e 's/^\(\s*\)udev_sync = 1/\1udev_sync = 0/' -e 's/^\(\s*\)udev_rules = 1/\1udev_rules = 0/' root/etc/lvm/lvm.conf
grep -q '^\s*udev_sync = 0' root/etc/lvm/lvm.conf || printf 'activation {\n\tudev_sync = 0\n\tudev_rules = 0\n}\n' >> root/etc/lvm/lvm.conf
# xenconsoled logs each guest's console to /var/log/xen/console/guest-NAME.log.
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> root/etc/default/xen
# Xen's block and vif-bridge hotplug scripts overrun libxl's fixed 40 s timeout under TCG:
# small equivalents for LVM disks and bridges replace them (see the scripts' headers).
for s in block vif-bridge; do
  mv "root/etc/xen/scripts/$s" "root/etc/xen/scripts/$s.xen"
  install -m 755 "$HERE/hotplug-$s.sh" "root/etc/xen/scripts/$s"
done
install -m 755 "$HERE/dom0-init.sh" root/sbin/portal-dom0-init
echo xen-dom0 > root/etc/hostname
sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin prohibit-password/; s/^#\?UseDNS.*/UseDNS no/' root/etc/ssh/sshd_config
rm -f root/etc/ssh/ssh_host_*
chroot root ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
mkdir -p root/root/.ssh root/mnt/portal root/var/log/xen && chmod 700 root/root/.ssh

# 4. The Linux test guest for Xen, inside dom0 at /var/lib/xen/images.
IMG=root/var/lib/xen/images
mkdir -p "$IMG"
cp "$OUT/vmlinuz" "$IMG/vmlinuz"
mkdir -p guest-initrd
for p in /usr/sbin/dropbear /usr/bin/dropbearkey; do
  cp --parents "$p" guest-initrd/
  ldd "$p" | grep -o '/[^ ]*' | xargs -I{} cp -L --parents {} guest-initrd/
done
make_initramfs guest-initrd "$HERE/guest-init.sh" "$IMG/initrd.img" xen-blkfront xen-netfront $EXT4
mkdir -p golden/etc/network golden/root
cat > golden/etc/os-release <<EOF
PRETTY_NAME="Portal test guest for Xen (Debian $KVER kernel, busybox)"
ID=portal-xen-guest
EOF
echo portal-guest > golden/etc/hostname
mke2fs -q -t ext4 -L root -d golden "$IMG/golden-linux-xen.ext4" 64M

# 5. The compressed qcow2 base.
du -sm root | awk '{print "[xen:build] dom0 root: " $1 " MiB"}'
mke2fs -q -t ext4 -L dom0 -d root dom0.raw 2G
qemu-img convert -c -O qcow2 dom0.raw "$OUT/dom0.qcow2"
rm -f dom0.raw
say "done: $(du -sh "$OUT" | cut -f1) in $OUT"
