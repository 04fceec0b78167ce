import { createHash } from "node:crypto";

/** OpenSSH's fingerprint of a public key line: SHA256 of the key data, base64 without padding. */
export function sshFingerprint(line: string): string {
  const blob = line.trim().split(" ")[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** What a public key line calls itself: its comment (e.g. `alice@laptop`), else its type. */
export function sshKeyName(line: string): string {
  const [type = "", , ...comment] = line.trim().split(/\s+/);
  return comment.join(" ") || type;
}
