import { UserError } from "../errors";
import { QemuDriver } from "./qemu/driver";
import { SimDriver } from "./sim/driver";
import type { SimHostState } from "./sim/state";
import type { Transport } from "./transport";
import { XenDriver } from "./xen/driver";
import { ZonesDriver } from "./zones/driver";
import type { HostKind, HypervisorDriver } from "./types";

/**
 * What drivers are given instead of reaching into the database: a transport to a registered
 * host (by id), and the simulated hypervisor's host-side state.
 */
export type DriverDeps = {
  connect: (hostId: string) => Promise<Transport>;
  simState: SimHostState;
};

/** The driver for a host kind. Real drivers (qemu, xen, zones) plug in here. */
export function driverFor(kind: HostKind, deps: DriverDeps): HypervisorDriver {
  switch (kind) {
    case "sim":
      return new SimDriver(deps.simState);
    // "local" hosts run on this machine; any other address over the host's SSH transport.
    case "qemu":
      return new QemuDriver((host) => deps.connect(host.id));
    // Command plans over the host's SSH transport; not run on real Xen or Solaris hosts yet.
    case "xen":
      return new XenDriver((host) => deps.connect(host.id));
    case "zones":
      return new ZonesDriver((host) => deps.connect(host.id));
    default:
      throw new UserError(`No driver for host kind ${kind} in this version of the portal`, 409);
  }
}

export const supportedHostKinds: HostKind[] = ["sim", "qemu", "xen", "zones"];
