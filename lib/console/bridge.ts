import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Redis } from "ioredis";
import type { Db } from "../db/client";
import { environments } from "../db/schema";
import { eq } from "drizzle-orm";
import { StepError } from "../drivers/types";
import { UserError } from "../errors";
import { deploySpec, loadOrderContext } from "../pipeline/context";
import { driverFor } from "../pipeline/drivers";
import { createRedis, getRedis } from "../redis";
import { CONSOLE_BACKLOG_CHUNKS, CONSOLE_IDLE_MS, CONSOLE_OWNER_MS, CONSOLE_WANT_MS, consoleKeys, type ConsoleMessage } from "./channels";

/** Output is sent in small batches: a guest under emulation prints a byte at a time. */
const BATCH_MS = 15;

type Bridge = {
  stream: Duplex;
  lastWanted: number;
  /** Why it is being closed by this worker (null: the console ended by itself). */
  closing: string | null;
  /** Settles once its end has been told to the viewers and its hold given up. */
  ended: Promise<void>;
};

/**
 * The worker's side of guest consoles: answers viewers' `want` by opening the guest's
 * console through its driver (QEMU serial socket, `xl console`/`zlogin -C` over SSH, the
 * simulated shell) and bridging it to Redis; closes it when nobody has wanted it for a while.
 */
export class ConsoleBridges {
  private readonly id = randomUUID();
  private readonly bridges = new Map<string, Bridge>();
  private readonly opening = new Set<string>();
  private readonly sub: Redis;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly db: Db) {
    this.sub = createRedis();
    this.sub.on("message", (channel: string, message: string) => {
      if (channel === consoleKeys.want()) return void this.want(message).catch((err: Error) => console.error(`[console] environment ${message}:`, err.message));
      const environmentId = channel.slice(0, -":in".length).split(":").pop()!;
      const bridge = this.bridges.get(environmentId);
      if (!bridge) return;
      try {
        const { data } = JSON.parse(message) as { data: string };
        bridge.lastWanted = Date.now();
        bridge.stream.write(data);
      } catch {
        // Not a message of ours: nothing to type.
      }
    });
    void this.sub.subscribe(consoleKeys.want()).catch((err: Error) => console.error("[console] cannot listen for viewers:", err.message));
    this.timer = setInterval(() => void this.tick(), CONSOLE_WANT_MS);
  }

  private async want(environmentId: string) {
    const bridge = this.bridges.get(environmentId);
    if (bridge) {
      bridge.lastWanted = Date.now();
      return;
    }
    if (this.opening.has(environmentId) || !/^[0-9a-f-]{36}$/.test(environmentId)) return;
    this.opening.add(environmentId);
    try {
      const taken = await getRedis().set(consoleKeys.owner(environmentId), this.id, "PX", CONSOLE_OWNER_MS, "NX");
      if (taken !== "OK") {
        // Held by another worker, which bridges it; or by this one, whose console of it has just
        // ended and gives up its hold in a moment: then ask again.
        if ((await getRedis().get(consoleKeys.owner(environmentId))) === this.id) setTimeout(() => void this.want(environmentId).catch(() => {}), 250).unref();
        return;
      }
      try {
        const stream = await this.open(environmentId);
        this.bridge(environmentId, stream);
      } catch (err) {
        await getRedis().del(consoleKeys.owner(environmentId));
        const message = err instanceof StepError || err instanceof UserError ? err.message : "the console could not be opened; try again in a moment";
        if (!(err instanceof StepError || err instanceof UserError)) console.error(`[console] environment ${environmentId}:`, (err as Error).message);
        await this.status(environmentId, "unavailable", message);
      }
    } finally {
      this.opening.delete(environmentId);
    }
  }

  private async open(environmentId: string): Promise<Duplex> {
    const [env] = await this.db.select().from(environments).where(eq(environments.id, environmentId));
    if (!env || env.state === "deleted") throw new UserError("the environment is gone");
    const order = await loadOrderContext(this.db, env.orderId);
    if (!order.host) throw new UserError("the environment has no host");
    const driver = driverFor(order.host.kind, this.db);
    if (!driver.openConsole) throw new UserError(`environments on ${order.host.kind} hosts have no console in this version`);
    return driver.openConsole(deploySpec(order));
  }

  private bridge(environmentId: string, stream: Duplex) {
    let markEnded = () => {};
    const bridge: Bridge = { stream, lastWanted: Date.now(), closing: null, ended: new Promise<void>((resolve) => (markEnded = resolve)) };
    this.bridges.set(environmentId, bridge);
    const decoder = new StringDecoder("utf8");
    let pending = "";
    let flushTimer: NodeJS.Timeout | null = null;
    // One publish at a time, in order: viewers number the output by `seq`.
    let chain = Promise.resolve();
    const flush = () => {
      flushTimer = null;
      const data = pending;
      pending = "";
      if (data) chain = chain.then(() => this.output(environmentId, data)).catch(() => {});
    };
    stream.on("data", (chunk: Buffer | string) => {
      pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
      flushTimer ??= setTimeout(flush, BATCH_MS);
    });
    stream.on("error", () => stream.destroy());
    stream.once("close", () => {
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      this.bridges.delete(environmentId);
      chain = chain
        .then(async () => {
          await this.sub.unsubscribe(consoleKeys.in(environmentId)).catch(() => {});
          await getRedis().del(consoleKeys.owner(environmentId)).catch(() => {});
          await this.status(environmentId, "closed", bridge.closing ?? "The console connection ended (the guest stopped or moved); close and open the console to reconnect");
        })
        .finally(markEnded);
    });
    void this.sub.subscribe(consoleKeys.in(environmentId)).then(async () => {
      await this.status(environmentId, "connected", "Connected");
      // A fresh prompt for whoever just opened it.
      stream.write("\r");
    });
  }

  private async output(environmentId: string, data: string) {
    const redis = getRedis();
    const seq = await redis.incr(consoleKeys.seq(environmentId));
    const message = JSON.stringify({ type: "output", seq, data } satisfies ConsoleMessage);
    await redis
      .multi()
      .rpush(consoleKeys.backlog(environmentId), message)
      .ltrim(consoleKeys.backlog(environmentId), -CONSOLE_BACKLOG_CHUNKS, -1)
      .pexpire(consoleKeys.backlog(environmentId), 24 * 3600_000)
      .pexpire(consoleKeys.seq(environmentId), 24 * 3600_000)
      .publish(consoleKeys.out(environmentId), message)
      .exec();
  }

  private async status(environmentId: string, state: "connected" | "closed" | "unavailable", message: string) {
    const text = JSON.stringify({ type: "status", state, message } satisfies ConsoleMessage);
    await getRedis()
      .multi()
      .set(consoleKeys.state(environmentId), text, "PX", CONSOLE_OWNER_MS)
      .publish(consoleKeys.out(environmentId), text)
      .exec()
      .catch(() => {});
  }

  /** Renews this worker's hold on its consoles; closes those nobody watches any more. */
  private async tick() {
    for (const [environmentId, bridge] of this.bridges) {
      if (Date.now() - bridge.lastWanted > CONSOLE_IDLE_MS) {
        bridge.closing = "Closed: nobody is watching it";
        bridge.stream.destroy();
      } else {
        await getRedis()
          .multi()
          .set(consoleKeys.owner(environmentId), this.id, "PX", CONSOLE_OWNER_MS)
          .pexpire(consoleKeys.state(environmentId), CONSOLE_OWNER_MS)
          .exec()
          .catch(() => {});
      }
    }
  }

  /** Closes every console this worker holds (the guests keep running). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const bridges = [...this.bridges.values()];
    for (const bridge of bridges) {
      bridge.closing = "Closed: the worker holding it is stopping; open the console again to reconnect";
      bridge.stream.destroy();
    }
    await Promise.all(bridges.map((b) => b.ended));
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
