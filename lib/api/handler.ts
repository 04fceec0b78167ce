import { randomUUID } from "node:crypto";
import { z } from "zod";
import { currentUser } from "../auth/session";
import { userForToken } from "../auth/tokens";
import { getDb, isAbandoned, isDatabaseUnavailable, whileRequested, type Db } from "../db/client";
import type { Actor } from "../auth/actor";
import type { Role } from "../db/schema";
import { UserError } from "../errors";
import { sourceOf, withAuditSource, writeAudit } from "../audit/write";
import { fieldErrors, storable, UNSTORABLE_MESSAGE, unstorablePaths } from "../validation/fields";
import { isUuid } from "../validation/ids";

export type RouteContext<B> = {
  req: Request;
  db: Db;
  actor: Actor;
  body: B;
  params: Record<string, string>;
  via: "token" | "session";
};

type Options<S extends z.ZodType | undefined> = { body?: S; roles?: Role[] };


export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(data, { status, headers });
}

/** Who is calling: a bearer token on any /api/v1 route, else the session cookie. */
async function authenticate(req: Request, db: Db): Promise<{ actor: Actor; via: "token" | "session" } | null> {
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const user = m ? await userForToken(db, m[1]) : null;
    return user ? { actor: { id: user.id, role: user.role, email: user.email }, via: "token" } : null;
  }
  // The session lives in a cookie: without one there is nothing to read (reading it needs a
  // Next.js request scope, absent in scripts and tests).
  if (!req.headers.get("cookie")) return null;
  // Checked against the database (disabled, signed out).
  const user = await currentUser();
  return user ? { actor: { id: user.id, role: user.role, email: user.email }, via: "session" } : null;
}

/** State-changing requests made with a cookie must come from our own pages. */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (!origin) return false;
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Seconds a client should wait before trying again while the database is unreachable. */
const DATABASE_RETRY_AFTER_S = 5;

export function errorResponse(err: unknown): Response {
  // Nobody is waiting for the answer: no error to log.
  if (isAbandoned(err)) return json({ error: "Request abandoned" }, 499);
  // PostgreSQL restarting or unreachable: nothing is wrong with the request; try again shortly.
  if (isDatabaseUnavailable(err)) {
    console.error(`[api] database unavailable: ${err instanceof Error ? err.message : err}`);
    return json({ error: "The database is unavailable right now (restarting or unreachable); try again in a few seconds." }, 503, { "Retry-After": String(DATABASE_RETRY_AFTER_S) });
  }
  if (err instanceof UserError) return json({ error: err.message, ...(err.fields ? { fields: err.fields } : {}) }, err.status);
  if (err instanceof z.ZodError) return json({ error: "Invalid input", fields: fieldErrors(err) }, 422);
  const requestId = randomUUID();
  console.error(`[api] request ${requestId} failed:`, err);
  return json({ error: "Internal error", requestId }, 500);
}

/**
 * The one wrapper for /api/v1 handlers: authenticates (token or session), checks the role
 * and the Origin of cookie-authenticated changes, refuses strings that cannot be stored in
 * the query, path and body, parses the body with zod and maps errors to status codes (401,
 * 403, 404, 409, 415, 422 with a message per field, else 500 with a request id).
 */
export function apiRoute<S extends z.ZodType | undefined = undefined>(
  opts: Options<S>,
  handler: (ctx: RouteContext<S extends z.ZodType ? z.infer<S> : undefined>) => Promise<Response>,
) {
  return async (req: Request, context: { params?: Promise<Record<string, string>> }): Promise<Response> => {
    try {
      const db = await getDb();
      const auth = await authenticate(req, db);
      if (!auth) return json({ error: "Sign in or send an API token (Authorization: Bearer ...)" }, 401);
      const mutating = !["GET", "HEAD", "OPTIONS"].includes(req.method);
      if (mutating && auth.via === "session" && !sameOrigin(req)) return json({ error: "Cross-site request refused" }, 403);
      if (opts.roles && !opts.roles.includes(auth.actor.role)) return json({ error: "Your role does not allow this" }, 403);
      const params = (await context.params) ?? {};
      checkQueryAndParams(req, params);
      if (params.id !== undefined && !isUuid(params.id)) return json({ error: "Not found" }, 404);
      const body = opts.body ? await readJsonBody(req, opts.body) : undefined;
      // Audit events written while handling the request record where it came from. A change
      // that succeeded without writing one (a route that forgot) is still recorded.
      const source = sourceOf(req.headers);
      const { result, written, unchanged } = await withAuditSource(source, () =>
        whileRequested(req.signal, () => handler({ req, db, actor: auth.actor, body: body as never, params, via: auth.via })),
      );
      if (mutating && written === 0 && !unchanged && result.status < 400) {
        const path = new URL(req.url).pathname;
        await writeAudit(db, { actorId: auth.actor.id, action: `api.${req.method.toLowerCase()}`, targetType: "api", targetId: path, data: { status: result.status }, source });
      }
      return result;
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/** application/json, or any application/<something>+json, whatever its parameters (charset). */
export function isJsonType(contentType: string | null): boolean {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/** The 422 that names every field whose string cannot be stored (see lib/validation/fields). */
export function refuseUnstorable(paths: string[]): void {
  if (paths.length === 0) return;
  throw new UserError(
    `Invalid input: ${paths.join(", ")} contains a character that cannot be stored`,
    422,
    Object.fromEntries(paths.map((p) => [p, [UNSTORABLE_MESSAGE]])),
  );
}

/**
 * The one check of every string a request carries besides its body: each query parameter
 * (name and value) and each path parameter. The body is checked where it is parsed.
 */
function checkQueryAndParams(req: Request, params: Record<string, string>): void {
  const paths: string[] = [];
  for (const [name, value] of new URL(req.url).searchParams) {
    if (!storable(name) || !storable(value)) paths.push(name);
  }
  paths.push(...unstorablePaths(params));
  refuseUnstorable(paths);
}

/**
 * The request's body as the JSON object `schema` accepts, or a UserError to answer with:
 * 415 when a body comes without a JSON content type, 422 for invalid JSON, anything but an
 * object, a string that cannot be stored, or what `schema` refuses. An empty body counts as {}.
 */
export async function readJsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await req.text();
  let raw: unknown = {};
  if (text.trim()) {
    if (!isJsonType(req.headers.get("content-type"))) {
      throw new UserError("Send the body as JSON, with the header Content-Type: application/json", 415);
    }
    try {
      raw = JSON.parse(text);
    } catch {
      throw new UserError("The request body is not valid JSON", 422, { _: ["Not valid JSON"] });
    }
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UserError("The request body must be a JSON object", 422, { _: ["Expected a JSON object"] });
  }
  refuseUnstorable(unstorablePaths(raw));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UserError("Invalid input", 422, fieldErrors(parsed.error));
  return parsed.data;
}

/**
 * The wrapper for the few routes nobody is signed in for (a one-time token in the body is the
 * proof, e.g. accepting an invitation): the same body parsing and error mapping as apiRoute,
 * and audit events written inside record the client's address. The handler audits its change
 * itself: there is no signed-in actor to record one for it.
 */
export function publicRoute<S extends z.ZodType>(
  opts: { body: S },
  handler: (ctx: { req: Request; db: Db; body: z.infer<S> }) => Promise<Response>,
) {
  return async (req: Request): Promise<Response> => {
    try {
      const db = await getDb();
      checkQueryAndParams(req, {});
      const body = await readJsonBody(req, opts.body);
      const { result } = await withAuditSource(sourceOf(req.headers), () => handler({ req, db, body }));
      return result;
    } catch (err) {
      return errorResponse(err);
    }
  };
}
