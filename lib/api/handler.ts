import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { getServerSession } from "next-auth";
import { z } from "zod";
import { authOptions } from "../auth/options";
import { userForToken } from "../auth/tokens";
import { getDb, isDatabaseUnavailable, type Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { users, type Role } from "../db/schema";
import { UserError } from "../errors";
import { sourceOf, withAuditSource, writeAudit } from "../audit/write";
import { fieldErrors } from "../validation/fields";
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
  // The session lives in a cookie: without one there is nothing to ask next-auth (whose
  // getServerSession also needs a Next.js request scope, absent in scripts and tests).
  if (!req.headers.get("cookie")) return null;
  const session = (await getServerSession(authOptions)) as { uid?: string; sv?: number } | null;
  if (!session?.uid) return null;
  const [user] = await db.select().from(users).where(eq(users.id, session.uid));
  if (!user || user.disabled || user.sessionVersion !== session.sv) return null;
  return { actor: { id: user.id, role: user.role, email: user.email }, via: "session" };
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
 * and the Origin of cookie-authenticated changes, parses the body with zod and maps errors
 * to status codes (422 fields, 401, 403, 404, 409, else 500 with a request id).
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
      if (params.id !== undefined && !isUuid(params.id)) return json({ error: "Not found" }, 404);
      const parsed = await parseBody(req, opts.body);
      if (parsed instanceof Response) return parsed;
      const body = parsed.body;
      // Audit events written while handling the request record where it came from. A change
      // that succeeded without writing one (a route that forgot) is still recorded.
      const source = sourceOf(req.headers);
      const { result, written, unchanged } = await withAuditSource(source, () => handler({ req, db, actor: auth.actor, body: body as never, params, via: auth.via }));
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

/** The request's JSON body checked with `schema` (an empty body counts as {}), or the 422 to answer. */
async function parseBody(req: Request, schema: z.ZodType | undefined): Promise<{ body: unknown } | Response> {
  if (!schema) return { body: undefined };
  let raw: unknown = {};
  const text = await req.text();
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      return json({ error: "The request body must be JSON" }, 422);
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return json({ error: "Invalid input", fields: fieldErrors(parsed.error) }, 422);
  return { body: parsed.data };
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
      const parsed = await parseBody(req, opts.body);
      if (parsed instanceof Response) return parsed;
      const { result } = await withAuditSource(sourceOf(req.headers), () => handler({ req, db, body: parsed.body as z.infer<S> }));
      return result;
    } catch (err) {
      return errorResponse(err);
    }
  };
}
