import { integer, jsonb, numeric, pgTable, text, timestamp, uuid, boolean, uniqueIndex, type AnyPgColumn } from "drizzle-orm/pg-core";

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
  /**
   * The version new environments are built from (and reinstalls without a version named):
   * the newest registered build, unless an admin set an older one (a rollback of the image).
   */
  currentVersionId: uuid("current_version_id").references((): AnyPgColumn => imageVersions.id),
});

/**
 * A numbered version of a catalog image (1, 2, ...): for a built golden image one build of it
 * (its recipe hash, build time and artifacts' checksums, and the folder of the image store
 * that keeps its files, so an environment can still be built or rolled back to it after newer
 * builds); images not built here (sim, Xen, zones samples) have version 1 from the seed.
 * Registering a build with the same checksums as a known version is that version again.
 */
export const imageVersions = pgTable(
  "image_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    imageId: uuid("image_id").notNull().references(() => images.id),
    number: integer("number").notNull(),
    builtAt: timestamp("built_at", { withTimezone: true }).notNull().defaultNow(),
    /** The recipe the build came from (null for images not built here). */
    recipeHash: text("recipe_hash"),
    /** One line: what changed in this version. */
    changelog: text("changelog").notNull(),
    /** Kernel, initramfs and disk with sizes and sha256 (null for images not built here). */
    artifact: jsonb("artifact").$type<ImageArtifact>(),
    /**
     * The build's key in the image store (versions/<slug>/<buildKey>/, derived from the
     * artifacts' checksums); null: no files of its own (the golden folder, or a simulated image).
     */
    buildKey: text("build_key"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("image_versions_number_idx").on(t.imageId, t.number), uniqueIndex("image_versions_build_idx").on(t.imageId, t.buildKey)],
);

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
