import { createHash, createHmac, pbkdf2Sync, randomBytes, randomInt } from "node:crypto";
import { databasePasswordPattern, scramVerifierPattern } from "../validation/database";

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL keeps passwords: the portal turns a
 * database password into the verifier PostgreSQL stores (`CREATE ROLE ... PASSWORD
 * 'SCRAM-SHA-256$...'` takes it as it is), so only the verifier goes to the guest. A verifier
 * lets a server check a login; it does not let anyone log in.
 */
export const scramIterations = 4096;

/** The verifier of `password` with a random (or given) 16-byte salt. The password is ASCII (SASLprep leaves it as it is). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error("scram: the password must be printable ASCII");
  const salted = pbkdf2Sync(password, salt, scramIterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  const verifier = `SCRAM-SHA-256$${scramIterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
  if (!scramVerifierPattern.test(verifier)) throw new Error("scram: the verifier does not have the expected form");
  return verifier;
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A new database password: 24 letters and digits from the system's random source (about 143 bits). */
export function newDatabasePassword(): string {
  let out = "";
  for (let i = 0; i < 24; i++) out += alphabet[randomInt(alphabet.length)];
  if (!databasePasswordPattern.test(out)) throw new Error("scram: generated password has an unexpected form");
  return out;
}
