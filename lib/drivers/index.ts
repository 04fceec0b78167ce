import type { Db } from "../db/client";
import type { HostKind } from "../db/schema";
import { UserError } from "../errors";
import { QemuDriver } from "./qemu/driver";
import { SimDriver } from "./sim/driver";
import type { HypervisorDriver } from "./types";

/** The driver for a host kind. Real drivers (qemu, xen, zones) plug in here. */
export function driverFor(kind: HostKind, db: Db): HypervisorDriver {
  switch (kind) {
    case "sim":
      return new SimDriver(db);
    case "qemu":
      return new QemuDriver();
    default:
      throw new UserError(`No driver for host kind ${kind} in this version of the portal`, 409);
  }
}

export const supportedHostKinds: HostKind[] = ["sim", "qemu"];
