/** The per-host command limit: at most N at once, first come first served, and a waiter can give up. */
import { describe, expect, it } from "vitest";
import { Semaphore } from "@/lib/drivers/transport/semaphore";
import { TransportError } from "@/lib/drivers/transport/types";

describe("Semaphore", () => {
  it("lets `limit` holders in and queues the rest in arrival order", async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const a = await s.acquire();
    const b = await s.acquire();
    const waiting = [3, 4].map((n) => s.acquire().then((release) => (order.push(n), release)));
    expect(s.inUse).toBe(2);
    expect(s.queued).toBe(2);
    a();
    const third = await waiting[0];
    expect(order).toEqual([3]);
    b();
    b(); // releasing twice frees one slot only
    const fourth = await waiting[1];
    expect(order).toEqual([3, 4]);
    expect(s.inUse).toBe(2);
    third();
    fourth();
    expect(s.inUse).toBe(0);
  });

  it("a waiter whose signal aborts leaves the queue with an aborted error", async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const controller = new AbortController();
    const waiter = s.acquire(controller.signal, "xl create");
    controller.abort();
    const err = await waiter.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe("aborted");
    expect(s.queued).toBe(0);
    held();
    expect(s.inUse).toBe(0);
    await expect(s.acquire(controller.signal)).rejects.toThrow(/aborted before start/);
  });

  it("refuses a limit below 1", () => {
    expect(() => new Semaphore(0)).toThrow(/>= 1/);
  });
});
