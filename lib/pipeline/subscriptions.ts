import type { Redis } from "ioredis";
import { createRedis } from "../redis";
import { orderChannel } from "./events";

type Listener = () => void;

// One subscriber connection per process, shared by every open event stream.
const store = globalThis as unknown as { __portalSub?: { redis: Redis; listeners: Map<string, Set<Listener>> } };

function hub() {
  if (!store.__portalSub) {
    const redis = createRedis();
    const listeners = new Map<string, Set<Listener>>();
    redis.on("message", (channel: string) => {
      for (const fn of listeners.get(channel) ?? []) fn();
    });
    store.__portalSub = { redis, listeners };
  }
  return store.__portalSub;
}

/** Calls `fn` whenever the order is announced as changed; returns the unsubscribe function. */
export async function onOrderChange(orderId: string, fn: Listener): Promise<() => void> {
  const { redis, listeners } = hub();
  const channel = orderChannel(orderId);
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
