import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { groups, users } from "./users";
import { environments } from "./orders";

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

/**
 * Every address handed out on a network: a guest's own (kind "guest", held by its order) or a
 * service IP (kind "service", held by the service_ips row, whatever environment it points to).
 * Exactly one of order and service IP holds each row.
 */
export const ipAllocations = pgTable(
  "ip_allocations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    networkId: uuid("network_id").notNull().references(() => networks.id),
    ip: text("ip").notNull(),
    mac: text("mac").notNull(),
    orderId: uuid("order_id"),
    serviceIpId: uuid("service_ip_id").references(() => serviceIps.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["guest", "service"] }).notNull().default("guest"),
    allocatedAt: timestamp("allocated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("ip_allocations_network_ip").on(t.networkId, t.ip),
    unique("ip_allocations_order_network_kind").on(t.orderId, t.networkId, t.kind),
    check("ip_allocations_one_holder", sql`(${t.orderId} is null) <> (${t.serviceIpId} is null)`),
  ],
);

/**
 * An address on a network that belongs to a group, not to a guest: it points at one of the
 * group's environments on that network (or at none) and moves to another in one step, so a
 * service keeps its address when the guest behind it changes. `environmentId` is where it
 * answers now (set once the guest has the address); attachedAt when it got there.
 */
export const serviceIps = pgTable(
  "service_ips",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    groupId: uuid("group_id").notNull().references(() => groups.id),
    networkId: uuid("network_id").notNull().references(() => networks.id),
    name: text("name").notNull(),
    ip: text("ip").notNull(),
    /** The MAC rule's address for the IP, reserved with it (the address rides on the guest's NIC of the network). */
    mac: text("mac").notNull(),
    environmentId: uuid("environment_id").references(() => environments.id),
    attachedAt: timestamp("attached_at", { withTimezone: true }),
    createdBy: uuid("created_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("service_ips_group_name").on(t.groupId, t.name),
    unique("service_ips_network_ip").on(t.networkId, t.ip),
    index("service_ips_environment_idx").on(t.environmentId),
  ],
);

export const serviceIpMoveKinds = ["attach", "detach", "move"] as const;
export const serviceIpMoveStatuses = ["queued", "running", "succeeded", "failed"] as const;

/**
 * One change of where a service IP points: attach (from nowhere), detach (to nowhere) or move
 * (from one environment to another in one step). A row first, then the lifecycle action that
 * runs it; it keeps when it started and finished and, for the QEMU driver, the downtime the
 * host saw (ms without an answer from the address, probed from the host's side).
 */
export const serviceIpMoves = pgTable(
  "service_ip_moves",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serviceIpId: uuid("service_ip_id").notNull().references(() => serviceIps.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: serviceIpMoveKinds }).notNull(),
    fromEnvironmentId: uuid("from_environment_id").references(() => environments.id),
    toEnvironmentId: uuid("to_environment_id").references(() => environments.id),
    status: text("status", { enum: serviceIpMoveStatuses }).notNull().default("queued"),
    requestedBy: uuid("requested_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** Milliseconds the address did not answer, as the host saw it; null where it was not measured. */
    downtimeMs: integer("downtime_ms"),
    totalMs: integer("total_ms"),
    /** How the downtime was measured, or why it was not. */
    note: text("note"),
    error: text("error"),
  },
  (t) => [index("service_ip_moves_ip_idx").on(t.serviceIpId, t.createdAt)],
);

/**
 * Networks are kept apart on every host (guests of one cannot reach guests of another through
 * the host) unless an admin marks a pair as routed: one row per pair, the smaller id first.
 */
export const networkRoutes = pgTable(
  "network_routes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    networkA: uuid("network_a").notNull().references(() => networks.id, { onDelete: "cascade" }),
    networkB: uuid("network_b").notNull().references(() => networks.id, { onDelete: "cascade" }),
    createdBy: uuid("created_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("network_routes_pair").on(t.networkA, t.networkB), check("network_routes_ordered", sql`${t.networkA} < ${t.networkB}`)],
);
