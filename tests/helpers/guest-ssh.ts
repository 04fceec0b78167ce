/**
 * Logging in to a QEMU test guest as its owner: `ssh root@<address>` from inside the host's
 * network namespace (where the guest's bridge is), with one key, the host key checked
 * strictly against a known_hosts file, no agent and no password prompt.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

export type GuestSsh = { netns: string; address: string; key: string; knownHosts: string };

/** Runs `command` on the guest; the exit code and output, never a throw. */
export async function guestSsh(to: GuestSsh, command: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    "netns", "exec", to.netns,
    "ssh", "-F", "/dev/null", "-i", to.key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${to.knownHosts}`, "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR",
    `root@${to.address}`, command,
  ];
  const child = run("ip", argv, { timeout: 60_000 });
  child.child.stdin?.end(input ?? "");
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

/** A new ed25519 key pair at `file` and `file.pub` (no passphrase); returns the public key line. */
export async function newOwnerKey(file: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "owner", "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").trim();
}

/**
 * Pins the guest's SSH host key for `address` in `knownHosts`, as the guest printed it on its
 * serial console at boot (`portal-init: SSH host key ...`); fails when it did not.
 */
export function pinHostKeyFromConsole(serialLog: string, address: string, knownHosts: string): void {
  const hostKey = readFileSync(serialLog, "utf8").match(/portal-init: SSH host key (ssh-ed25519 [A-Za-z0-9+/=]+)/);
  if (!hostKey) throw new Error(`no SSH host key line on the console (${serialLog})`);
  writeFileSync(knownHosts, `${address} ${hostKey[1]}\n`);
}
