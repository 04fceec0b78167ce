import { z } from "zod";
import type { HostKind } from "../db/schema";
import { xenHostConfig } from "../drivers/xen/config";
import { zonesHostConfig } from "../drivers/zones/config";
import { qemuHostConfig } from "../drivers/qemu/config";
import { UserError } from "../errors";

/**
 * A host's driver settings (hosts.config) as admins set them: checked with the driver's own
 * schema for the kind (unknown keys refused), defaults filled in, so what is stored is what
 * the driver will use. A change is merged into the stored settings: keys given replace, a
 * null removes a key (back to its default).
 */
const schemas: Partial<Record<HostKind, z.ZodObject>> = { xen: xenHostConfig, zones: zonesHostConfig, qemu: qemuHostConfig };

/** Keys shown to admins as set or not, never their value (a crypt hash of root's password). */
const HIDDEN_KEYS = ["rootPasswordHash"];

export function checkedHostConfig(kind: HostKind, stored: Record<string, unknown>, change: Record<string, unknown>): Record<string, unknown> {
  const schema = schemas[kind];
  if (!schema) throw new UserError(`${kind} hosts have no driver settings`, 422, { config: [`${kind} hosts have no driver settings`] });
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  // Failure injection lives beside the settings on sim hosts only.
  delete merged.failSteps;
  delete merged.stepMs;
  const parsed = schema.strict().safeParse(merged);
  if (!parsed.success) {
    const fields: Record<string, string[]> = {};
    for (const issue of parsed.error.issues) {
      const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of keys) (fields[["config", ...path].join(".")] ??= []).push(issue.code === "unrecognized_keys" ? `Unknown setting for ${kind} hosts` : issue.message);
    }
    throw new UserError("Invalid driver settings", 422, fields);
  }
  return parsed.data as Record<string, unknown>;
}

/** The settings as pages and the API show them: hidden keys only say whether they are set. */
export function visibleHostConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) out[key] = HIDDEN_KEYS.includes(key) ? "(set)" : value;
  return out;
}
