import { createHash } from "node:crypto";
import path from "node:path";
import type { ImageSource } from "./types";

/**
 * The recipe of the portal's QEMU Linux image, from Debian packages only: the kernel of
 * `linux-image-amd64` (its versioned package, unpacked with dpkg-deb), busybox-static as
 * the userland, Dropbear (dropbear-bin) as the SSH server, mke2fs and resize2fs (e2fsprogs)
 * for the guest's disk (made at first boot, grown when a resize grew the disk), each with the shared libraries it loads, and the /init below. A change to
 * any of it changes `recipeHash`, and `npm run images:build` then rebuilds instead of
 * reusing the store's copy.
 */
export const kernelMetaPackage = "linux-image-amd64";
export const kernelPackagePattern = /^linux-image-\d+\.\d+\.\d+-\d+-amd64$/;
export const busyboxPath = "/bin/busybox";

/**
 * Kernel modules the guest loads with `insmod`, dependencies first (Debian builds virtio and
 * ext4 as modules; a wrong order fails with "unknown symbol in module"). `button` and `evdev`
 * give the ACPI power button, so QMP `system_powerdown` shuts the guest down cleanly.
 * `virtio-rng` takes entropy from the host's virtio-rng device, so that the SSH server need
 * not wait seconds at boot for the kernel's random pool. ext4 needs jbd2, mbcache and crc16,
 * and crc32c for its checksums (its soft dependency, which no modprobe would resolve here):
 * the generic one, since TCG's default CPU has no SSE4.2.
 */
export const guestModules = [
  { name: "virtio_ring", path: "kernel/drivers/virtio/virtio_ring.ko" },
  { name: "virtio", path: "kernel/drivers/virtio/virtio.ko" },
  { name: "virtio_pci_legacy_dev", path: "kernel/drivers/virtio/virtio_pci_legacy_dev.ko" },
  { name: "virtio_pci_modern_dev", path: "kernel/drivers/virtio/virtio_pci_modern_dev.ko" },
  { name: "virtio_pci", path: "kernel/drivers/virtio/virtio_pci.ko" },
  { name: "failover", path: "kernel/net/core/failover.ko" },
  { name: "net_failover", path: "kernel/drivers/net/net_failover.ko" },
  { name: "virtio_net", path: "kernel/drivers/net/virtio_net.ko" },
  { name: "virtio_blk", path: "kernel/drivers/block/virtio_blk.ko" },
  { name: "virtio-rng", path: "kernel/drivers/char/hw_random/virtio-rng.ko" },
  { name: "crc16", path: "kernel/lib/crc16.ko" },
  { name: "mbcache", path: "kernel/fs/mbcache.ko" },
  { name: "crc32c_generic", path: "kernel/crypto/crc32c_generic.ko" },
  { name: "jbd2", path: "kernel/fs/jbd2/jbd2.ko" },
  { name: "ext4", path: "kernel/fs/ext4/ext4.ko" },
  { name: "button", path: "kernel/drivers/acpi/button.ko" },
  { name: "evdev", path: "kernel/drivers/input/evdev.ko" },
] as const;

/**
 * Debian programs the guest runs, taken from the build host (where their packages must be
 * installed) together with every shared library `ldd` names for them, at the same paths.
 */
export const guestPrograms = [
  { path: "/usr/sbin/dropbear", pkg: "dropbear-bin" },
  { path: "/usr/bin/dropbearkey", pkg: "dropbear-bin" },
  { path: "/usr/sbin/mke2fs", pkg: "e2fsprogs" },
  { path: "/usr/sbin/resize2fs", pkg: "e2fsprogs" },
] as const;

/** Where the guest keeps its SSH host key: on its disk, so the key stays the same across restarts and moves. */
export const guestHostKeyPath = "/data/.portal/dropbear_ed25519_host_key";

/** Size of the golden disk (qcow2, virtual); an environment's disk is its flavor's size. */
export const goldenDiskMb = 64;
/** First word of the golden disk's label, one line at its start (the guest still takes such a disk for blank). */
export const goldenDiskLabel = "PORTAL-GOLDEN-DISK";

/**
 * /init of the initramfs (busybox sh). What it promises (the guest contract, also in
 * lib/drivers/qemu/glue.ts): progress lines `portal-init: ...`; the disk (/dev/vda) mounted
 * at /data as ext4, made at first boot when the disk is blank (never over other data); an
 * SSH server (Dropbear, keys only) on port 22 with its host key kept on /data and root's
 * authorized_keys from the glue; then, once the SSH server listens, one
 * `PORTAL-READY hostname=H uptime=S disk=BYTES data=BYTES ssh=22|down ssh-hostkey=SHA256:... nic=MAC,IP/PREFIX ... [service-ip=IP ...] [image-version=N]`
 * on the console (the image and version from the glue, which /etc/os-release-portal also
 * names with the build's stamp /etc/portal-build); then it answers a console line `status` with a fresh PORTAL-READY line,
 * and powers off on the ACPI power button (syncing and unmounting /data first). The second
 * serial port (ttyS1) runs a root login shell for the owner's console.
 */
export const initScript = `#!/bin/sh
# Portal guest init: configures the guest from /portal/config (glued in by the portal), keeps
# the owner's files on the disk at /data, runs an SSH server, reports PORTAL-READY on the
# console and keeps running.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /run /tmp /etc /root/.ssh /var/run /var/log /etc/acpi/PWRF /data
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1
say() { echo "portal-init: $*"; }
say "kernel $(uname -r) up, loading modules"
for m in ${guestModules.map((m) => m.name).join(" ")}; do
  [ -f /lib/modules/$m.ko ] && { insmod /lib/modules/$m.ko 2>/dev/null || say "module $m not loaded"; }
done
CONFIG=/portal/config
[ -f $CONFIG ] || { say "no $CONFIG: the initrd has no portal glue"; : > /tmp/empty; CONFIG=/tmp/empty; }
name=portal-guest
while read -r kind a rest; do
  [ "$kind" = hostname ] && name="$a"
done < $CONFIG
hostname "$name"
echo "$name" > /etc/hostname
say "hostname $name"
# Which image and version the portal built this guest from (glue), and the build it runs (the
# initramfs' own stamp): /etc/os-release-portal, and image-version= on the ready line.
IMGV=""
while read -r kind a b rest; do
  [ "$kind" = image ] && { echo "PORTAL_IMAGE=$a"; echo "PORTAL_IMAGE_VERSION=$b"; IMGV=" image-version=$b"; }
done < $CONFIG > /etc/os-release-portal
cat /etc/portal-build >> /etc/os-release-portal 2>/dev/null
say "image: $(tr '\\n' ' ' < /etc/os-release-portal)"
ip link set lo up
# Shell builtins only (read, parameter expansion): moving a service IP waits for this.
iface_for_mac() {
  for d in /sys/class/net/*; do
    read -r a 2>/dev/null < "$d/address" && [ "$a" = "$1" ] && { echo "\${d##*/}"; return 0; }
  done
  return 1
}
NICS=""
SIPS=""
routed=""
sipdev=lo
while read -r kind mac cidr gw; do
  [ "$kind" = nic ] || continue
  dev=""
  n=0
  while [ $n -lt 100 ]; do dev=$(iface_for_mac "$mac") && break; n=$((n+1)); sleep 0.05; done
  if [ -z "$dev" ]; then say "no interface with MAC $mac"; continue; fi
  ip addr add "$cidr" dev "$dev"
  ip link set "$dev" up
  say "$dev $mac $cidr"
  if [ "$gw" != "-" ] && [ -n "$gw" ] && [ -z "$routed" ]; then
    ip route add default via "$gw" dev "$dev" && routed=1 && sipdev="$dev" && say "default route via $gw"
  fi
  NICS="$NICS nic=$mac,$cidr"
done < $CONFIG
# A service IP rides on the guest's NIC of its network (named by MAC), as /32; older glue names
# no MAC and puts it on the NIC with the default route.
while read -r kind ip mac rest; do
  [ "$kind" = service-ip ] || continue
  dev="$sipdev"
  [ -n "$mac" ] && { dev=$(iface_for_mac "$mac") || { say "service IP $ip: no interface with MAC $mac"; continue; }; }
  ip addr add "$ip/32" dev "$dev" && SIPS="$SIPS service-ip=$ip" && say "service IP $ip on $dev"
done < $CONFIG
echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
echo "root:x:0:" > /etc/group
echo /bin/sh > /etc/shells
if [ -s /portal/authorized_keys ]; then
  cp /portal/authorized_keys /root/.ssh/authorized_keys
  chmod 700 /root/.ssh
  chmod 600 /root/.ssh/authorized_keys
  say "authorized_keys installed for root"
fi
[ -f /portal/motd ] && cp /portal/motd /etc/motd
DISK=0
[ -f /sys/block/vda/size ] && DISK=$(( $(cat /sys/block/vda/size) * 512 ))
say "disk /dev/vda $DISK bytes"
# The owner's files live on the disk, at /data. A new environment's disk is blank (in its first
# 64 KiB only zeros, and perhaps the golden image's one-line label) and gets an ext4
# filesystem; a disk holding anything else is never formatted.
blank() {
  seen=$(dd if=/dev/vda bs=65536 count=1 2>/dev/null | tr -d '\\000' | head -c 512)
  case "$seen" in
    "") return 0 ;;
    "${goldenDiskLabel} "*) [ "$(echo "$seen" | wc -l)" -eq 1 ] ;;
    *) return 1 ;;
  esac
}
# Size of the ext4 filesystem on the disk, from its superblock (one read): blocks at byte 4, log2
# of the block size less 10 at byte 24, magic 0xef53 at byte 56; 0 when there is none.
fs_bytes() {
  set -- $(dd if=/dev/vda bs=1024 skip=1 count=1 2>/dev/null | od -v -An -tu4 -N 60)
  [ $# -eq 15 ] && [ $(( \${15} & 65535 )) -eq 61267 ] && echo $(( $2 * (1024 << $7) )) || echo 0
}
if [ "$DISK" -gt 0 ]; then
  if blank; then
    say "disk /dev/vda is blank: making an ext4 filesystem for /data"
    /usr/sbin/mke2fs -q -F -t ext4 -L data -J size=16 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard /dev/vda || say "mke2fs failed"
  fi
  # A resize grew the disk: /data grows to it. Offline, since growing it mounted needs a bigger
  # journal than /data has; mounted once before, so that its journal is replayed.
  FS=$(fs_bytes)
  if [ "$FS" -gt 0 ] && [ $((DISK - FS)) -ge 65536 ]; then
    ln -sf /proc/mounts /etc/mtab
    mount -t ext4 /dev/vda /data && umount /data
    /usr/sbin/resize2fs -f /dev/vda >/tmp/resize2fs.log 2>&1 && say "/data grown from $FS to $(fs_bytes) bytes, the disk's size" || { say "resize2fs failed: /data keeps $FS bytes"; cat /tmp/resize2fs.log; }
  fi
  if mount -t ext4 -o noatime /dev/vda /data; then
    say "disk /dev/vda mounted at /data (ext4)"
  else
    say "disk /dev/vda holds no ext4 filesystem and is not blank: left as it is, nothing is kept at /data"
  fi
fi
data_bytes() {
  if grep -q '^/dev/vda /data ' /proc/mounts; then
    echo $(( $(stat -f -c %b /data) * $(stat -f -c %S /data) ))
  else
    echo 0
  fi
}
KEYDIR=${path.posix.dirname(guestHostKeyPath)}
[ "$(data_bytes)" -gt 0 ] || { KEYDIR=/run/portal; say "no /data: the SSH host key lasts until the next boot only"; }
mkdir -p $KEYDIR
chmod 700 $KEYDIR
HOSTKEY=$KEYDIR/${path.posix.basename(guestHostKeyPath)}
# dropbearkey prints the public key and its fingerprint: kept beside the key, so that later
# boots need not run it again.
if [ ! -s $HOSTKEY ]; then
  /usr/bin/dropbearkey -t ed25519 -f $HOSTKEY > $HOSTKEY.info 2>/dev/null && say "SSH host key made in $KEYDIR"
elif [ ! -s $HOSTKEY.info ]; then
  /usr/bin/dropbearkey -y -f $HOSTKEY > $HOSTKEY.info 2>/dev/null
fi
FP=$(sed -n 's/^Fingerprint: //p' $HOSTKEY.info)
set -- $(grep '^ssh-' $HOSTKEY.info)
say "SSH host key $1 $2 $FP"
/usr/sbin/dropbear -s -E -r $HOSTKEY -p 22 -P /run/dropbear.pid || say "dropbear did not start"
ssh_port() {
  grep -qE '^ *[0-9]+: [0-9A-F]+:0016 [0-9A-F]+:0000 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null && echo 22 || echo down
}
# Ready means reachable: wait (bounded) until the SSH server listens.
n=0
while [ "$(ssh_port)" = down ] && [ $n -lt 200 ]; do n=$((n+1)); sleep 0.05; done
say "SSH server (dropbear, keys only): port $(ssh_port)"
cat > /etc/acpi/PWRF/00000080 <<'END'
#!/bin/sh
echo "portal-init: power button: powering off" > /dev/console
sync
umount -r /data
poweroff -f
END
chmod 755 /etc/acpi/PWRF/00000080
acpid -c /etc/acpi -l /var/log/acpid.log 2>/dev/null && say "acpid: power button powers off"
# The owner's console (the portal's Console tab): a login shell on the second serial port,
# started again whenever it exits.
# A serial line carries no window size: \`resize\` (typed by the owner) asks the terminal where a
# far corner puts the cursor (xterm.js answers) and sets the line's rows and columns; it gives up
# after 2 s. Not run at login: at boot nobody watches, and each of several viewers would answer.
cat > /etc/profile <<'END'
resize() {
  old=$(stty -g)
  stty raw -echo
  printf '\\033%s\\033[r\\033[999;999H\\033[6n\\033%s' 7 8
  IFS='[;' read -r -t 2 -d R _ rows cols
  stty "$old"
  [ -n "$cols" ] && stty rows "$rows" cols "$cols" && echo "COLUMNS=$cols LINES=$rows"
}
END
( while true; do setsid -c env HOME=/root TERM=vt100 PS1='\\u@\\h:\\w\\$ ' /bin/sh -l <>/dev/ttyS1 >&0 2>&1; sleep 1; done ) &
# Accounts the order adds: /etc/passwd and /etc/group lines and each account's keys, rendered
# and checked by the portal (names, ids, groups); their homes are under /data/home, on the disk.
APP=""
if [ -d /portal/accounts ]; then
  [ -f /portal/accounts/group ] && cat /portal/accounts/group >> /etc/group
  [ -f /portal/accounts/passwd ] && cat /portal/accounts/passwd >> /etc/passwd
  USERS=""
  while IFS=: read -r user x uid gid gecos home shell; do
    mkdir -p "$home/.ssh"
    [ -f "/portal/accounts/keys/$user" ] && cp "/portal/accounts/keys/$user" "$home/.ssh/authorized_keys"
    chmod 700 "$home/.ssh"
    chown -R "$uid:$gid" "$home"
    USERS="$USERS,$user"
    say "account $user ($uid) in $(id -Gn "$user" 2>/dev/null | tr ' ' ,)"
  done < /portal/accounts/passwd
  [ -n "$USERS" ] && APP="$APP users=\${USERS#,}"
fi
# System settings the order asked for (sysctl key=value lines; environment variables for the
# service in /etc/portal/env), checked against the recipe's allowed names by the portal.
mkdir -p /etc/portal
: > /etc/portal/env
if [ -f /portal/settings/sysctl ]; then
  while IFS='=' read -r key value; do
    sysctl -w "$key=$value" >/dev/null 2>&1 || say "sysctl $key could not be set"
    APP="$APP sysctl.$key=$(sysctl -n "$key" 2>/dev/null | tr -s ' \t' ,)"
  done < /portal/settings/sysctl
fi
if [ -f /portal/settings/env ]; then
  cp /portal/settings/env /etc/portal/env
  APP="$APP env=$(cut -d= -f1 /etc/portal/env | tr '\n' , | sed 's/,$//')"
fi
# The order's recipe: its files go in place, its setup runs (at every boot; it keeps what it
# made once on /data), each output line shown as "portal-recipe: ..." (a line "step NAME"
# starts one of the recipe's own steps), then its check runs until it passes or the recipe's
# time is up; the check's last line (key=value words) is reported as app.key=value.
if [ -f /portal/recipe/name ]; then
  read -r rslug rversion rtimeout < /portal/recipe/name
  APP="$APP recipe=$rslug/$rversion"
  [ -d /portal/recipe/files ] && cp -a /portal/recipe/files/. /
  say "recipe $rslug $rversion: setup"
  ( sh /portal/recipe/setup 2>&1; echo "setup-exit $?" ) | while read -r l; do echo "portal-recipe: $l"; done | tee /tmp/recipe.log
  if grep -q '^portal-recipe: setup-exit 0$' /tmp/recipe.log; then
    n=0
    rcheck=failed
    while [ $n -lt $((rtimeout * 2)) ]; do
      if sh /portal/recipe/check > /tmp/recipe.check 2>&1; then rcheck=ok; break; fi
      n=$((n+1)); sleep 0.5
    done
    say "recipe $rslug check: $rcheck"
    [ $rcheck = ok ] || sed 's/^/portal-recipe: check: /' /tmp/recipe.check
    APP="$APP recipe-check=$rcheck"
    [ $rcheck = ok ] && for w in $(tail -n 1 /tmp/recipe.check); do
      case "$w" in *=*) APP="$APP app.$w" ;; esac
    done
  else
    APP="$APP recipe-check=setup-failed"
  fi
fi
ready() {
  read -r up idle < /proc/uptime
  echo "PORTAL-READY hostname=$(hostname) uptime=$up disk=$DISK data=$(data_bytes) ssh=$(ssh_port) ssh-hostkey=$FP$NICS$SIPS$APP$IMGV"
}
# The portal moves service IPs while the guest runs by a console line
# \`service-ip add|del IP MAC TAG\` (TAG: lowercase letters and digits); the answer is one line
# \`PORTAL-SERVICE-IP TAG ok|failed ...\`. Adding announces the address with gratuitous ARP, so
# the network's neighbours send to this guest at once. Both are no-ops when already done.
service_ip() {
  op=$1; sip=$2; mac=$3; tag=$4
  case "$tag" in ""|*[!a-z0-9]*) return ;; esac
  case "$sip" in ""|*[!0-9.]*) echo "PORTAL-SERVICE-IP $tag failed bad address"; return ;; esac
  case "$mac" in ""|*[!0-9a-f:]*) echo "PORTAL-SERVICE-IP $tag failed bad MAC"; return ;; esac
  dev=$(iface_for_mac "$mac") || { echo "PORTAL-SERVICE-IP $tag failed no interface with MAC $mac"; return; }
  held() { ip -4 -o addr show dev "$dev" | grep -q " $sip/32 "; }
  case "$op" in
    add)
      ip addr add "$sip/32" dev "$dev" 2>/dev/null || held || { echo "PORTAL-SERVICE-IP $tag failed ip addr add $sip/32 dev $dev"; return; }
      ( arping -U -c 2 -I "$dev" "$sip" >/dev/null 2>&1 & )
      case "$SIPS " in *" service-ip=$sip "*) ;; *) SIPS="$SIPS service-ip=$sip" ;; esac
      say "service IP $sip on $dev"
      echo "PORTAL-SERVICE-IP $tag ok added $sip on $dev" ;;
    del)
      ip addr del "$sip/32" dev "$dev" 2>/dev/null || ! held || { echo "PORTAL-SERVICE-IP $tag failed ip addr del $sip/32 dev $dev"; return; }
      rest=""
      for w in $SIPS; do [ "$w" = "service-ip=$sip" ] || rest="$rest $w"; done
      SIPS="$rest"
      say "service IP $sip removed from $dev"
      echo "PORTAL-SERVICE-IP $tag ok removed $sip from $dev" ;;
    *) echo "PORTAL-SERVICE-IP $tag failed unknown operation" ;;
  esac
}
ready
while true; do
  if read -r line; then
    case "$line" in
      # Split into words without globbing (set -f): the guest checks every word itself.
      "service-ip "*) set -f; set -- \${line#service-ip }; set +f; service_ip "$@" ;;
      *status*) ready ;;
    esac
  else
    sleep 1
  fi
done
`;

/**
 * The catalog images built from this recipe: one golden build, one disk mode each. A catalog
 * item may also name an application recipe (lib/recipes) the guest runs at first boot. An
 * image with a `layer` boots the same kernel and base initramfs followed by that layer's
 * archive (./postgres.ts), built by `npm run images:build` when its packages are installed.
 */
export const qemuCatalogImages: {
  slug: string;
  name: string;
  source: ImageSource;
  purpose: "test" | "development" | "database" | "web";
  description: string;
  /** The application recipe (lib/recipes slug) the catalog item runs, if any. */
  recipe?: string;
  layer?: "postgres";
}[] = [
  {
    slug: "linux-qemu",
    name: "Linux (QEMU)",
    source: "clone",
    purpose: "test",
    description: "Small Debian-kernel Linux guest under QEMU; its disk is a copy-on-write qcow2 overlay on the golden image.",
  },
  {
    slug: "linux-qemu-copy",
    name: "Linux (QEMU), full disk copy",
    source: "copy",
    purpose: "database",
    description: "The same guest on its own full copy of the golden disk (no backing file).",
  },
  {
    slug: "linux-qemu-install",
    name: "Linux (QEMU), from install file",
    source: "install-file",
    purpose: "development",
    description: "Built from the install recipe (kernel and busybox from Debian packages) onto a fresh, empty disk.",
  },
  {
    slug: "web-qemu",
    name: "Web service (QEMU)",
    source: "clone",
    purpose: "web",
    description: "The Linux guest serving HTTP on port 80 (busybox httpd): a page from your title and text, or your own site uploaded as a .tar.gz.",
    recipe: "web",
  },
  {
    slug: "linux-qemu-postgres",
    name: "PostgreSQL database (QEMU)",
    source: "clone",
    purpose: "database",
    description: "PostgreSQL 15 with your database and its owner, on port 5432; the owner's password is made for you and shown once. The image is the Linux guest with Debian's PostgreSQL 15 server and clients; the database lives on the disk at /data.",
    recipe: "postgres",
    layer: "postgres",
  },
];

/**
 * The recipe's fingerprint: kernel package, module list, init script, busybox, the guest's
 * programs and libraries (path -> sha256, as found on the build host) and disk size.
 */
export function recipeHash(parts: { kernelPackage: string; busyboxSha256: string; programs: Record<string, string> }): string {
  return createHash("sha256")
    .update(
      JSON.stringify({
        v: 3, kernelPackage: parts.kernelPackage, busybox: parts.busyboxSha256, modules: guestModules, programs: parts.programs, init: initScript, disk: goldenDiskMb,
      }),
    )
    .digest("hex");
}
