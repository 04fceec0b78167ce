import { createHash } from "node:crypto";
import type { ImageSource } from "./types";

/**
 * The recipe of the portal's QEMU Linux image, from Debian packages only: the kernel of
 * `linux-image-amd64` (its versioned package, unpacked with dpkg-deb), busybox-static as
 * the whole userland, and the /init below. A change to any of it changes `recipeHash`, and
 * `npm run images:build` then rebuilds instead of reusing the store's copy.
 */
export const kernelMetaPackage = "linux-image-amd64";
export const kernelPackagePattern = /^linux-image-\d+\.\d+\.\d+-\d+-amd64$/;
export const busyboxPath = "/bin/busybox";

/**
 * Kernel modules the guest loads with `insmod`, dependencies first (Debian builds virtio as
 * modules; a wrong order fails with "unknown symbol in module"). `button` and `evdev` give
 * the ACPI power button, so QMP `system_powerdown` shuts the guest down cleanly.
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
  { name: "button", path: "kernel/drivers/acpi/button.ko" },
  { name: "evdev", path: "kernel/drivers/input/evdev.ko" },
] as const;

/** Size of the golden disk (qcow2, virtual); an environment's disk is its flavor's size. */
export const goldenDiskMb = 64;

/**
 * /init of the initramfs (busybox sh). What it promises (the guest contract, also in
 * lib/drivers/qemu/glue.ts): progress lines `portal-init: ...`, then one
 * `PORTAL-READY hostname=H uptime=S disk=BYTES nic=MAC,IP/PREFIX ... [service-ip=IP ...]`
 * on the console; then it answers a console line `status` with a fresh PORTAL-READY line,
 * and powers off on the ACPI power button.
 */
export const initScript = `#!/bin/sh
# Portal guest init: configures the guest from /portal/config (glued in by the portal),
# reports PORTAL-READY on the console and keeps running.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /run /tmp /etc /root/.ssh /var/run /var/log /etc/acpi/PWRF
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
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
ip link set lo up
iface_for_mac() {
  for d in /sys/class/net/*; do
    [ "$(cat "$d/address" 2>/dev/null)" = "$1" ] && { basename "$d"; return 0; }
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
while read -r kind ip rest; do
  [ "$kind" = service-ip ] || continue
  ip addr add "$ip/32" dev "$sipdev" && SIPS="$SIPS service-ip=$ip" && say "service IP $ip on $sipdev"
done < $CONFIG
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
printf '#!/bin/sh\\necho "portal-init: power button: powering off"\\nsync\\npoweroff -f\\n' > /etc/acpi/PWRF/00000080
chmod 755 /etc/acpi/PWRF/00000080
acpid -c /etc/acpi -l /var/log/acpid.log 2>/dev/null && say "acpid: power button powers off"
ready() {
  read -r up idle < /proc/uptime
  echo "PORTAL-READY hostname=$(hostname) uptime=$up disk=$DISK$NICS$SIPS"
}
ready
while true; do
  if read -r line; then
    case "$line" in
      *status*) ready ;;
    esac
  else
    sleep 1
  fi
done
`;

/** The catalog images built from this recipe: one golden build, one disk mode each. */
export const qemuCatalogImages: {
  slug: string;
  name: string;
  source: ImageSource;
  purpose: "test" | "development" | "database" | "web";
  description: string;
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
];

/** The recipe's fingerprint: kernel package, module list, init script, busybox and disk size. */
export function recipeHash(parts: { kernelPackage: string; busyboxSha256: string }): string {
  return createHash("sha256")
    .update(JSON.stringify({ v: 1, kernelPackage: parts.kernelPackage, busybox: parts.busyboxSha256, modules: guestModules, init: initScript, disk: goldenDiskMb }))
    .digest("hex");
}
