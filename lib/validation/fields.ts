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

/** The name people read. */
export const displayNameField = z.string().trim().min(1, "Enter a name").max(100, "Name can have at most 100 characters");

/**
 * Field messages from a zod error, as the API's 422 body and the forms show them. Keys are
 * whatever the client sent (`constructor`, `__proto__` ...), so they are collected in a Map,
 * never looked up on a plain object.
 */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, message: string) => {
    const list = out.get(key);
    if (list) list.push(message);
    else out.set(key, [message]);
  };
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) add([...issue.path, k].join("."), "Unknown field");
      continue;
    }
    add(issue.path.join(".") || "_", issue.message);
  }
  return Object.fromEntries(out);
}

/**
 * PostgreSQL's text and jsonb cannot hold NUL, and a lone UTF-16 surrogate has no UTF-8 form:
 * a string with either would fail in the database, so input carrying one is refused up front.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const UNSTORABLE_MESSAGE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)";

export function storable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/**
 * The paths ("conditions.groups.0", "q") of every string, key or value, in `value` that
 * cannot be stored. Walks with its own stack, so a deeply nested body cannot overflow ours.
 */
export function unstorablePaths(value: unknown, root: (string | number)[] = []): string[] {
  const found: string[] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: root }];
  while (stack.length > 0 && found.length < 20) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (!storable(v)) found.push(path.join(".") || "_");
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: [...path, i] }));
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) {
        if (!storable(k)) found.push([...path, k].join("."));
        else stack.push({ v: item, path: [...path, k] });
      }
    }
  }
  return found;
}
