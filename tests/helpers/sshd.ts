/**
 * A real OpenSSH server on loopback for tests: its own host key, its own sshd_config in a
 * temporary directory, one authorized key for the test user, and an optional PATH and
 * environment for that user's sessions (so host emulators can stand in for `xl`, `zoneadm`
 * and friends). Nothing here imports lib/.
 *
 * As root (CI), sessions run as the system user `portaltest`, created once; otherwise sshd
 * runs as the current user, who is then also the user that logs in (use a port above 1024).
 *
 *   const sshd = await startSshd({ port: 2221, extraPath: ["/path/to/emulators"], env: { EMU_STATE: dir } });
 *   // sshd.host, sshd.port, sshd.user, sshd.privateKey, sshd.hostKeyFingerprint, sshd.workDir
 *   await sshd.stop();
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { userInfo } from "node:os";
import path from "node:path";

export const SSHD = "/usr/sbin/sshd";
export const TEST_USER = "portaltest";

export type StartSshdOptions = {
  /** 127.0.0.1 port to listen on (each test file uses its own). */
  port: number;
  /** Directories put first on the session PATH (before /usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin). */
  extraPath?: string[];
  /** More session environment (sshd_config SetEnv): names [A-Z_][A-Z0-9_]*, values without spaces, quotes or backslashes. */
  env?: Record<string, string>;
  /** sshd_config KexAlgorithms, e.g. "diffie-hellman-group14-sha1" to act like an old SSH server. */
  kexAlgorithms?: string;
};

export type RunningSshd = {
  host: string;
  port: number;
  /** The user that logs in. */
  user: string;
  /** The user's private key (OpenSSH format), as an admin would paste it into the portal. */
  privateKey: string;
  /** Its public key line (authorized_keys). */
  publicKey: string;
  /** The server's host key fingerprint as `ssh-keygen -l` prints it: SHA256:<base64, no padding>. Changes on restart({ newHostKey }). */
  hostKeyFingerprint: string;
  /** A directory owned by the session user (emulator state, files the tests write over SSH). */
  workDir: string;
  /** sshd's own log (stderr) since the last start, for failure messages. */
  log(): string;
  /** Stops and starts sshd on the same port, with the same client key; a new host key if asked. */
  restart(opts?: { newHostKey?: boolean }): Promise<void>;
  /** Stops sshd, waits until it has exited and removes its files. */
  stop(): Promise<void>;
};

const isRoot = process.getuid?.() === 0;

function sh(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The session user: `portaltest` (created once, idempotently) as root, else whoever runs the tests. */
function sessionUser(): { name: string; uid: number; gid: number } {
  if (!isRoot) {
    const me = userInfo();
    return { name: me.username, uid: me.uid, gid: me.gid };
  }
  const lookup = () => {
    try {
      const [name, , uid, gid] = sh("getent", ["passwd", TEST_USER]).trim().split(":");
      return { name, uid: Number(uid), gid: Number(gid) };
    } catch {
      return null;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    // `*` as the password: no password login, but not "locked" (sshd without PAM refuses locked accounts).
    sh("useradd", ["--system", "--create-home", "--shell", "/bin/sh", "--password", "*", TEST_USER]);
  } catch (e) {
    // Another test file created it at the same moment: fine if it exists now.
    if (!lookup()) throw e;
  }
  return lookup()!;
}

/** SHA256 fingerprint of a public key file, as `ssh-keygen -l -E sha256` prints it. */
export function fingerprintOf(publicKeyFile: string): string {
  const out = sh("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile]);
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(out);
  if (!m) throw new Error(`no fingerprint in ssh-keygen output: ${out}`);
  return m[0];
}

/** Generates an ed25519 key pair at `file` (and file.pub), without a passphrase. */
export function generateKey(file: string, comment = "portal-test"): void {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SAFE_VALUE = /^[^"'\s\\]*$/;

/** Starts sshd with `configFile`; resolves when it listens, with its process and log. */
async function launch(configFile: string, port: number): Promise<{ child: ChildProcess; log: () => string; exited: Promise<void> }> {
  let log = "";
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", configFile], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`sshd on port ${port} did not start within 10 s:\n${log}`)), 10_000);
    const check = () => {
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) done();
    };
    const onExit = (code: number | null) => done(new Error(`sshd on port ${port} exited (${code}) before listening:\n${log}`));
    function done(err?: Error) {
      clearTimeout(timer);
      child.stderr!.off("data", check);
      child.off("exit", onExit);
      if (err) {
        child.kill("SIGKILL");
        reject(err);
      } else resolve();
    }
    child.stderr!.on("data", check);
    child.once("exit", onExit);
    check();
  });
  return { child, log: () => log, exited };
}

/** Every process below `pid` (sshd's per-connection children and the sessions' commands), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the command name in parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) found.push(child), walk(child);
  };
  walk(pid);
  return found;
}

/**
 * Stops sshd like a host going down: the listener, its open connections and what their
 * sessions still run (a plain SIGTERM to sshd leaves established connections alive).
 */
async function terminate(p: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const below = p.child.pid ? descendants(p.child.pid) : [];
  p.child.kill("SIGTERM");
  for (const pid of below) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  const killer = setTimeout(() => p.child.kill("SIGKILL"), 5000);
  await p.exited;
  clearTimeout(killer);
}

export async function startSshd(opts: StartSshdOptions): Promise<RunningSshd> {
  const user = sessionUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), `portal-sshd-${opts.port}-`));
  // The session user reads authorized_keys (sshd drops to that user to read it).
  chmodSync(dir, 0o755);

  const hostKeyFile = path.join(dir, "ssh_host_ed25519_key");
  generateKey(hostKeyFile, "portal-test-host");
  const clientKeyFile = path.join(dir, "client_ed25519");
  generateKey(clientKeyFile, "portal-test-client");
  const publicKey = readFileSync(`${clientKeyFile}.pub`, "utf8").trim();
  const authorizedKeys = path.join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, publicKey + "\n", { mode: 0o644 });

  const workDir = path.join(dir, "work");
  mkdirSync(workDir, { mode: 0o755 });
  if (isRoot) chownSync(workDir, user.uid, user.gid);

  if (opts.kexAlgorithms && !/^[a-z0-9@.,+-]+$/.test(opts.kexAlgorithms)) throw new Error(`sshd kexAlgorithms ${opts.kexAlgorithms}: not a list of names`);
  for (const p of opts.extraPath ?? []) if (!SAFE_VALUE.test(p) || p.includes(":")) throw new Error(`sshd extraPath ${p}: spaces, quotes and colons not allowed`);
  const pathValue = [...(opts.extraPath ?? []), "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"].join(":");
  const setEnv: string[] = [`PATH=${pathValue}`];
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(name) || !SAFE_VALUE.test(value)) throw new Error(`sshd test env ${name}: name or value not allowed`);
    setEnv.push(`${name}=${value}`);
  }

  if (isRoot) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  const config = [
    `Port ${opts.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyFile}`,
    `PidFile ${path.join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `AllowUsers ${user.name}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin no",
    "UsePAM no",
    // The temporary directory sits under the world-writable /tmp.
    "StrictModes no",
    "LogLevel INFO",
    "MaxStartups 50:30:100",
    "MaxSessions 20",
    "AllowStreamLocalForwarding yes",
    "AllowTcpForwarding local", // streamlocal (QMP sockets) needs local forwarding allowed
    "X11Forwarding no",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
    ...(opts.kexAlgorithms ? [`KexAlgorithms ${opts.kexAlgorithms}`] : []),
    `SetEnv ${setEnv.join(" ")}`,
    "",
  ].join("\n");
  const configFile = path.join(dir, "sshd_config");
  writeFileSync(configFile, config, { mode: 0o644 });

  let running = await launch(configFile, opts.port);
  let stopped = false;
  const server: RunningSshd = {
    host: "127.0.0.1",
    port: opts.port,
    user: user.name,
    privateKey: readFileSync(clientKeyFile, "utf8"),
    publicKey,
    hostKeyFingerprint: fingerprintOf(`${hostKeyFile}.pub`),
    workDir,
    log: () => running.log(),
    async restart(r = {}) {
      await terminate(running);
      if (r.newHostKey) {
        generateKey(hostKeyFile, "portal-test-host");
        server.hostKeyFingerprint = fingerprintOf(`${hostKeyFile}.pub`);
      }
      running = await launch(configFile, opts.port);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(running);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** True when this machine can run the harness (sshd and ssh-keygen installed). */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && existsSync("/usr/bin/ssh-keygen");
}
