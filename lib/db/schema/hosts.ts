import { integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { hostKinds } from "./catalog";

export type SimHostConfig = {
  /** Per-step duration in ms; falls back to SIM_STEP_MS. */
  stepMs?: number;
  /** Step name -> how many more times that step fails (failure injection). */
  failSteps?: Record<string, number>;
};

export const hosts = pgTable("hosts", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  kind: text("kind", { enum: hostKinds }).notNull(),
  address: text("address").notNull(),
  state: text("state", { enum: ["active", "draining", "offline"] }).notNull().default("active"),
  cpuCapacity: integer("cpu_capacity").notNull(),
  memoryMbCapacity: integer("memory_mb_capacity").notNull(),
  diskGbCapacity: integer("disk_gb_capacity").notNull(),
  features: text("features").array().notNull().default([]),
  config: jsonb("config").$type<SimHostConfig>().notNull().default({}),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
