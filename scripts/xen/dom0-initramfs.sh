#!/bin/sh
# dom0's initramfs: load the virtio disk and ext4 modules (Debian builds them as modules),
# mount the root disk /dev/vda and hand over to the dom0 init on it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "portal-dom0: initramfs: loading virtio and ext4"
while read -r m; do insmod /lib/modules/$m.ko || echo "portal-dom0: module $m not loaded"; done < /lib/modules/order
n=0
while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do n=$((n+1)); sleep 0.1; done
mount -t ext4 -o rw,noatime /dev/vda /mnt || { echo "portal-dom0: cannot mount /dev/vda"; exec sh; }
umount /proc /sys
mount --move /dev /mnt/dev 2>/dev/null || umount /dev
exec switch_root /mnt /sbin/portal-dom0-init
