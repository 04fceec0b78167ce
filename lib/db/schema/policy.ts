import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { groups, users } from "./users";
import { orders } from "./orders";
import type { RuleConditions } from "./enums";

/**
 * What a group (customer pool or course) may use: allowed images, flavors and networks
 * (empty = everything in the catalog) and, for a pool with hosts of its own (a batch
 * cluster's pool), the dedicated hosts or host tags placement restricts its orders to.
 */
export const groupSettings = pgTable("group_settings", {
  groupId: uuid("group_id").primaryKey().references(() => groups.id, { onDelete: "cascade" }),
  imageIds: uuid("image_ids").array().notNull().default(sql`'{}'::uuid[]`),
  flavorIds: uuid("flavor_ids").array().notNull().default(sql`'{}'::uuid[]`),
  networkIds: uuid("network_ids").array().notNull().default(sql`'{}'::uuid[]`),
  /** Dedicated hosts; with host tags, a host qualifies when it is listed or has one of the tags. */
  hostIds: uuid("host_ids").array().notNull().default(sql`'{}'::uuid[]`),
  /** Matched against a host's features (e.g. `batch`). */
  hostTags: text("host_tags").array().notNull().default(sql`'{}'::text[]`),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Limits of a group or of a user (exactly one of the two). A null limit means no limit.
 * Licensed cores: the capped CPU count (cpu cap, else vCPUs, rounded up) of licensed images.
 */
export const quotas = pgTable(
  "quotas",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    groupId: uuid("group_id").unique().references(() => groups.id, { onDelete: "cascade" }),
    userId: uuid("user_id").unique().references(() => users.id, { onDelete: "cascade" }),
    environments: integer("environments"),
    vcpus: integer("vcpus"),
    memoryMb: integer("memory_mb"),
    diskGb: integer("disk_gb"),
    licensedCores: integer("licensed_cores"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("quotas_one_owner", sql`(${t.groupId} is null) <> (${t.userId} is null)`)],
);

export const ruleOutcomes = ["approve", "hold", "refuse"] as const;
export type RuleOutcome = (typeof ruleOutcomes)[number];

/** Ordered approval rules; the first enabled rule whose conditions all hold decides. */
export const policyRules = pgTable("policy_rules", {
  id: uuid("id").primaryKey().defaultRandom(),
  position: integer("position").notNull(),
  name: text("name").notNull(),
  enabled: boolean("enabled").notNull().default(true),
  conditions: jsonb("conditions").$type<RuleConditions>().notNull().default({}),
  outcome: text("outcome", { enum: ruleOutcomes }).notNull(),
  /** Optional words the admin adds to the generated explanation. */
  note: text("note"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Every policy decision, with the rule that made it (rule id, or a built-in key such as
 * `default:group-requires-approval` or `quota`) and its explanation as shown to people.
 * Refused orders are never created: their decision has no order id.
 */
export const policyDecisions = pgTable(
  "policy_decisions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    orderId: uuid("order_id").references(() => orders.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "cascade" }),
    ruleId: uuid("rule_id"),
    ruleKey: text("rule_key").notNull(),
    ruleName: text("rule_name").notNull(),
    outcome: text("outcome", { enum: ruleOutcomes }).notNull(),
    explanation: text("explanation").notNull(),
    request: jsonb("request").$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("policy_decisions_order_idx").on(t.orderId)],
);
