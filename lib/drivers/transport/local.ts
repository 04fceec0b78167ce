import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import path from "node:path";
import { Duplex, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TransportError, type OutputStream, type RunOptions, type RunResult, type Transport } from "./types";

/** Splits a byte stream into lines for `onLine`, keeping the whole text for the result. */
export class LineCollector {
  private partial = "";
  text = "";
  constructor(
    private readonly stream: OutputStream,
    private readonly onLine?: (stream: OutputStream, line: string) => void,
  ) {}
  push(chunk: Buffer | string): void {
    const s = chunk.toString();
    this.text += s;
    if (!this.onLine) return;
    const parts = (this.partial + s).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.onLine(this.stream, line.replace(/\r$/, ""));
  }
  end(): void {
    if (this.partial && this.onLine) this.onLine(this.stream, this.partial);
    this.partial = "";
  }
}

/** A pass-through that counts what flows (for writeStream's answer). */
export function byteCounter(): Transform & { bytes: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  counter.bytes = 0;
  return counter;
}

/** Runs programs on this machine with spawn (no shell). */
export class LocalTransport implements Transport {
  readonly description = "local";
  constructor(private readonly env?: NodeJS.ProcessEnv) {}

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new TransportError("spawn", "no program given");
    const started = Date.now();
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(new TransportError("aborted", `${argv[0]}: aborted before start`));
      const child = spawn(argv[0]!, argv.slice(1), { env: this.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
      const out = new LineCollector("stdout", options.onLine);
      const err = new LineCollector("stderr", options.onLine);
      let failure: TransportError | null = null;
      const kill = (why: TransportError) => {
        failure ??= why;
        child.kill("SIGKILL");
      };
      const timer = options.timeoutMs ? setTimeout(() => kill(new TransportError("timeout", `${argv[0]} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs) : null;
      const onAbort = () => kill(new TransportError("aborted", `${argv[0]}: aborted`));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.on("error", (e) => {
        failure ??= new TransportError("spawn", `${argv[0]}: ${e.message}`);
      });
      child.on("close", (code, sig) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        out.end();
        err.end();
        if (failure) return reject(failure);
        resolve({ code: code ?? (sig ? 128 : 1), stdout: out.text, stderr: err.text, durationMs: Date.now() - started });
      });
      child.stdin.on("error", () => {});
      child.stdin.end(options.stdin ?? "");
    });
  }

  async writeFile(file: string, content: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { mode: options.mode ?? 0o644 });
  }

  async readFile(file: string): Promise<Buffer | null> {
    try {
      return await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async readFrom(file: string, offset: number): Promise<{ size: number; bytes: Buffer } | null> {
    const handle = await open(file, "r").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.alloc(Math.max(size - offset, 0));
      const { bytesRead } = bytes.length ? await handle.read(bytes, 0, bytes.length, offset) : { bytesRead: 0 };
      return { size, bytes: bytes.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  }

  async readStream(file: string): Promise<Readable> {
    const handle = await open(file, "r").catch((e: NodeJS.ErrnoException) => {
      throw new TransportError("spawn", `cannot read ${file}: ${e.code ?? e.message}`);
    });
    return handle.createReadStream();
  }

  async writeStream(file: string, source: Readable, options: { mode?: number; signal?: AbortSignal } = {}): Promise<number> {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.portal-${randomBytes(4).toString("hex")}`;
    const counter = byteCounter();
    try {
      await pipeline(source, counter, createWriteStream(temp, { mode: options.mode ?? 0o644 }), { signal: options.signal });
      await rename(temp, file);
    } finally {
      await rm(temp, { force: true });
    }
    return counter.bytes;
  }

  openStream(socketPath: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(socket);
      });
      socket.once("error", reject);
    });
  }

  /** Pipes, no terminal: the program's output and errors in one stream. */
  openCommand(argv: readonly string[]): Promise<Duplex> {
    if (argv.length === 0) throw new TransportError("spawn", "no program given");
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { env: this.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
      child.once("error", (e) => reject(new TransportError("spawn", `${argv[0]}: ${e.message}`)));
      child.once("spawn", () => {
        const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
        child.stderr.on("data", (c: Buffer) => stream.push(c));
        child.once("close", () => stream.destroy());
        stream.once("close", () => child.kill("SIGTERM"));
        resolve(stream);
      });
    });
  }

  async close(): Promise<void> {}
}
