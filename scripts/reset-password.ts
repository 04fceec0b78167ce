/**
 * `npm run reset-password [-- <e-mail>]`: gives a user (the first admin by default) a new
 * generated password, printed once, and signs them out everywhere. For the embedded database
 * the portal must be stopped first (PGlite serves one process).
 */
import { eq, sql } from "drizzle-orm";
import path from "node:path";
import { writeAudit } from "@/lib/audit/write";
import { generatePassword, hashPassword } from "@/lib/auth/password";
import { closeDb, getDbHandle } from "@/lib/db/client";
import { users } from "@/lib/db/schema";
import { env } from "@/lib/env";
import { dataDirHolder } from "./lib.mjs";

async function main() {
  const email = (process.argv[2] ?? env.ADMIN_EMAIL).trim().toLowerCase();
  if (!env.DATABASE_URL) {
    const holder = dataDirHolder(path.resolve(env.DATA_DIR));
    if (holder) throw new Error(`The portal is running (process ${holder}) on the embedded database; stop it (Ctrl+C), then run this again.`);
  }
  const { db } = await getDbHandle();
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const [user] = await db
    .update(users)
    .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.email, email))
    .returning({ id: users.id, email: users.email, role: users.role });
  if (!user) throw new Error(`No user with e-mail ${email}.`);
  await writeAudit(db, { actorId: null, action: "user.password_reset", targetType: "user", targetId: user.id, data: { via: "command line" } });
  console.log(`New password for ${user.email} (${user.role}): ${password}`);
  console.log("Shown once. Their other sessions are signed out.");
}

main()
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => closeDb());
