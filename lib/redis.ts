import { Redis, type RedisOptions } from "ioredis";
import { env } from "./env";

/** Key prefix shared by queues and pub/sub channels, so test runs can share one Redis. */
export const redisPrefix = env.REDIS_PREFIX;

/**
 * A new connection. Workers and subscribers need their own; `maxRetriesPerRequest: null` is
 * what BullMQ requires of blocking connections.
 */
export function createRedis(opts: RedisOptions = {}): Redis {
  const client = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false, ...opts });
  client.on("error", (err) => {
    if (env.LOG_LEVEL === "debug") console.error("[redis]", err.message);
  });
  return client;
}

const store = globalThis as unknown as { __portalRedis?: Redis };

/** The process's shared command connection (enqueue, publish, rate limits, health). */
export function getRedis(): Redis {
  if (!store.__portalRedis) {
    // The offline queue holds commands until the connection is up (without it the first
    // command of a fresh process fails: "Stream isn't writeable"); with Redis down, commands
    // still fail fast, after two reconnection attempts.
    store.__portalRedis = createRedis({ maxRetriesPerRequest: 2 });
  }
  return store.__portalRedis;
}

export async function closeRedis(): Promise<void> {
  const client = store.__portalRedis;
  store.__portalRedis = undefined;
  if (client) await client.quit().catch(() => client.disconnect());
}
