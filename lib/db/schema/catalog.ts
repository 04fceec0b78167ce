import { integer, jsonb, numeric, pgTable, text, timestamp, uuid, boolean } from "drizzle-orm/pg-core";

/** Where a built image lives and what it was built from (images built by `npm run images:build`). */
export type ImageArtifact = {
  store: "golden";
  kernelVersion: string;
  recipeHash: string;
  builtAt: string;
  files: Record<string, { sha256: string; size: number }>;
};

export const hostKinds = ["sim", "qemu", "xen", "zones"] as const;
export type HostKind = (typeof hostKinds)[number];

export const images = pgTable("images", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  os: text("os", { enum: ["linux", "solaris"] }).notNull(),
  version: text("version").notNull(),
  /** Host kinds the image can be deployed on. */
  hostKinds: text("host_kinds").array().notNull(),
  source: text("source", { enum: ["install-file", "clone", "copy"] }).notNull(),
  /** Solaris zones: sparse root (inherit-pkg-dir) or whole root. */
  rootType: text("root_type", { enum: ["sparse", "whole"] }),
  purpose: text("purpose", { enum: ["test", "development", "database", "web"] }).notNull(),
  sizeMb: integer("size_mb").notNull(),
  /** Licensed per CPU: deploy with a CPU cap so only the cap is paid for. */
  licensed: boolean("licensed").notNull().default(false),
  /** Listed in the catalog and orderable; false: hidden (environments already built keep running). */
  active: boolean("active").notNull().default(true),
  /** Retired for good: hidden, and no longer changed or offered anywhere (orders keep pointing at it). */
  retiredAt: timestamp("retired_at", { withTimezone: true }),
  /** sha256 of the built image's disk (null for images not built here, e.g. sim-only). */
  checksum: text("checksum"),
  /** The built artifacts (kernel, initramfs, disk) with sizes and checksums. */
  artifact: jsonb("artifact").$type<ImageArtifact>(),
  /** The recipe the catalog item runs at first boot (lib/recipes slug), null for a bare image. */
  recipeSlug: text("recipe_slug"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const flavors = pgTable("flavors", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  vcpus: integer("vcpus").notNull(),
  memoryMb: integer("memory_mb").notNull(),
  diskGb: integer("disk_gb").notNull(),
  /** Capped container: CPUs the guest may use (fractions allowed), null = uncapped. */
  cpuCap: numeric("cpu_cap", { precision: 5, scale: 2, mode: "number" }),
  memoryCapMb: integer("memory_cap_mb"),
  active: boolean("active").notNull().default(true),
});
