/**
 * Value lists that the database enums and the input checks share. Plain constants with no
 * imports: the browser loads this file through the forms' validation.
 */

/** Who a user is in the portal; memberships add per-group roles. */
export const roles = ["admin", "approver", "customer", "student"] as const;
export type Role = (typeof roles)[number];

/** What an order is for. */
export const orderPurposes = ["test", "development", "database", "web"] as const;
export type OrderPurpose = (typeof orderPurposes)[number];

/** The conditions of an approval rule as stored (policy/input.ts checks what admins send). */
export type RuleConditions = {
  groups?: string[];
  roles?: Role[];
  images?: string[];
  os?: "linux" | "solaris";
  licensed?: boolean;
  purposes?: OrderPurpose[];
  vcpusOver?: number;
  vcpusAtMost?: number;
  memoryGbOver?: number;
  memoryGbAtMost?: number;
  leaseDaysOver?: number;
  leaseDaysAtMost?: number;
};

/**
 * What happens to an order or environment that the portal tells people about: always in the
 * app, and by e-mail unless the user turned that kind off on Account.
 */
export const notificationEvents = [
  "order.held",
  "order.awaiting_approval",
  "order.approved",
  "order.rejected",
  "order.ready",
  "order.failed",
  "environment.stopped",
  "environment.moving",
  "environment.moved",
  "environment.retired",
  "lease.expiring",
] as const;
export type NotificationEvent = (typeof notificationEvents)[number];
