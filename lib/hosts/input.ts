import { HOST_TAG, numeric } from "../validation/fields";
import { z } from "zod";
import { provisionSteps, teardownSteps } from "../pipeline/steps";

/** Client-safe (the admin form uses it too): no server imports here. */
export const hostStates = ["active", "draining", "offline"] as const;

export const stepNames = [...provisionSteps, ...teardownSteps].map((s) => s.name) as [string, ...string[]];

/** Host kinds an admin registers (sim hosts come with the portal). */
export const registrableHostKinds = ["qemu", "xen", "zones"] as const;

import { LOCAL_HOST } from "../drivers/transport/address";

export { LOCAL_HOST };

export const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** POSIX portable user names as useradd accepts them by default. */
export const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
export const MAX_CONCURRENCY = 10;
export const MAX_PRIVATE_KEY_CHARS = 16_384;

const CHAR_NAMES: Record<string, string> = { " ": "space", "\n": "line break", "\r": "line break", "\t": "tab", "\0": "NUL" };

/** The characters of `value` that `allowed` does not accept, named for a message: `; $ ( ) space`. */
export function badCharacters(value: string, allowed: RegExp): string {
  const bad = [...new Set([...value].filter((c) => !allowed.test(c)))];
  return bad.map((c) => CHAR_NAMES[c] ?? c).slice(0, 8).join(" ");
}

function problemWithChars(value: string, allowed: RegExp, what: string): string | null {
  const bad = badCharacters(value, allowed);
  return bad ? `${what} cannot contain ${bad}` : null;
}

/** Strict IPv4 dotted quad: four numbers 0-255 without leading zeros. */
export function isIpv4(v: string): boolean {
  const parts = v.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 literal (no brackets, no zone id), checked by the WHATWG URL parser both browser and server have. */
export function isIpv6(v: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(v) || !v.includes(":") || v.length > 45) return false;
  try {
    return new URL(`http://[${v}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** Why `v` is not a host address we connect to (host name, IPv4 or IPv6 literal, or "local"), or null. */
export function hostAddressProblem(v: string): string | null {
  if (v === "") return "Enter the host's name or IP address";
  if (v.length > 253) return "A host address has at most 253 characters";
  if (v === LOCAL_HOST) return null;
  const chars = problemWithChars(v, /[A-Za-z0-9.:-]/, "A host address");
  if (chars) return `${chars}: use a host name like xen-01.example.org or an IP address`;
  if (v.includes(":")) return isIpv6(v) ? null : `${v} is not a valid IPv6 address`;
  if (/^[0-9.]+$/.test(v)) return isIpv4(v) ? null : `${v} is not a valid IPv4 address (four numbers 0-255)`;
  const labels = v.split(".");
  for (const label of labels) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      return "Host name parts are 1-63 letters, digits or hyphens, not starting or ending with a hyphen";
    }
  }
  return null;
}

/** Why `v` (trimmed) is not an unencrypted PEM or OpenSSH private key, judged by its shape only; or null. */
export function privateKeyShapeProblem(v: string): string | null {
  if (v === "") return "Paste the private key the portal logs in with";
  if (v.length > MAX_PRIVATE_KEY_CHARS) return `A private key has at most ${MAX_PRIVATE_KEY_CHARS} characters`;
  if (/^(ssh-|ecdsa-|sk-)/.test(v)) return "This is a public key; paste the private key (-----BEGIN OPENSSH PRIVATE KEY-----...)";
  const m = /^-----BEGIN ((?:OPENSSH|RSA|EC|ENCRYPTED) )?PRIVATE KEY-----\r?\n([\s\S]+?)\r?\n-----END \1?PRIVATE KEY-----$/.exec(v);
  if (!m) return "Paste the whole private key, from -----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----";
  if (m[1] === "ENCRYPTED " || /Proc-Type:\s*4,ENCRYPTED/.test(m[2])) return "This key is protected by a passphrase; the portal needs a key without one";
  return null;
}

const refineWith = (problem: (v: string) => string | null) => (v: string, ctx: z.RefinementCtx) => {
  const p = problem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
};

export const hostNameField = z
  .string({ message: "Enter a name" })
  .trim()
  .min(1, "Enter a name like xen-01")
  .max(40, "A host name has at most 40 characters")
  .superRefine((v, ctx) => {
    if (HOST_NAME.test(v)) return;
    const chars = problemWithChars(v, /[a-z0-9-]/, "A host name");
    ctx.addIssue({ code: "custom", message: chars ? `${chars}: use lowercase letters, digits and hyphens, like xen-01` : "Use lowercase letters, digits and hyphens; start and end with a letter or digit" });
  });

export const hostAddressField = z.string({ message: "Enter the host's name or IP address" }).trim().superRefine(refineWith(hostAddressProblem));

/** A whole number from `min` to `max`, as a JSON number or a form's digits, with one message. */
const wholeNumber = (message: string, min: number, max: number) => numeric(z.number({ message }).int(message).min(min, message).max(max, message));

/** A capacity figure from 1 to `max` (a form sends digits), null to hand it back to discovery. */
const capacityFigure = (what: string, max: number) => {
  const message = `${what} is a whole number from 1 to ${max}`;
  return z
    .preprocess(
      (v) => (typeof v === "string" && /^\s*\d{1,9}\s*$/.test(v) ? Number(v) : typeof v === "string" && v.trim() === "" ? undefined : v),
      z.union([z.number({ message }).int(message).min(1, message).max(max, message), z.null()], { message }),
    )
    .optional();
};

export const portField = wholeNumber("The SSH port is a whole number from 1 to 65535", 1, 65535);
export const concurrencyField = wholeNumber(`Commands at once is a whole number from 1 to ${MAX_CONCURRENCY}`, 1, MAX_CONCURRENCY);

export const sshUserField = z
  .string({ message: "Enter the user the portal logs in as" })
  .trim()
  .min(1, "Enter the user the portal logs in as")
  .max(32, "A user name has at most 32 characters")
  .superRefine((v, ctx) => {
    if (POSIX_USER.test(v)) return;
    const chars = problemWithChars(v, /[a-z0-9_-]/, "A user name");
    ctx.addIssue({ code: "custom", message: chars ? `${chars}: use lowercase letters, digits, _ and -` : "A user name starts with a lowercase letter or _" });
  });

export const privateKeyField = z.string({ message: "Paste the private key" }).trim().superRefine(refineWith(privateKeyShapeProblem));

export const fingerprintField = z
  .string()
  .trim()
  .regex(HOST_KEY_FINGERPRINT, "A host key fingerprint looks like SHA256: and 43 characters, as ssh-keygen -l prints it");

/** Driver settings (hosts.config); the server checks them with the kind's own schema (lib/hosts/config.ts). */
export const hostConfigField = z.record(z.string(), z.unknown(), { message: 'Driver settings are a JSON object, like {"volumeGroup": "vg1"}' });

/** "" from an empty form field counts as not given. */
function optional<S extends z.ZodType>(schema: S) {
  return z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema.optional());
}

/**
 * A new host as the admin form and POST /api/v1/hosts send it. Hosts reached over SSH need a
 * user and a private key; "local" hosts run on the worker's machine and need neither.
 * The server also checks that the key parses (lib/hosts/registration.ts).
 */
export const hostRegistrationInput = z
  .strictObject({
    name: hostNameField,
    kind: z.enum(registrableHostKinds, { message: "Kind is qemu, xen or zones" }),
    address: hostAddressField,
    port: optional(portField).default(22),
    sshUser: optional(sshUserField),
    privateKey: optional(privateKeyField),
    hostKeyFingerprint: optional(fingerprintField),
    maxConcurrency: optional(concurrencyField).default(4),
    config: hostConfigField.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.address === LOCAL_HOST) {
      if (v.sshUser || v.privateKey) ctx.addIssue({ code: "custom", path: ["address"], message: "A local host needs no SSH user or key; leave them empty or enter the host's address" });
      return;
    }
    if (!v.sshUser) ctx.addIssue({ code: "custom", path: ["sshUser"], message: "Enter the user the portal logs in as" });
    if (!v.privateKey) ctx.addIssue({ code: "custom", path: ["privateKey"], message: "Paste the private key the portal logs in with" });
  }, { when: () => true }); // also while other fields are still wrong, so every missing field is named at once

export type HostRegistration = z.infer<typeof hostRegistrationInput>;

/**
 * What an admin may change on a host: its state (draining hosts take no new environments)
 * and, on sim hosts, failure injection: step name -> how many more times it fails.
 */
export const hostUpdateInput = z.strictObject({
  state: z.enum(hostStates, { message: "State is one of active, draining, offline" }).optional(),
  port: optional(portField),
  sshUser: optional(sshUserField),
  /** A new key replaces the stored one (rotation). */
  privateKey: optional(privateKeyField),
  /** A fingerprint the admin checked on the host, or null to record the key at the next test. */
  hostKeyFingerprint: z.union([fingerprintField, z.null()]).optional(),
  maxConcurrency: optional(concurrencyField),
  /** The worker (its WORKER_ID) that alone runs this host's work, e.g. the machine of a local host; null: any worker. */
  ownerWorker: z
    .union([z.string().trim().regex(/^[a-zA-Z0-9._-]{1,63}$/, "A worker id is letters, digits, '.', '_' and '-', at most 63"), z.null()])
    .optional(),
  /** Labels a group's pool can name (replaces the host's tags). */
  tags: z
    .array(z.string().trim().regex(HOST_TAG, "A tag is lowercase letters, digits and hyphens, at most 31"), { message: "Tags are a list" })
    .max(20, "At most 20 tags")
    .refine((t) => new Set(t).size === t.length, "A tag is listed twice")
    .optional(),
  /**
   * Capacity set by hand (kept over what Test connection discovers): vCPUs, memory in MiB,
   * disk in GiB; null for one hands it back to discovery.
   */
  capacity: z
    .strictObject(
      {
        vcpus: capacityFigure("vCPUs", 4096),
        memoryMb: capacityFigure("Memory (MiB)", 64 * 1024 * 1024),
        diskGb: capacityFigure("Disk (GiB)", 1024 * 1024),
      },
      { message: "Capacity is an object with vcpus, memoryMb and diskGb" },
    )
    .optional(),
  /** Driver settings to change: keys given replace, null removes one (back to its default). */
  config: hostConfigField.optional(),
  failSteps: z
    .partialRecord(
      z.enum(stepNames, { message: "Unknown step" }),
      numeric(z.number({ message: "Times is a number" }).int("Times is a whole number").min(0, "Times is 0 or more").max(10, "Times is at most 10")),
    )
    .optional(),
});

export type HostUpdate = z.infer<typeof hostUpdateInput>;
