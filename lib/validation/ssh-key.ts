import { z } from "zod";

/**
 * An OpenSSH public key as it stands in authorized_keys: type, base64 blob, optional comment,
 * one line. It is glued into guests, so it is checked strictly: a known type, a blob that
 * decodes and names that same type, and a comment without shell or quoting characters. The browser
 * loads this file too (the Account form checks as you type).
 */
export const sshKeyTypes = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

const MAX_KEY_LENGTH = 8192;
/** Comments like "alice@laptop" or "work key 2026": no shell or quoting characters. */
const LINE = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: ([A-Za-z0-9 @._+=:,/-]{1,200}))?$/;

/** The key type written inside the blob (a length-prefixed string), or null if it is not one. */
function typeInBlob(base64: string): string | null {
  let bytes: string;
  try {
    bytes = atob(base64);
  } catch {
    return null;
  }
  if (bytes.length < 4) return null;
  const len = ((bytes.charCodeAt(0) << 24) | (bytes.charCodeAt(1) << 16) | (bytes.charCodeAt(2) << 8) | bytes.charCodeAt(3)) >>> 0;
  if (len === 0 || len > 64 || 4 + len > bytes.length) return null;
  return bytes.slice(4, 4 + len);
}

/** Why a key line is refused, or null when it is a well-formed public key. */
export function sshKeyProblem(line: string): string | null {
  if (line.length > MAX_KEY_LENGTH) return `A public key is at most ${MAX_KEY_LENGTH} characters`;
  if (/[\r\n]/.test(line)) return "Paste one key on one line";
  if (line.startsWith("-----BEGIN")) return "That is a private key or a PEM file: paste the public key (the .pub file)";
  const m = LINE.exec(line);
  if (!m) return "Use the form: ssh-ed25519 AAAA... comment (the contents of your .pub file); a comment may hold letters, digits, spaces and @ . _ + = : , / -";
  const [, type, blob] = m;
  if (!(sshKeyTypes as readonly string[]).includes(type)) return `Key type ${type.slice(0, 40)} is not supported; use ${sshKeyTypes.slice(0, 2).join(" or ")}`;
  const inner = typeInBlob(blob);
  if (inner === null) return "The key data is not valid base64 key data";
  if (inner !== type) return `The key data is a ${inner.replace(/[^\x20-\x7e]/g, "?").slice(0, 40)} key, but the line says ${type}`;
  return null;
}

export const sshKeyInput = z.strictObject({
  sshPublicKey: z
    .string()
    .transform((s) => s.trim())
    .superRefine((s, ctx) => {
      const problem = s ? sshKeyProblem(s) : "Paste your public key";
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
});

export type SshKeyInput = z.infer<typeof sshKeyInput>;
