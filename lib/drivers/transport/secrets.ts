import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { authSecret } from "../../env";

/**
 * Host SSH private keys at rest: AES-256-GCM with a key derived (HKDF-SHA256) from the
 * portal's AUTH_SECRET, the host's id bound in as associated data so a stored key cannot be
 * moved to another host's row. Stored as "v1:<base64url of iv | tag | ciphertext>".
 * Changing AUTH_SECRET makes stored keys unreadable: hosts then need their key again.
 */
const VERSION = "v1";
let cachedKey: { secret: string; key: Buffer } | null = null;

function encryptionKey(): Buffer {
  const secret = authSecret();
  if (cachedKey?.secret !== secret) {
    cachedKey = { secret, key: Buffer.from(hkdfSync("sha256", secret, "portal host credentials", "ssh-private-key v1", 32)) };
  }
  return cachedKey.key;
}

export function encryptHostSecret(hostId: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", encryptionKey(), iv);
  cipher.setAAD(Buffer.from(hostId));
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}

export class HostSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostSecretError";
  }
}

export function decryptHostSecret(hostId: string, stored: string): string {
  const [version, data] = stored.split(":", 2);
  if (version !== VERSION || !data) throw new HostSecretError("the stored SSH key has an unknown format; enter the host's key again");
  const raw = Buffer.from(data, "base64url");
  try {
    const decipher = createDecipheriv("aes-256-gcm", encryptionKey(), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(hostId));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new HostSecretError("the stored SSH key cannot be decrypted (was AUTH_SECRET changed?); enter the host's key again");
  }
}
