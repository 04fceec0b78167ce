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

/** Where a value sits: its key and its parent's place (a linked list, so deep values cost no copies). */
type Place = { key: string | number; up: Place | null } | null;

function pathOf(place: Place): string {
  const keys: (string | number)[] = [];
  for (let p = place; p; p = p.up) keys.push(p.key);
  return keys.reverse().join(".") || "_";
}

/**
 * The paths ("conditions.groups.0", "q") of every string, key or value, in `value` that
 * cannot be stored (at most 20). Walks with its own stack, in time linear in the value's
 * size, so a deeply nested body can neither overflow the call stack nor take long.
 */
export function unstorablePaths(value: unknown, root: (string | number)[] = []): string[] {
  const found: string[] = [];
  let start: Place = null;
  for (const key of root) start = { key, up: start };
  const stack: { v: unknown; at: Place }[] = [{ v: value, at: start }];
  while (stack.length > 0 && found.length < 20) {
    const { v, at } = stack.pop()!;
    if (typeof v === "string") {
      if (!storable(v)) found.push(pathOf(at));
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], at: { key: i, up: at } });
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) {
        if (!storable(k)) found.push(pathOf({ key: k, up: at }));
        else stack.push({ v: item, at: { key: k, up: at } });
      }
    }
  }
  return found;
}

/**
 * A number in a JSON body or a form: a JSON number, or a string of digits (form fields hold
 * text). Unlike z.coerce, true, [], null or "" are refused with the schema's message instead of
 * becoming 1 or 0.
 */
export function numeric<S extends z.ZodType>(schema: S) {
  return z.preprocess((v) => (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), schema);
}

/** Text for LIKE/ILIKE with the user's `%`, `_` and `\\` taken literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
