import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { orderSecrets } from "../db/schema";

/**
 * Secrets a recipe hands its owner (generated passwords): made at deploy time, kept in clear
 * only until the owner has seen them once, then only as a sha256 hash. A rebuild that needs a
 * secret whose clear value is gone (a reinstall after the owner looked) makes a new one, which
 * the owner again sees once.
 */

export function secretHash(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** 144 random bits as 24 base64url characters: no character a config file or shell reads specially. */
function newSecret(): string {
  return randomBytes(18).toString("base64url");
}

/** The clear values of the order's secrets `names`, made (or made anew) where needed. */
export async function secretsForDeploy(db: Db, orderId: string, names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const [row] = await db.select().from(orderSecrets).where(and(eq(orderSecrets.orderId, orderId), eq(orderSecrets.name, name)));
    if (row?.value) {
      out[name] = row.value;
      continue;
    }
    const value = newSecret();
    const values = { value, hash: secretHash(value), createdAt: new Date(), revealedAt: null, revealedBy: null };
    // Two attempts at once (at-least-once delivery): the first insert wins, the other takes its value.
    const [made] = await db
      .insert(orderSecrets)
      .values({ orderId, name, ...values })
      .onConflictDoUpdate({ target: [orderSecrets.orderId, orderSecrets.name], set: values, setWhere: isNull(orderSecrets.value) })
      .returning({ value: orderSecrets.value });
    if (made?.value) out[name] = made.value;
    else {
      const [now] = await db.select({ value: orderSecrets.value }).from(orderSecrets).where(and(eq(orderSecrets.orderId, orderId), eq(orderSecrets.name, name), isNotNull(orderSecrets.value)));
      if (!now?.value) throw new Error(`the secret ${name} of order ${orderId} could not be made`);
      out[name] = now.value;
    }
  }
  return out;
}

export type SecretState = { name: string; createdAt: Date; revealedAt: Date | null; available: boolean };

/** What the order page may say about the order's secrets: never a value. */
export async function secretStates(db: Db, orderId: string): Promise<SecretState[]> {
  const rows = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, orderId));
  return rows.map((r) => ({ name: r.name, createdAt: r.createdAt, revealedAt: r.revealedAt, available: r.value !== null }));
}

/**
 * Hands the owner the clear values once: they are cleared in the same statement, so a second
 * call (or a second tab) gets nothing. Returns the values revealed now.
 */
export async function revealSecrets(db: Db, orderId: string, userId: string): Promise<{ name: string; value: string }[]> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ name: orderSecrets.name, value: orderSecrets.value })
      .from(orderSecrets)
      .where(and(eq(orderSecrets.orderId, orderId), isNotNull(orderSecrets.value)))
      .for("update");
    if (rows.length === 0) return [];
    await tx
      .update(orderSecrets)
      .set({ value: null, revealedAt: new Date(), revealedBy: userId })
      .where(and(eq(orderSecrets.orderId, orderId), isNotNull(orderSecrets.value)));
    return rows.map((r) => ({ name: r.name, value: r.value! }));
  });
}
