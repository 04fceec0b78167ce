import { XenDriver } from "../xen/driver";
import { ZonesDriver } from "../zones/driver";
import type { DeploySpec } from "../types";
import type { Plan } from "./types";

/** The full plan (deployment, then teardown) for a spec on its host, or null for kinds without one. */
export function deploymentPlan(spec: DeploySpec): Plan | null {
  if (spec.host.kind === "xen") return XenDriver.plan(spec);
  if (spec.host.kind === "zones") return ZonesDriver.plan(spec);
  return null;
}
