import { createHash } from "node:crypto";

/** OpenSSH's fingerprint of a public key line: SHA256 of the key data, base64 without padding. */
export function sshFingerprint(line: string): string {
  const blob = line.trim().split(" ")[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}
