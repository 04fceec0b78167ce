import { createHash } from "node:crypto";
import { Client, type ConnectConfig } from "ssh2";
import { Semaphore } from "./semaphore";
import { TransportError } from "./types";

/**
 * SSH connections to registered hosts: one per host, opened on first use, reused by every
 * command (SSH multiplexes channels), reopened after a drop, closed after a minute idle or at
 * shutdown. The host key is checked on every connect against the pinned fingerprint.
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
  /**
   * Also offer SHA-1 Diffie-Hellman key exchange, after every modern one: Solaris 10's SunSSH
   * knows no other. A modern server still agrees on a modern method.
   */
  legacyKex?: boolean;
};

/** The key exchange methods SunSSH 1.1 (Solaris 10) offers, which ssh2 leaves out by default. */
export const LEGACY_KEX = ["diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1"] as const;

/** SHA256 fingerprint of a host key blob, as ssh-keygen -l prints it. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

const IDLE_CLOSE_MS = 60_000;

/** One host's connection (lazily opened, reopened after a drop) and its concurrency limit. */
export class SshHostConnection {
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
        ...(t.legacyKex ? { algorithms: { kex: { append: [...LEGACY_KEX], prepend: [], remove: [] } } } : {}),
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
    .update(JSON.stringify([t.address, t.port, t.user, t.privateKey, t.hostKeyFingerprint, t.maxConcurrency ?? 4, t.connectTimeoutMs ?? null, t.legacyKex ?? false]))
    .digest("hex");
}

export function pooledConnection(target: SshTarget): SshHostConnection {
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

