import type { Duplex } from "node:stream";
import type { Transport } from "../transport/types";

/**
 * A small QMP client (QEMU Machine Protocol: JSON lines over the guest's unix socket),
 * reached through the host's Transport so it works the same locally and over SSH. The
 * server greets with `{"QMP": ...}`; we answer `qmp_capabilities`, then send one command at
 * a time and read its `return` or `error`. Asynchronous events (SHUTDOWN, STOP, MIGRATION...)
 * arrive on the same stream and are kept for `events`.
 */
export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message);
    this.name = "QmpError";
  }
}

export type QmpEvent = { event: string; data?: Record<string, unknown>; timestamp?: { seconds: number; microseconds: number } };

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class QmpClient {
  private buffer = "";
  private pending: Pending[] = [];
  private greeted: Promise<void>;
  private closed = false;
  readonly events: QmpEvent[] = [];
  private eventWaiters: { name: string; resolve: (e: QmpEvent) => void }[] = [];

  private constructor(private readonly stream: Duplex) {
    let greet!: () => void;
    let fail!: (e: Error) => void;
    this.greeted = new Promise((res, rej) => {
      greet = res;
      fail = rej;
    });
    let gotGreeting = false;
    stream.on("data", (chunk: Buffer) => {
      this.buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ("QMP" in msg && !gotGreeting) {
          gotGreeting = true;
          greet();
        } else if ("event" in msg) {
          const ev = msg as unknown as QmpEvent;
          this.events.push(ev);
          this.eventWaiters = this.eventWaiters.filter((w) => (w.name === ev.event ? (w.resolve(ev), false) : true));
        } else if ("return" in msg || "error" in msg) {
          const p = this.pending.shift();
          if (!p) continue;
          clearTimeout(p.timer);
          if ("error" in msg) {
            const e = msg.error as { class?: string; desc?: string };
            p.reject(new QmpError(e.class ?? "GenericError", e.desc ?? "QMP error"));
          } else p.resolve(msg.return);
        }
      }
    });
    const gone = (why: string) => {
      this.closed = true;
      fail(new QmpError("Closed", why));
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new QmpError("Closed", why));
      }
    };
    stream.on("error", (e) => gone(`QMP connection failed: ${e.message}`));
    stream.on("close", () => gone("QMP connection closed"));
    stream.on("end", () => gone("QMP connection closed by QEMU"));
  }

  /** Connects to the QMP socket on the host and negotiates capabilities. */
  static async connect(transport: Transport, socketPath: string, timeoutMs = 5000): Promise<QmpClient> {
    const stream = await transport.openStream(socketPath);
    const client = new QmpClient(stream);
    const timer = setTimeout(() => stream.destroy(new Error(`no QMP greeting within ${timeoutMs} ms`)), timeoutMs);
    try {
      await client.greeted;
      await client.execute("qmp_capabilities", undefined, timeoutMs);
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Runs one command and resolves with its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closed) return Promise.reject(new QmpError("Closed", "QMP connection is closed"));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.pending.findIndex((p) => p.timer === timer);
        if (i >= 0) this.pending.splice(i, 1);
        reject(new QmpError("Timeout", `QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({ resolve: resolve as (v: unknown) => void, reject, timer });
      this.stream.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  /** Resolves with the next event named `name` (or one already received), or null after `timeoutMs`. */
  waitEvent(name: string, timeoutMs: number): Promise<QmpEvent | null> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = { name, resolve: (e: QmpEvent) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.eventWaiters = this.eventWaiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      this.eventWaiters.push(waiter);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.stream.destroy();
  }
}

/** Connects, runs `fn`, closes. */
export async function withQmp<T>(transport: Transport, socketPath: string, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = await QmpClient.connect(transport, socketPath);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}
