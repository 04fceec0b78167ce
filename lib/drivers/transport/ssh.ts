import { randomBytes } from "node:crypto";
import path from "node:path";
import { Transform, type Duplex, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Client, ClientChannel, SFTPWrapper, Stats } from "ssh2";
import { byteCounter, LineCollector } from "./local";
import { shellQuoteArgv } from "./quote";
import { pooledConnection, SshHostConnection, type SshTarget } from "./ssh-connection";
import { TransportError, type RunOptions, type RunResult, type Transport } from "./types";

export { closeSshConnections, hostKeyFingerprint, type SshTarget } from "./ssh-connection";

const SIGNAL_NUMBERS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

/**
 * Runs programs on a registered host over SSH (ssh2): key authentication, the host key pinned
 * at registration, one connection per host reused by every command (SSH multiplexes channels),
 * and at most `maxConcurrency` commands at once per host.
 *
 * An exec request is one string that the remote user's shell parses: it is built only with
 * shellQuoteArgv, so every argument arrives verbatim.
 */
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

  async readFrom(file: string, offset: number): Promise<{ size: number; bytes: Buffer } | null> {
    assertAbsolute(file);
    return this.withSftp(async (sftp) => {
      let handle: Buffer;
      try {
        handle = await sftpCall<Buffer>((cb) => sftp.open(file, "r", cb));
      } catch (e) {
        if ((e as { code?: number }).code === 2) return null; // SSH_FX_NO_SUCH_FILE
        throw new TransportError("spawn", `${this.description}: cannot read ${file}: ${(e as Error).message}`);
      }
      try {
        const { size } = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb));
        const bytes = Buffer.alloc(Math.max(size - offset, 0));
        const bytesRead = bytes.length ? await sftpCall<number>((cb) => sftp.read(handle, bytes, 0, bytes.length, offset, cb)) : 0;
        return { size, bytes: bytes.subarray(0, bytesRead) };
      } catch (e) {
        throw new TransportError("spawn", `${this.description}: cannot read ${file}: ${(e as Error).message}`);
      } finally {
        await sftpCall<void>((cb) => sftp.close(handle, cb)).catch(() => {});
      }
    }, `read ${file}`);
  }

  /**
   * `cat` of the file on an exec channel: SSH's window gives back-pressure, so only a window's
   * worth (2 MiB) is ever in flight, whatever the file's size. The stream fails if cat does, or
   * if the channel closes short of the file's size (measured first).
   */
  async readStream(file: string): Promise<Readable> {
    assertAbsolute(file);
    let size = -1;
    const { channel, exit } = await this.openChannel(shellQuoteArgv(["cat", "--", file]), `read ${file}`, async (client) => {
      // `wc -c <` works on Linux and Solaris alike; it refuses a missing or unreadable file.
      const check = await this.exec(client, shellQuoteArgv(["sh", "-c", 'wc -c < "$1"', "sh", file]), "wc", {});
      size = Number(check.stdout.trim());
      if (check.code !== 0 || !Number.isSafeInteger(size)) throw new TransportError("spawn", `${this.description}: cannot read ${file}: no such file or not readable`);
    });
    let received = 0;
    const out = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        done(null, chunk);
      },
      flush: (done) => {
        exit.then(
          (r) => done(r.code === 0 ? null : new TransportError("spawn", `${this.description}: reading ${file} failed: ${r.stderr.trim() || `cat exit ${r.code}`}`)),
          // A channel closed without cat's exit status: whole when every byte the file had arrived.
          (e: Error) => done(received === size ? null : e),
        );
      },
    });
    channel.pipe(out);
    // A reader that stops early (its own failure) ends the remote cat too.
    out.once("close", () => channel.close());
    channel.once("error", (e: Error) => out.destroy(e));
    return out;
  }

  /**
   * The source into `cat > temp` on an exec channel (back-pressure by SSH's window), then the
   * mode set and the temp renamed over the file; a failure removes the temp.
   */
  async writeStream(file: string, source: Readable, options: { mode?: number; signal?: AbortSignal } = {}): Promise<number> {
    assertAbsolute(file);
    const dir = path.posix.dirname(file);
    const temp = `${file}.portal-${randomBytes(4).toString("hex")}`;
    const counter = byteCounter();
    try {
      const { channel, exit } = await this.openChannel(shellQuoteArgv(["sh", "-c", 'umask 077 && exec cat > "$1"', "sh", temp]), `write ${file}`, async (client) => {
        const mkdir = await this.exec(client, shellQuoteArgv(["mkdir", "-p", dir]), "mkdir", {});
        if (mkdir.code !== 0) throw new TransportError("spawn", `${this.description}: cannot create ${dir}: ${mkdir.stderr.trim()}`);
      });
      channel.resume();
      try {
        await pipeline(source, counter, channel, { signal: options.signal });
      } catch (e) {
        channel.close();
        throw e instanceof TransportError ? e : new TransportError(options.signal?.aborted ? "aborted" : "spawn", `${this.description}: writing ${file} failed: ${(e as Error).message}`);
      }
      // A channel closed without cat's exit status: whole when the file holds every byte sent.
      const r = await exit.catch(async (e: Error) => {
        const check = await this.run(["sh", "-c", 'wc -c < "$1"', "sh", temp]);
        if (check.code === 0 && Number(check.stdout.trim()) === counter.bytes) return { code: 0, stderr: "" };
        throw e;
      });
      if (r.code !== 0) throw new TransportError("spawn", `${this.description}: writing ${file} failed: ${r.stderr.trim() || `cat exit ${r.code}`}`);
      const mode = (options.mode ?? 0o644).toString(8);
      const put = await this.run(["sh", "-c", 'chmod "$1" "$2" && mv -f "$2" "$3"', "sh", mode, temp, file]);
      if (put.code !== 0) throw new TransportError("spawn", `${this.description}: cannot put ${file} in place: ${put.stderr.trim()}`);
    } catch (e) {
      await this.run(["rm", "-f", temp]).catch(() => {});
      throw e;
    }
    return counter.bytes;
  }

  /**
   * An exec channel for a streaming command, holding a command slot and the connection until
   * the channel closes; `exit` resolves with its exit code and what it said on stderr.
   * `first` runs on the same connection before (a check that may refuse).
   */
  private async openChannel(command: string, what: string, first?: (client: Client) => Promise<void>): Promise<{ channel: ClientChannel; exit: Promise<{ code: number; stderr: string }> }> {
    const releaseSlot = await this.connection.slots.acquire(undefined, what);
    let release = () => {};
    try {
      const used = await this.connection.use();
      release = used.release;
      await first?.(used.client);
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        used.client.exec(command, (err, ch) => (err ? reject(new TransportError("connect", `${this.description}: could not ${what}: ${err.message}`)) : resolve(ch))),
      );
      let stderr = "";
      channel.stderr.on("data", (c: Buffer) => {
        if (stderr.length < 4096) stderr += c.toString();
      });
      const exit = new Promise<{ code: number; stderr: string }>((resolve, reject) => {
        let code: number | null = null;
        channel.on("exit", (c: number | null, signal?: string) => {
          code = c ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 0);
        });
        channel.once("close", () => {
          release();
          releaseSlot();
          if (code === null) reject(new TransportError("connect", `${this.description}: connection lost during ${what}`));
          else resolve({ code, stderr });
        });
      });
      exit.catch(() => {});
      return { channel, exit };
    } catch (e) {
      release();
      releaseSlot();
      throw e;
    }
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

  /**
   * An interactive command on a pseudo-terminal (as `ssh -t` gives), for guest consoles. Not
   * counted against the command limit: a console stays open as long as someone watches it.
   */
  async openCommand(argv: readonly string[]): Promise<Duplex> {
    if (argv.length === 0) throw new TransportError("spawn", "no program given");
    const { client, release } = await this.connection.use();
    return new Promise((resolve, reject) => {
      client.exec(shellQuoteArgv(argv), { pty: { term: "vt100", rows: 24, cols: 80 } }, (err, channel) => {
        if (err) {
          release();
          return reject(new TransportError("connect", `${this.description}: could not start ${argv[0]}: ${err.message}`));
        }
        channel.once("close", release);
        resolve(channel);
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
