#!/bin/sh
# /etc/xen/scripts/vif-bridge of the Xen test host: the part of Xen's own script that a PV
# guest's NIC on a bridge needs (put vifDOMID.DEVID on the bridge named in the domain config,
# up, "connected"), in two xenstore calls instead of some thirty: under QEMU's software
# emulation Xen's script overruns libxl's fixed 40 s hotplug timeout ("killing execution of
# /etc/xen/scripts/vif-bridge online"). Xen's script is kept as vif-bridge.xen.
# Called by libxl: vif-bridge online|offline type_if=vif, XENBUS_PATH=backend/vif/DOMID/DEVID.
devid=${XENBUS_PATH##*/}
domid=${XENBUS_PATH%/*}; domid=${domid##*/}
dev=vif$domid.$devid
case "$1" in
  online|add)
    bridge=$(xenstore-read "$XENBUS_PATH/bridge") || exit 1
    if ip link set dev "$dev" master "$bridge" && ip link set dev "$dev" up; then
      xenstore-write "$XENBUS_PATH/hotplug-status" connected
    else
      xenstore-write "$XENBUS_PATH/hotplug-error" "could not add $dev to bridge $bridge" "$XENBUS_PATH/hotplug-status" error
      exit 1
    fi
    ;;
  offline|remove)
    ip link set dev "$dev" down 2>/dev/null
    ip link set dev "$dev" nomaster 2>/dev/null
    ;;
esac
exit 0
