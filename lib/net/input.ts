import { z } from "zod";
import { displayNameField, slugField } from "../validation/fields";
import { formatIp, parseIp } from "./ipv4";
import { validateMacPrefix } from "./mac";

/**
 * A new network, as the admin form (validation as you type) and POST /api/v1/networks send
 * it. No server imports here: the browser loads this file too.
 */
export const networkPurposes = ["service", "production"] as const;
export const DEFAULT_MAC_PREFIX = "02:00:00";
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 30;

/** Linux bridge or physical device name (IFNAMSIZ: at most 15 characters). */
export const BRIDGE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

/** Why `value` is not a usable IPv4 address, or null. */
function ipProblem(value: string): string | null {
  try {
    parseIp(value);
    return null;
  } catch {
    return "Enter an IPv4 address like 10.40.0.1";
  }
}

/** The block of a well-formed CIDR, or why it is not one we accept. */
export function checkCidr(value: string): { network: number; prefix: number; size: number } | { problem: string } {
  const m = /^(.+)\/(\d{1,2})$/.exec(value);
  if (!m) return { problem: "Enter a block like 10.40.0.0/24" };
  if (ipProblem(m[1])) return { problem: `${m[1]} is not an IPv4 address; enter a block like 10.40.0.0/24` };
  const prefix = Number(m[2]);
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) return { problem: `Prefix must be between /${MIN_PREFIX} and /${MAX_PREFIX}` };
  const size = 2 ** (32 - prefix);
  const base = parseIp(m[1]);
  const network = base - (base % size);
  if (base !== network) {
    return { problem: `${value} is not the network address of its block: use ${formatIp(network)}/${prefix}` };
  }
  return { network, prefix, size };
}

export const networkInput = z
  .strictObject({
    slug: slugField,
    name: displayNameField,
    purpose: z.enum(networkPurposes, { message: "Purpose is service or production" }),
    cidr: z.string().trim().superRefine((v, ctx) => {
      const c = checkCidr(v);
      if ("problem" in c) ctx.addIssue({ code: "custom", message: c.problem });
    }),
    gateway: z.string().trim().superRefine((v, ctx) => {
      const problem = ipProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    bridge: z
      .string()
      .trim()
      .regex(BRIDGE, "Bridge or device: a letter, then up to 14 letters, digits, _ . or - (like xenbr0 or br-prod)"),
    macPrefix: z
      .string()
      .trim()
      .toLowerCase()
      .superRefine((v, ctx) => {
        const problem = validateMacPrefix(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .default(DEFAULT_MAC_PREFIX),
  })
  .superRefine(
    (v, ctx) => {
      const c = checkCidr(v.cidr);
      if ("problem" in c) return;
      const gw = parseIp(v.gateway);
      const broadcast = c.network + c.size - 1;
      if (gw < c.network || gw > broadcast) {
        ctx.addIssue({ code: "custom", path: ["gateway"], message: `Gateway must be inside ${v.cidr}` });
      } else if (gw === c.network) {
        ctx.addIssue({ code: "custom", path: ["gateway"], message: `${v.gateway} is the network address of ${v.cidr}; choose a host address` });
      } else if (gw === broadcast) {
        ctx.addIssue({ code: "custom", path: ["gateway"], message: `${v.gateway} is the broadcast address of ${v.cidr}; choose a host address` });
      }
    },
    // Checked as soon as both fields are well formed, while other fields may still be empty.
    { when: (payload) => !payload.issues.some((i) => !i.path?.length || i.path[0] === "cidr" || i.path[0] === "gateway") },
  );

export type NetworkInput = z.infer<typeof networkInput>;
