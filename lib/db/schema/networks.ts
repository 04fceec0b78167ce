import { pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

export const networks = pgTable("networks", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  purpose: text("purpose", { enum: ["service", "production"] }).notNull(),
  cidr: text("cidr").notNull(),
  gateway: text("gateway").notNull(),
  bridge: text("bridge").notNull(),
  /** Locally administered prefix for the MAC rule (first three octets). */
  macPrefix: text("mac_prefix").notNull().default("02:00:00"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const ipAllocations = pgTable(
  "ip_allocations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    networkId: uuid("network_id").notNull().references(() => networks.id),
    ip: text("ip").notNull(),
    mac: text("mac").notNull(),
    orderId: uuid("order_id").notNull(),
    kind: text("kind", { enum: ["guest", "service"] }).notNull().default("guest"),
    allocatedAt: timestamp("allocated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("ip_allocations_network_ip").on(t.networkId, t.ip), unique("ip_allocations_order_network_kind").on(t.orderId, t.networkId, t.kind)],
);
