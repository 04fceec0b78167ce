import { headers } from "next/headers";
import type { z } from "zod";
import { getDb, type Db } from "../db/client";
import { currentUser } from "../auth/session";
import type { Actor } from "../auth/actor";
import { UserError } from "../errors";
import { sourceOf, withAuditSource } from "../audit/write";
import { fieldErrors, unstorablePaths } from "../validation/fields";
import { errorResponse, refuseUnstorable } from "./handler";

export type ActionResult<T> = { ok: true; data: T } | { ok: false; error: string; fields: Record<string, string[]> };

/**
 * The one wrapper for server actions behind forms that also work without JavaScript: the
 * checks apiRoute makes (signed in, strings that can be stored, the zod schema), audit events
 * that record the client, and errors mapped as the API maps them, as the form's state
 * ({ error, fields }) instead of a response. Next.js refuses actions posted from other origins.
 */
export async function runAction<S extends z.ZodType, T>(
  schema: S,
  input: Record<string, unknown>,
  handler: (ctx: { db: Db; actor: Actor; body: z.infer<S> }) => Promise<T>,
): Promise<ActionResult<T>> {
  try {
    const user = await currentUser();
    if (!user) throw new UserError("Your session has ended; sign in again", 401);
    refuseUnstorable(unstorablePaths(input));
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new UserError("Invalid input", 422, fieldErrors(parsed.error));
    const db = await getDb();
    const actor: Actor = { id: user.id, role: user.role, email: user.email };
    const { result } = await withAuditSource(sourceOf(await headers()), () => handler({ db, actor, body: parsed.data }));
    return { ok: true, data: result };
  } catch (err) {
    const body = (await errorResponse(err).json()) as { error: string; fields?: Record<string, string[]>; requestId?: string };
    return { ok: false, error: body.requestId ? `${body.error} (request ${body.requestId})` : body.error, fields: body.fields ?? {} };
  }
}

/** A form's fields as strings, by name (a field missing from the post reads as ""). */
export function formValues<K extends string>(form: FormData, names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((n) => [n, String(form.get(n) ?? "")])) as Record<K, string>;
}
