import type { Redis } from "ioredis";
import { createRedis } from "../redis";
import { orderChannel } from "./events";

/** Called with the message's text (order announcements' listeners need not read it). */
type Listener = (message: string) => void;

// One subscriber connection per process, shared by every open event stream.
const store = globalThis as unknown as { __portalSub?: { redis: Redis; listeners: Map<string, Set<Listener>> } };

function hub() {
  if (!store.__portalSub) {
    const redis = createRedis();
    const listeners = new Map<string, Set<Listener>>();
    redis.on("message", (channel: string, message: string) => {
      for (const fn of listeners.get(channel) ?? []) fn(message);
    });
    store.__portalSub = { redis, listeners };
  }
  return store.__portalSub;
}

/** Calls `fn` whenever the order is announced as changed; returns the unsubscribe function. */
export function onOrderChange(orderId: string, fn: () => void): Promise<() => void> {
  return onChannel(orderChannel(orderId), () => fn());
}

/** Calls `fn` with every message published on `channel`; returns the unsubscribe function. */
export async function onChannel(channel: string, fn: Listener): Promise<() => void> {
  const { redis, listeners } = hub();
  let set = listeners.get(channel);
  if (!set) {
    set = new Set();
    listeners.set(channel, set);
    await redis.subscribe(channel);
  }
  set.add(fn);
  return () => {
    const current = listeners.get(channel);
    if (!current) return;
    current.delete(fn);
    if (current.size === 0) {
      listeners.delete(channel);
      void redis.unsubscribe(channel).catch(() => {});
    }
  };
}
