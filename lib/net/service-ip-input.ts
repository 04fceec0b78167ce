import { z } from "zod";

/**
 * What POST /api/v1/service-ips, its attach route and the forms send. No server imports here:
 * the browser loads this file too.
 */

/** A service IP's name: lowercase letters, digits and inner hyphens, like a hostname (it may become one in DNS). */
export const SERVICE_IP_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;

const reference = (what: string) =>
  z
    .string({ message: `Name the ${what}` })
    .trim()
    .min(1, `Name the ${what}`)
    .max(100, `The ${what} is named by its id or slug (at most 100 characters)`);

export const serviceIpInput = z.strictObject({
  /** The network's slug or id. */
  network: reference("network"),
  name: z
    .string({ message: "Give the service IP a name" })
    .trim()
    .min(2, "Name needs at least 2 characters")
    .max(40, "Name can have at most 40 characters")
    .regex(SERVICE_IP_NAME, "Use lowercase letters, digits and hyphens; start with a letter, end with a letter or digit"),
  /** The group that owns it (slug or id); the caller's first pool when left out. */
  group: reference("group").optional(),
});
export type ServiceIpInput = z.infer<typeof serviceIpInput>;

export const serviceIpAttachInput = z.strictObject({
  /** The environment's id, or its name (the order's name). */
  environment: z
    .string({ message: "Name the environment to attach to" })
    .trim()
    .min(1, "Name the environment to attach to")
    .max(100, "The environment is named by its id or name (at most 100 characters)"),
});
export type ServiceIpAttachInput = z.infer<typeof serviceIpAttachInput>;

/** POST/DELETE /api/v1/networks/:id/routes: the other network of the pair (slug or id). */
export const networkRouteInput = z.strictObject({ network: reference("network") });
export type NetworkRouteInput = z.infer<typeof networkRouteInput>;
