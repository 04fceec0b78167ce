import type { Db } from "../db/client";
import type { HostKind } from "../db/schema";
import { UserError } from "../errors";
import { QemuDriver } from "./qemu/driver";
import { SimDriver } from "./sim/driver";
import { transportForHost } from "./transport";
import { XenDriver } from "./xen/driver";
import { ZonesDriver } from "./zones/driver";
import type { HypervisorDriver } from "./types";

/** The driver for a host kind. Real drivers (qemu, xen, zones) plug in here. */
export function driverFor(kind: HostKind, db: Db): HypervisorDriver {
  switch (kind) {
    case "sim":
      return new SimDriver(db);
    // "local" hosts run on this machine; any other address over the host's SSH transport.
    case "qemu":
      return new QemuDriver((host) => transportForHost(db, host.id));
    // Command plans over the host's SSH transport; not run on real Xen or Solaris hosts yet.
    case "xen":
      return new XenDriver((host) => transportForHost(db, host.id));
    case "zones":
      return new ZonesDriver((host) => transportForHost(db, host.id));
    default:
      throw new UserError(`No driver for host kind ${kind} in this version of the portal`, 409);
  }
}

export const supportedHostKinds: HostKind[] = ["sim", "qemu", "xen", "zones"];
