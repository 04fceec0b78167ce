import { env } from "../env";
import type { Role } from "../db/schema";

/**
 * The host kinds a user is shown for an image (catalog tags, the hypervisor filter, the order
 * form). Simulated hosts are the portal's demo and test stand-ins: only admins see them, unless
 * SHOW_SIMULATED_TO_CUSTOMERS=1 (a demo portal that wants everyone to know).
 */
export function shownHostKinds(role: Role, kinds: readonly string[]): string[] {
  if (role === "admin" || env.SHOW_SIMULATED_TO_CUSTOMERS === "1") return [...kinds];
  return kinds.filter((k) => k !== "sim");
}
