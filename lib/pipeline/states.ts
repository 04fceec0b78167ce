import type { OrderStatus } from "../db/schema";

/**
 * The order's life (DESIGN.md):
 * submitted -> pending_approval -> approved -> queued -> provisioning -> ready
 *                  \-> rejected                      \-> failed -> (retry) queued
 * ready -> retiring -> retired (a failed teardown is retried back to retiring);
 * ready -> expiring (lease ended: guest stopped) -> retiring after the grace period, or back
 * to ready when the lease is extended;
 * cancel from anywhere before ready.
 */
export const orderTransitions: Record<OrderStatus, readonly OrderStatus[]> = {
  submitted: ["pending_approval", "approved", "rejected", "cancelled"],
  // Approval queues the run in the same transaction (approveOrder): "approved" is not stored.
  pending_approval: ["approved", "queued", "rejected", "cancelled"],
  approved: ["queued", "cancelled"],
  rejected: [],
  queued: ["provisioning", "cancelled", "failed"],
  provisioning: ["ready", "failed", "cancelled"],
  // Retry: a failed provision run is queued again; a failed teardown goes back to retiring.
  failed: ["queued", "retiring", "cancelled"],
  ready: ["retiring", "expiring"],
  expiring: ["ready", "retiring"],
  retiring: ["retired", "failed"],
  cancelled: [],
  retired: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return orderTransitions[from].includes(to);
}

/** Statuses in which the order holds (or is building) an environment. */
export const liveStatuses: readonly OrderStatus[] = ["queued", "provisioning", "ready", "expiring", "retiring"];

export const terminalStatuses: readonly OrderStatus[] = ["rejected", "cancelled", "retired"];

export function isCancellable(s: OrderStatus): boolean {
  return canTransition(s, "cancelled");
}
