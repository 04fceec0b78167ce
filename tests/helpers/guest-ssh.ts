/**
 * Logging in to a QEMU test guest as its owner: `ssh root@<address>` from inside the host's
 * network namespace (where the guest's bridge is), with one key, the host key checked
 * strictly against a known_hosts file, no agent and no password prompt.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect } from "vitest";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import { invoke } from "./http";

const run = promisify(execFile);

/** `user`: the account to log in as (root when left out). */
export type GuestSsh = { netns: string; address: string; key: string; knownHosts: string; user?: string };

/** Runs `command` on the guest; the exit code and output, never a throw. */
export async function guestSsh(to: GuestSsh, command: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [
    "netns", "exec", to.netns,
    "ssh", "-F", "/dev/null", "-i", to.key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${to.knownHosts}`, "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR",
    `${to.user ?? "root"}@${to.address}`, command,
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

/** Makes an ed25519 key pair at `file` and puts its public key on the Account of the token's user. */
export async function putOwnerKey(token: string, file: string): Promise<void> {
  const put = await invoke(sshKeyRoute.PUT, "PUT", "/api/v1/me/ssh-key", { token, body: { sshPublicKey: await newOwnerKey(file) } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}

/**
 * Pins the guest's SSH host key for `address` in `knownHosts`, as the guest printed it on its
 * serial console at its latest boot (`portal-init: SSH host key ...`); fails when it did not.
 */
export function pinHostKeyFromConsole(serialLog: string, address: string, knownHosts: string): void {
  const keys = [...readFileSync(serialLog, "utf8").matchAll(/portal-init: SSH host key (ssh-ed25519 [A-Za-z0-9+/=]+)/g)];
  if (keys.length === 0) throw new Error(`no SSH host key line on the console (${serialLog})`);
  writeFileSync(knownHosts, `${address} ${keys.at(-1)![1]}\n`);
}
