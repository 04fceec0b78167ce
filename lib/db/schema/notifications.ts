import { boolean, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { users } from "./users";
import { notificationEvents } from "./enums";

export { notificationEvents, type NotificationEvent } from "./enums";

/** In-app messages: the bell in the top bar counts the unread ones. */
export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    /** What it is about, e.g. order.ready, lease.warn_7d, lease.extension_request. */
    kind: text("kind").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull().default(""),
    /** Where the message leads in the portal, e.g. /orders/<id>. */
    link: text("link"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    readAt: timestamp("read_at", { withTimezone: true }),
  },
  (t) => [index("notifications_user_idx").on(t.userId, t.readAt)],
);

/** A user's choice per kind of event: e-mail or not (no row: e-mail). In the app, always. */
export const emailPreferences = pgTable(
  "email_preferences",
  {
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    event: text("event", { enum: notificationEvents }).notNull(),
    email: boolean("email").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.event] })],
);

export const mailStatuses = ["pending", "sent", "failed"] as const;

/**
 * Outgoing e-mail, written in the same commit as what it tells about: the outbox the mail
 * queue's worker sends from. A pending row is sent even when its job was lost (Redis down at
 * enqueue, or its data gone): the reconciler enqueues it again.
 */
export const mails = pgTable(
  "mails",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    /** A notification event, or "invitation". */
    kind: text("kind").notNull(),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    /** Emptied once sent: an invitation's link is a secret the database keeps only hashed. */
    text: text("text").notNull(),
    status: text("status", { enum: mailStatuses }).notNull().default("pending"),
    /** Tries so far; the last error while it is retried, and why it failed. */
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (t) => [index("mails_status_idx").on(t.status, t.createdAt)],
);
