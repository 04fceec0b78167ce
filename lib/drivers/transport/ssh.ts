import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { LineCollector } from "./local";
import { shellQuoteArgv } from "./quote";
import { Semaphore } from "./semaphore";
import { TransportError, type RunOptions, type RunResult, type Transport } from "./types";

/**
 * Runs programs on a registered host over SSH (ssh2): key authentication, the host key pinned
 * at registration, one connection per host reused by every command (SSH multiplexes channels),
 * and at most `maxConcurrency` commands at once per host.
 *
 * An exec request is one string that the remote user's shell parses: it is built only with
 * shellQuoteArgv, so every argument arrives verbatim.
 */
export type SshTarget = {
  /** Pool key, usually the host's id. */
  id: string;
  address: string;
  port: number;
  user: string;
  /** OpenSSH or PEM private key text. Never logged, never part of an error. */
  privateKey: string;
  /** The pinned host key, "SHA256:<base64>". Null only for a first contact (see allowUnpinned). */
  hostKeyFingerprint: string | null;
  /** Commands at once on this host (default 4). */
  maxConcurrency?: number;
  /** Connect and handshake timeout (default 15 s). */
  connectTimeoutMs?: number;
  /** Accept any host key and report it (registration's first "Test connection" only). */
  allowUnpinned?: boolean;
};

/** SHA256 fingerprint of a host key blob, as ssh-keygen -l prints it. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

const SIGNAL_NUMBERS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };
const IDLE_CLOSE_MS = 60_000;

/** One host's connection (lazily opened, reopened after a drop) and its concurrency limit. */
class SshHostConnection {
  readonly slots: Semaphore;
  readonly description: string;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private users = 0;
  private retired = false;
  /** The host key the server presented on the latest connect. */
  presentedFingerprint: string | null = null;

  constructor(readonly target: SshTarget) {
    this.slots = new Semaphore(target.maxConcurrency ?? 4);
    this.description = `ssh ${target.user}@${target.address}:${target.port}`;
  }

  /** A connected client; holds the connection open until the returned release is called. */
  async use(): Promise<{ client: Client; release: () => void }> {
    this.users++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    try {
      const client = await this.connect();
      let released = false;
      return {
        client,
        release: () => {
          if (released) return;
          released = true;
          this.unuse();
        },
      };
    } catch (e) {
      this.unuse();
      throw e;
    }
  }

  private unuse() {
    this.users--;
    if (this.users > 0) return;
    if (this.retired) return void this.close();
    this.idleTimer = setTimeout(() => void this.close(), IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  /** Closes once nobody uses the connection any more (credentials changed). */
  retire() {
    this.retired = true;
    if (this.users === 0) void this.close();
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().then(
      (client) => {
        this.connecting = null;
        this.client = client;
        return client;
      },
      (err) => {
        this.connecting = null;
        throw err;
      },
    );
    return this.connecting;
  }

  private open(): Promise<Client> {
    const t = this.target;
    if (!t.hostKeyFingerprint && !t.allowUnpinned) {
      return Promise.reject(
        new TransportError("host-key", `${this.description}: no host key pinned for this host yet; run "Test connection" on the admin page to record and check it`),
      );
    }
    return new Promise((resolve, reject) => {
      const client = new Client();
      let mismatch: { expected: string; got: string } | null = null;
      let settled = false;
      const config: ConnectConfig = {
        host: t.address,
        port: t.port,
        username: t.user,
        privateKey: t.privateKey,
        readyTimeout: t.connectTimeoutMs ?? 15_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const got = hostKeyFingerprint(key);
          this.presentedFingerprint = got;
          if (t.hostKeyFingerprint && got !== t.hostKeyFingerprint) {
            mismatch = { expected: t.hostKeyFingerprint, got };
            return false;
          }
          return true;
        },
      };
      client.once("ready", () => {
        settled = true;
        resolve(client);
      });
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (!settled) {
          settled = true;
          client.end();
          return reject(this.connectError(err, mismatch));
        }
        // After ready: the socket dropped. The next command reconnects.
        this.forget(client);
      });
      client.on("close", () => {
        this.forget(client);
        if (!settled) {
          settled = true;
          reject(this.connectError(new Error("connection closed during the handshake"), mismatch));
        }
      });
      try {
        client.connect(config);
      } catch (e) {
        // Raised synchronously for a private key ssh2 cannot parse; its message names no key material.
        settled = true;
        reject(new TransportError("auth", `${this.description}: private key not usable (${(e as Error).message})`));
      }
    });
  }

  private connectError(err: Error & { level?: string; code?: string }, mismatch: { expected: string; got: string } | null): TransportError {
    if (mismatch) {
      return new TransportError(
        "host-key",
        `${this.description}: host key changed: pinned ${mismatch.expected}, the host presented ${mismatch.got}. Connection refused. ` +
          `If the host was reinstalled, check the new key on the host (ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub) and update the host's fingerprint.`,
      );
    }
    if (err.level === "client-authentication") {
      return new TransportError("auth", `${this.description}: the host refused the key (is its public key in ~${this.target.user}/.ssh/authorized_keys?)`);
    }
    if (err.level === "client-timeout") return new TransportError("connect", `${this.description}: no SSH handshake within ${this.target.connectTimeoutMs ?? 15_000} ms`);
    const code = err.code ? ` (${err.code})` : "";
    return new TransportError("connect", `${this.description}: cannot connect${code}: ${err.message}`);
  }

  private forget(client: Client) {
    if (this.client === client) this.client = null;
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const client = this.client ?? (this.connecting ? await this.connecting.catch(() => null) : null);
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once("close", () => resolve());
      client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}

/** Connections by host id, replaced when a host's address, credentials, pinned key or limit change. */
const pool = new Map<string, { signature: string; connection: SshHostConnection }>();

function signatureOf(t: SshTarget): string {
  return createHash("sha256")
    .update(JSON.stringify([t.address, t.port, t.user, t.privateKey, t.hostKeyFingerprint, t.maxConcurrency ?? 4, t.connectTimeoutMs ?? null]))
    .digest("hex");
}

function pooledConnection(target: SshTarget): SshHostConnection {
  const signature = signatureOf(target);
  const entry = pool.get(target.id);
  if (entry?.signature === signature) return entry.connection;
  entry?.connection.retire();
  const connection = new SshHostConnection(target);
  pool.set(target.id, { signature, connection });
  return connection;
}

/** Closes every pooled SSH connection (worker shutdown). */
export async function closeSshConnections(): Promise<void> {
  const all = [...pool.values()].map((e) => e.connection);
  pool.clear();
  await Promise.all(all.map((c) => c.close()));
}

export class SshTransport implements Transport {
  readonly description: string;
  private readonly connection: SshHostConnection;
  private readonly pooled: boolean;

  /**
   * Pooled by default (one connection per host id, shared by every transport for it).
   * `pooled: false` gives a connection of its own, closed by close(): "Test connection" uses
   * that, so a key being checked never lands in the pool.
   */
  constructor(target: SshTarget, opts: { pooled?: boolean } = {}) {
    this.pooled = opts.pooled ?? !target.allowUnpinned;
    this.connection = this.pooled ? pooledConnection(target) : new SshHostConnection(target);
    this.description = this.connection.description;
  }

  /** The host key fingerprint the host presented when this transport connected. */
  get presentedHostKey(): string | null {
    return this.connection.presentedFingerprint;
  }

  /** Opens the connection now (checks reachability, authentication and the host key). */
  async connect(): Promise<void> {
    const { release } = await this.connection.use();
    release();
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new TransportError("spawn", "no program given");
    const command = shellQuoteArgv(argv);
    const name = argv[0]!;
    const releaseSlot = await this.connection.slots.acquire(options.signal, name);
    try {
      const { client, release } = await this.connection.use();
      try {
        return await this.exec(client, command, name, options);
      } finally {
        release();
      }
    } finally {
      releaseSlot();
    }
  }

  private exec(client: Client, command: string, name: string, options: RunOptions): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(new TransportError("aborted", `${name}: aborted before start`));
      client.exec(command, (err, channel) => {
        if (err) return reject(new TransportError("connect", `${this.description}: could not start ${name}: ${err.message}`));
        const out = new LineCollector("stdout", options.onLine);
        const errOut = new LineCollector("stderr", options.onLine);
        let exit: { code: number | null; signal: string | null } | null = null;
        let failure: TransportError | null = null;
        let settled = false;
        let grace: NodeJS.Timeout | null = null;
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          if (grace) clearTimeout(grace);
          options.signal?.removeEventListener("abort", onAbort);
          out.end();
          errOut.end();
          fn();
        };
        const kill = (why: TransportError) => {
          if (failure) return;
          failure = why;
          // OpenSSH (7.9+) sends the signal to the command's process group; closing the
          // channel then closes its pipes.
          sendSignal(channel, "KILL");
          channel.close();
          // A server that ignores signals keeps the channel open while the command runs: do not wait for it.
          grace = setTimeout(() => settle(() => reject(failure)), 5000);
          grace.unref();
        };
        const timer = options.timeoutMs
          ? setTimeout(() => kill(new TransportError("timeout", `${name} did not finish within ${options.timeoutMs} ms on ${this.description}; killed`)), options.timeoutMs)
          : null;
        const onAbort = () => kill(new TransportError("aborted", `${name}: aborted`));
        options.signal?.addEventListener("abort", onAbort, { once: true });
        channel.on("data", (c: Buffer) => out.push(c));
        channel.stderr.on("data", (c: Buffer) => errOut.push(c));
        channel.on("exit", (code: number | null, signal?: string) => {
          exit = { code, signal: signal ?? null };
        });
        channel.on("close", () =>
          settle(() => {
            if (failure) return reject(failure);
            const e = exit as { code: number | null; signal: string | null } | null;
            let code: number;
            if (e?.code !== null && e?.code !== undefined) code = e.code;
            else if (e?.signal) code = 128 + (SIGNAL_NUMBERS[e.signal] ?? 0);
            else return reject(new TransportError("connect", `${this.description}: connection lost while ${name} was running`));
            resolve({ code, stdout: out.text, stderr: errOut.text, durationMs: Date.now() - started });
          }),
        );
        channel.end(options.stdin ?? undefined);
      });
    });
  }

  /**
   * Creates the parent directory (`mkdir -p`, the path passed as an argument), writes over
   * SFTP to a temporary name beside the file, sets the mode and renames it into place, so a
   * reader never sees half a file.
   */
  async writeFile(file: string, content: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    assertAbsolute(file);
    const mode = options.mode ?? 0o644;
    const mkdir = await this.run(["mkdir", "-p", path.posix.dirname(file)]);
    if (mkdir.code !== 0) throw new TransportError("spawn", `${this.description}: cannot create ${path.posix.dirname(file)}: ${mkdir.stderr.trim()}`);
    const temp = `${file}.portal-${randomBytes(4).toString("hex")}`;
    await this.withSftp(async (sftp) => {
      await sftpCall<void>((cb) => sftp.writeFile(temp, content, { mode }, cb));
      try {
        // The server's umask applied at open; set exactly what was asked.
        await sftpCall<void>((cb) => sftp.chmod(temp, mode, cb));
        await sftpCall<void>((cb) => sftp.ext_openssh_rename(temp, file, cb)).catch(async (e: Error) => {
          // Servers without OpenSSH's posix-rename: plain SFTP rename does not replace a file.
          if (!/not support/i.test(e.message)) throw e;
          await sftpCall<void>((cb) => sftp.unlink(file, cb)).catch(() => {});
          await sftpCall<void>((cb) => sftp.rename(temp, file, cb));
        });
      } catch (e) {
        await sftpCall<void>((cb) => sftp.unlink(temp, cb)).catch(() => {});
        throw new TransportError("spawn", `${this.description}: cannot write ${file}: ${(e as Error).message}`);
      }
    }, `write ${file}`);
  }

  async readFile(file: string): Promise<Buffer | null> {
    assertAbsolute(file);
    return this.withSftp(async (sftp) => {
      try {
        return await sftpCall<Buffer>((cb) => sftp.readFile(file, cb));
      } catch (e) {
        if ((e as { code?: number }).code === 2) return null; // SSH_FX_NO_SUCH_FILE
        throw new TransportError("spawn", `${this.description}: cannot read ${file}: ${(e as Error).message}`);
      }
    }, `read ${file}`);
  }

  private async withSftp<T>(work: (sftp: SFTPWrapper) => Promise<T>, what: string): Promise<T> {
    const releaseSlot = await this.connection.slots.acquire(undefined, what);
    try {
      const { client, release } = await this.connection.use();
      try {
        const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
          client.sftp((err, s) => (err ? reject(new TransportError("connect", `${this.description}: no SFTP (${err.message})`)) : resolve(s))),
        );
        try {
          return await work(sftp);
        } finally {
          sftp.end();
        }
      } finally {
        release();
      }
    } finally {
      releaseSlot();
    }
  }

  /** A byte stream to a unix socket on the host (OpenSSH streamlocal forwarding). Not counted against the command limit. */
  async openStream(socketPath: string): Promise<Duplex> {
    assertAbsolute(socketPath);
    const { client, release } = await this.connection.use();
    return new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (err, stream: ClientChannel) => {
        if (err) {
          release();
          return reject(new TransportError("connect", `${this.description}: cannot open ${socketPath}: ${err.message}`));
        }
        stream.once("close", release);
        resolve(stream);
      });
    });
  }

  /** A pooled transport leaves the shared connection open (closeSshConnections at shutdown); an own one closes it. */
  async close(): Promise<void> {
    if (!this.pooled) await this.connection.close();
  }
}

/**
 * Sends an SSH "signal" channel request. ssh2's channel.signal() sends nothing once the
 * channel's input has ended (we end it right after the exec to give the command EOF on
 * stdin), so this goes to the protocol layer directly.
 */
function sendSignal(channel: ClientChannel, name: string) {
  const c = channel as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if (c.outgoing && ["open", "eof"].includes(c.outgoing.state)) c._client?._protocol?.signal(c.outgoing.id, name);
  } catch {
    // The connection is going away: nothing left to signal.
  }
}

function assertAbsolute(file: string) {
  if (!file.startsWith("/") || /[\0\n\r]/.test(file)) throw new TransportError("spawn", `not an absolute path: ${JSON.stringify(file)}`);
}

function sftpCall<T>(start: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}
