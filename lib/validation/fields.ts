import { z } from "zod";

/** Slugs name things in URLs and API bodies: lowercase letters, digits and inner hyphens. */
export const SLUG = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;

/** The slug of a catalog entry or network, as admins type it. */
export const slugField = z
  .string()
  .trim()
  .min(2, "Slug needs at least 2 characters")
  .max(40, "Slug can have at most 40 characters")
  .regex(SLUG, "Use lowercase letters, digits and hyphens; start and end with a letter or digit");

/** A guest's hostname: what orders name their environment and what goes into the guest. */
export const HOSTNAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

/** A host tag (e.g. batch): placement pools name them. */
export const HOST_TAG = /^[a-z0-9][a-z0-9-]{0,30}$/;

/** The name people read. */
export const displayNameField = z.string().trim().min(1, "Enter a name").max(100, "Name can have at most 100 characters");

/** Field messages from a zod error, as the API's 422 body and the form show them. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) (out[[...issue.path, k].join(".")] ??= []).push("Unknown field");
      continue;
    }
    const key = issue.path.join(".") || "_";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
