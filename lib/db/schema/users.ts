import { sql } from "drizzle-orm";
import { boolean, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

import { roles, type Role } from "./enums";

export { roles, type Role };

export const roleEnum = pgEnum("role", roles);

/** How a user signs in: a password kept here, a directory (LDAP) or single sign-on (OIDC). */
export const authSources = ["local", "ldap", "oidc"] as const;
export type AuthSource = (typeof authSources)[number];

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    role: roleEnum("role").notNull().default("customer"),
    passwordHash: text("password_hash").notNull(),
    /** Bumped on sign-out and password change: sessions carrying an older value are void. */
    sessionVersion: integer("session_version").notNull().default(1),
    disabled: boolean("disabled").notNull().default(false),
    sshPublicKey: text("ssh_public_key"),
    /** Directory and single sign-on users have no password here (an unusable marker instead). */
    authSource: text("auth_source", { enum: authSources }).notNull().default("local"),
    /** Their account there: the LDAP entry's DN, or the OIDC subject. */
    externalId: text("external_id"),
    /** The groups the directory or the identity provider gave at the last sign-in. */
    directoryGroups: text("directory_groups").array().notNull().default(sql`'{}'::text[]`),
    /** Signed in from a directory whose groups map to no role: the session opens nothing. */
    noAccess: boolean("no_access").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("users_external_account").on(t.authSource, t.externalId).where(sql`${t.externalId} is not null`)],
);

/** Customer pools and courses. */
export const groups = pgTable("groups", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  kind: text("kind", { enum: ["pool", "course"] }).notNull().default("pool"),
  /** First form of policy: orders from customers and students in this group need no approval. */
  autoApprove: boolean("auto_approve").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const memberships = pgTable(
  "memberships",
  {
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    groupId: uuid("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["customer", "approver"] }).notNull().default("customer"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.groupId] })],
);

export const apiTokens = pgTable("api_tokens", {
  id: uuid("id").primaryKey().defaultRandom(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  /** sha256 of the token; the token itself is shown once and never stored. */
  tokenHash: text("token_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
});
