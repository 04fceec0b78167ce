import { describe, expect, it } from "vitest";
import { orderStatuses, type OrderStatus } from "@/lib/db/schema";
import { canTransition, isCancellable, liveStatuses, orderTransitions, terminalStatuses } from "@/lib/pipeline/states";

describe("order state machine", () => {
  it("has a row for every status and only names known statuses", () => {
    expect(Object.keys(orderTransitions).sort()).toEqual([...orderStatuses].sort());
    for (const targets of Object.values(orderTransitions)) {
      for (const t of targets) expect(orderStatuses).toContain(t);
    }
  });

  // Every move the portal makes (lib/orders/queries.ts and the pipeline engine).
  const performed: [OrderStatus, OrderStatus, string][] = [
    ["pending_approval", "queued", "approver approves (the run is queued at once)"],
    ["pending_approval", "rejected", "approver rejects"],
    ["pending_approval", "cancelled", "customer cancels while waiting"],
    ["queued", "provisioning", "worker starts the run"],
    ["queued", "cancelled", "customer cancels before the worker starts"],
    ["queued", "failed", "the job ran out of attempts"],
    ["provisioning", "ready", "hand over"],
    ["provisioning", "failed", "a step failed"],
    ["provisioning", "cancelled", "customer cancels during delivery"],
    ["failed", "queued", "retry from the failed step"],
    ["failed", "cancelled", "give up on a failed order"],
    ["failed", "retiring", "retry a failed teardown"],
    ["ready", "retiring", "destroy"],
    ["retiring", "retired", "teardown finished"],
    ["retiring", "failed", "teardown step failed"],
  ];
  it.each(performed)("allows %s -> %s (%s)", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  const forbidden: [OrderStatus, OrderStatus][] = [
    ["ready", "cancelled"], // a delivered environment is destroyed, not cancelled
    ["ready", "queued"],
    ["ready", "provisioning"],
    ["pending_approval", "ready"],
    ["pending_approval", "provisioning"],
    ["queued", "ready"],
    ["provisioning", "queued"],
    ["failed", "ready"],
    ["retiring", "ready"],
    ["rejected", "queued"],
    ["retired", "queued"],
  ];
  it.each(forbidden)("forbids %s -> %s", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it("terminal statuses lead nowhere", () => {
    for (const s of terminalStatuses) expect(orderTransitions[s], s).toEqual([]);
  });

  it("an order can be cancelled until it is delivered, not after", () => {
    const cancellable = orderStatuses.filter((s) => isCancellable(s));
    expect(cancellable.sort()).toEqual(["approved", "failed", "pending_approval", "provisioning", "queued", "submitted"]);
    expect(isCancellable("ready")).toBe(false);
    expect(isCancellable("retiring")).toBe(false);
  });

  it("live statuses are exactly those holding or building an environment", () => {
    expect([...liveStatuses].sort()).toEqual(["expiring", "provisioning", "queued", "ready", "retiring"]);
    for (const s of liveStatuses) expect(terminalStatuses).not.toContain(s);
  });
});
