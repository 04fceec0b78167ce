import { index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { users, groups } from "./users";
import { images } from "./catalog";
import { environments, orders } from "./orders";
import { mails } from "./notifications";

export const leaseEventKinds = ["warn_7d", "warn_1d", "stopped", "restarted", "retired"] as const;
export type LeaseEventKind = (typeof leaseEventKinds)[number];

/**
 * What the lease keeper did to an environment, once per lease end: the unique key
 * (environment, kind, lease end) makes a second sweep a no-op. After an extension the lease
 * end changes, so the warnings for the new end are sent again, once each.
 */
export const leaseEvents = pgTable(
  "lease_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    orderId: uuid("order_id").notNull().references(() => orders.id),
    kind: text("kind", { enum: leaseEventKinds }).notNull(),
    /** The lease end this event was about. */
    leaseEnd: timestamp("lease_end", { withTimezone: true }).notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * E-mail to the owner: pending (queued; `mailId` says how it went), skipped (no mail server,
     * or the owner turned such e-mail off), or none for silent events. (sent and failed: the
     * outcome, recorded here before mail went through the outbox.)
     */
    email: text("email", { enum: ["pending", "sent", "skipped", "failed", "none"] }).notNull().default("none"),
    mailId: uuid("mail_id").references(() => mails.id, { onDelete: "set null" }),
  },
  (t) => [unique("lease_events_once").on(t.environmentId, t.kind, t.leaseEnd), index("lease_events_order_idx").on(t.orderId)],
);

export const extensionStatuses = ["pending", "approved", "rejected"] as const;

/** An extension beyond the lease limit waits for an approver of the order's group. */
export const extensionRequests = pgTable(
  "extension_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    environmentId: uuid("environment_id").notNull().references(() => environments.id),
    orderId: uuid("order_id").notNull().references(() => orders.id),
    requestedBy: uuid("requested_by").notNull().references(() => users.id),
    days: integer("days").notNull(),
    reason: text("reason"),
    /** The rule that held it, in words ("beyond the 90-day limit of group X"). */
    policy: text("policy").notNull(),
    status: text("status", { enum: extensionStatuses }).notNull().default("pending"),
    decidedBy: uuid("decided_by").references(() => users.id),
    decisionReason: text("decision_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
  },
  (t) => [index("extension_requests_env_idx").on(t.environmentId), index("extension_requests_status_idx").on(t.status)],
);

/**
 * The longest total lease (from delivery to end) an owner may extend to without an approver,
 * per image or per group; the smaller applies. Without a row, LEASE_MAX_DAYS (default 90).
 */
export const leaseLimits = pgTable("lease_limits", {
  id: uuid("id").primaryKey().defaultRandom(),
  groupId: uuid("group_id").unique().references(() => groups.id, { onDelete: "cascade" }),
  imageId: uuid("image_id").unique().references(() => images.id, { onDelete: "cascade" }),
  maxDays: integer("max_days").notNull(),
});
