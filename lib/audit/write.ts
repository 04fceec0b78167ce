import { AsyncLocalStorage } from "node:async_hooks";
import type { Db } from "../db/client";
import { auditEvents } from "../db/schema";
import { clientAddress } from "../http/client-address";

/** Where a request came from, as the audit log records it. */
export type AuditSource = { ip: string | null; userAgent: string | null };

export type AuditEntry = {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Record<string, unknown>;
  /** The target's state before and after, where it has one (secrets left out). */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  /** Defaults to the request being handled (set by apiRoute), else none (workers, scripts). */
  source?: AuditSource;
};

/** The request being handled: where it came from, and whether it has written an audit event. */
type RequestAudit = AuditSource & { written: number; unchanged: boolean };

const requestSource = new AsyncLocalStorage<RequestAudit>();

const MAX_UA = 400;

/**
 * The client's address and user agent from request headers. The address is the connection's
 * peer, or what trusted proxies (TRUSTED_PROXIES) report for it (lib/http/client-address.ts):
 * never an X-Forwarded-For entry the client wrote itself.
 */
export function sourceOf(headers: Headers | Record<string, unknown> | undefined | null): AuditSource {
  const ua = headers instanceof Headers ? headers.get("user-agent") : headers?.["user-agent"];
  const userAgent = typeof ua === "string" ? ua : Array.isArray(ua) ? String(ua[ua.length - 1] ?? "") || null : null;
  return { ip: clientAddress(headers)?.slice(0, 64) ?? null, userAgent: userAgent ? userAgent.slice(0, MAX_UA) : null };
}

/**
 * Runs `fn` with `source` as the origin of every audit event written inside it; `written()`
 * tells afterwards how many it wrote (apiRoute records a change that wrote none).
 */
export async function withAuditSource<T>(source: AuditSource, fn: () => Promise<T>): Promise<{ result: T; written: number; unchanged: boolean }> {
  const store: RequestAudit = { ...source, written: 0, unchanged: false };
  const result = await requestSource.run(store, fn);
  return { result, written: store.written, unchanged: store.unchanged };
}

/**
 * Says that the request being handled asked for no change at all (a form saved as it was), so
 * apiRoute does not record it as a change a route forgot to audit.
 */
export function markUnchanged(): void {
  const store = requestSource.getStore();
  if (store) store.unchanged = true;
}

/** Appends one audit event. Never throws into the caller's happy path. */
export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  const store = requestSource.getStore();
  const source = e.source ?? store ?? { ip: null, userAgent: null };
  try {
    await db.insert(auditEvents).values({
      actorId: e.actorId,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId ?? null,
      data: e.data ?? {},
      before: e.before ?? null,
      after: e.after ?? null,
      sourceIp: source.ip,
      userAgent: source.userAgent,
    });
    if (store) store.written += 1;
  } catch (err) {
    console.error("[audit] could not write", e.action, (err as Error).message);
  }
}
