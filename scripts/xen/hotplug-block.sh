#!/bin/sh
# /etc/xen/scripts/block of the Xen test host: the part of Xen's own script that a guest disk
# on an LVM volume (phy) needs, in two xenstore calls instead of some forty. Under QEMU's
# software emulation every program start in a PV dom0 costs about a second, and Xen's script
# (sharing checks over every mount and backend, locking) overruns libxl's fixed 40 s hotplug
# timeout, so `xl create` fails with "killing execution of /etc/xen/scripts/block add". What
# it tells blkback is the same: the device's major:minor (hex) and "connected". Xen's script is
# kept as block.xen. Called by libxl: block add|remove, XENBUS_PATH=backend/vbd/DOMID/DEVID.
case "$1" in
  add)
    params=$(xenstore-read "$XENBUS_PATH/params") || exit 1
    dev=$(readlink -f "$params")
    [ -b "$dev" ] || { xenstore-write "$XENBUS_PATH/hotplug-error" "$params is not a block device" "$XENBUS_PATH/hotplug-status" error; exit 1; }
    xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T "$dev")" "$XENBUS_PATH/physical-device-path" "$dev" "$XENBUS_PATH/hotplug-status" connected
    ;;
  remove) ;;
esac
exit 0
