import { createHash } from "node:crypto";
import ssh2 from "ssh2";

// ssh2 is CommonJS whose `utils` Node's ESM loader cannot see as a named export (a process
// started with `node --import tsx` fails to load this module otherwise): take it from the default.
const { utils } = ssh2;

/**
 * What the portal can tell about a pasted private key without keeping more of it: whether
 * ssh2 can log in with it, and its public half (for the host's authorized_keys) with the
 * SHA256 fingerprint ssh-keygen shows. Messages never quote the key.
 */
export function inspectPrivateKey(text: string): { publicKey: string; fingerprint: string } | { problem: string } {
  let parsed: ReturnType<typeof utils.parseKey>;
  try {
    parsed = utils.parseKey(text);
  } catch {
    return { problem: "This private key cannot be read; paste it as ssh-keygen wrote it" };
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    const why = key instanceof Error && /passphrase|encrypted/i.test(key.message) ? "it is protected by a passphrase" : "it is not a key the portal can use";
    return { problem: `This private key cannot be used: ${why}` };
  }
  if (!key.isPrivateKey()) return { problem: "This is a public key; paste the private key" };
  const blob = key.getPublicSSH();
  return {
    publicKey: `${key.type} ${blob.toString("base64")} portal`,
    fingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
  };
}
