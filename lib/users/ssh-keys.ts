import { sshFingerprint } from "../validation/ssh-fingerprint";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { writeAudit } from "../audit/write";

function view(key: string | null) {
  return { sshPublicKey: key, fingerprint: key ? sshFingerprint(key) : null };
}

/** The user's public key, put into the guests they order (glue step). */
export async function getSshKey(db: Db, userId: string) {
  const [row] = await db.select({ key: users.sshPublicKey }).from(users).where(eq(users.id, userId));
  return view(row?.key ?? null);
}

/** Sets (a validated line) or removes (null) the user's key; audited with its fingerprint. */
export async function setSshKey(db: Db, userId: string, key: string | null) {
  return db.transaction(async (tx) => {
    const [previous] = await tx.select({ key: users.sshPublicKey }).from(users).where(eq(users.id, userId));
    await tx.update(users).set({ sshPublicKey: key }).where(eq(users.id, userId));
    await writeAudit(tx, {
      actorId: userId,
      action: key ? "user.ssh_key.set" : "user.ssh_key.remove",
      targetType: "user",
      targetId: userId,
      data: key ? { fingerprint: sshFingerprint(key) } : {},
      before: { fingerprint: previous?.key ? sshFingerprint(previous.key) : null },
      after: { fingerprint: key ? sshFingerprint(key) : null },
    });
    return view(key);
  });
}
