/**
 * Logging in to a QEMU test guest as its owner: `ssh root@<address>` from inside the host's
 * network namespace (where the guest's bridge is), with one key, the host key checked
 * strictly against a known_hosts file, no agent and no password prompt.
 */
import { execFile } from "node:child_process";
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
