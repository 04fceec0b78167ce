#!/bin/sh
# The dom0 init of the Xen test host (PID 1 instead of systemd, to boot fast under TCG).
# Settings come from the kernel command line:
#   portal.vg=NAME            the volume group on the second disk (/dev/vdb); made on first boot
#   portal.bridges=B=CIDR+..  bridges for the guests' networks, each with dom0's address on it
#                             (e.g. xenbr0=10.20.0.1/24+xenbr1=10.30.0.1/24)
#   portal.key=BASE64         root's authorized_keys line for sshd
# It mounts the kernel filesystems, starts Xen's daemons (/etc/init.d/xen: xenfs, xenstored,
# xenconsoled with guest console logs in /var/log/xen/console), loads the backend drivers,
# brings up the NIC (QEMU user network: 10.0.2.15/24), the bridges and sshd, then prints
#   PORTAL-DOM0-READY xen=VERSION vg=NAME bridges=... uptime=SECONDS
# on its console and waits. `busybox poweroff -f` (minbase has no poweroff) ends it.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run/sshd /run/lock /var/log/xen/console
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/sshd /run/lock /run/xen
# Without systemd or udev nobody makes these; Xen's block hotplug script needs them (its lock
# loop uses /dev/stdin and /dev/fd: without them `xl create` times out in "block add").
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
exec </dev/console >/dev/console 2>&1
say() { echo "portal-dom0: $*"; }
arg() { sed -n "s/.*\bportal\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
hostname "$(cat /etc/hostname)"
mount -o remount,rw / 2>/dev/null

for m in virtio_net xen-netback xen-blkback bridge dm_mod dm_snapshot loop; do modprobe "$m" || say "module $m not loaded"; done
/etc/init.d/xen start || say "xen daemons did not start"

# Storage: the volume group on the second disk, made when the disk is blank.
VG=$(arg vg); VG=${VG:-vg0}
if [ -b /dev/vdb ]; then
  if ! pvs /dev/vdb >/dev/null 2>&1; then
    pvcreate -q /dev/vdb && vgcreate -q "$VG" /dev/vdb && say "volume group $VG made on /dev/vdb"
  fi
  vgchange -q -ay "$VG" >/dev/null && say "volume group $VG active"
fi

# Network: QEMU's user network on the first NIC, then one bridge per guest network.
ip link set lo up
NIC=$(ls /sys/class/net | grep -v -e '^lo$' -e '^xenbr' | head -1)
ip addr add 10.0.2.15/24 dev "$NIC" && ip link set "$NIC" up && ip route add default via 10.0.2.2
BRIDGES=$(arg bridges)
for b in $(echo "$BRIDGES" | tr '+' ' '); do
  name=${b%%=*}; cidr=${b#*=}
  brctl addbr "$name" && ip link set "$name" up && ip addr add "$cidr" dev "$name" && say "bridge $name $cidr"
done

KEY=$(arg key)
[ -n "$KEY" ] && echo "$KEY" | base64 -d > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys
/usr/sbin/sshd || say "sshd did not start"

read -r up _ < /proc/uptime
echo "PORTAL-DOM0-READY xen=$(xl info xen_version 2>/dev/null) vg=$VG bridges=$BRIDGES nic=$NIC uptime=$up"
# PID 1 must not exit: reap children and wait.
while true; do sleep 3600; done
