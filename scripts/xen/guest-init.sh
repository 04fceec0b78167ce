#!/bin/sh
# /init of the Linux test guest for Xen (a PV guest: the Debian kernel and this busybox
# initramfs, booted by dom0 from /var/lib/xen/images; its disk is /dev/xvda, the portal's
# volume). The contract with the Xen driver's glue: the disk's ext4 filesystem holds
# /etc/hostname, /etc/network/interfaces (static `address` per ethN, one `gateway`) and
# /root/.ssh/authorized_keys. The guest mounts it at /mnt, takes those, runs Dropbear (keys
# only) on port 22, then prints on its console (hvc0, logged by xenconsoled)
#   PORTAL-READY hostname=NAME ssh=22 nic=ethN,IP/PREFIX ...
# `xl shutdown` makes the kernel run /sbin/poweroff: it unmounts the disk and powers off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mkdir -p /proc /sys /dev /run /tmp /etc /root/.ssh /mnt /var/run /var/log
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1
say() { echo "portal-guest: $*"; }
say "kernel $(uname -r) up, loading xen-blkfront, xen-netfront and ext4"
while read -r m; do insmod /lib/modules/$m.ko || say "module $m not loaded"; done < /lib/modules/order
# (The kernel runs it with no console of its own: its words go to /dev/console.)
printf '#!/bin/sh\necho "portal-guest: powering off" > /dev/console\nsync\numount /mnt 2>/dev/null\nexec /bin/busybox poweroff -f\n' > /sbin/poweroff
chmod 755 /sbin/poweroff
n=0
while [ ! -b /dev/xvda ] && [ $n -lt 100 ]; do n=$((n+1)); sleep 0.1; done
mount -t ext4 -o noatime /dev/xvda /mnt && say "disk /dev/xvda mounted at /mnt" || say "disk /dev/xvda not mounted"
name=$(cat /mnt/etc/hostname 2>/dev/null); hostname "${name:-portal-guest}"
ip link set lo up
NICS=""
dev=""
while read -r word a rest; do
  case "$word" in
    iface) dev=$a ;;
    address) ip addr add "$a" dev "$dev" && ip link set "$dev" up && NICS="$NICS nic=$dev,$a" && say "$dev $a" ;;
    gateway) ip route add default via "$a" dev "$dev" ;;
  esac
done < /mnt/etc/network/interfaces
echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
echo "root:x:0:" > /etc/group
echo /bin/sh > /etc/shells
if [ -s /mnt/root/.ssh/authorized_keys ]; then
  cp /mnt/root/.ssh/authorized_keys /root/.ssh/authorized_keys
  chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys
fi
mkdir -p /etc/dropbear
/usr/bin/dropbearkey -t ed25519 -f /etc/dropbear/host_key >/dev/null 2>&1
/usr/sbin/dropbear -s -E -r /etc/dropbear/host_key -p 22 -P /run/dropbear.pid 2>/var/log/dropbear.log || say "dropbear did not start"
n=0
while ! grep -qE '^ *[0-9]+: [0-9A-F]+:0016 [0-9A-F]+:0000 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null && [ $n -lt 200 ]; do n=$((n+1)); sleep 0.05; done
read -r up _ < /proc/uptime
echo "PORTAL-READY hostname=$(hostname) uptime=$up ssh=22$NICS"
while true; do sleep 3600; done
