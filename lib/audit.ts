import type { Db } from "./db/client";
import { auditEvents } from "./db/schema";

export type AuditEntry = {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Record<string, unknown>;
};

/** Appends one audit event. Never throws into the caller's happy path. */
export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  try {
    await db.insert(auditEvents).values({ actorId: e.actorId, action: e.action, targetType: e.targetType, targetId: e.targetId ?? null, data: e.data ?? {} });
  } catch (err) {
    console.error("[audit] could not write", e.action, (err as Error).message);
  }
}
