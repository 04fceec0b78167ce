import { boolean, check, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { groups, roleEnum } from "./users";

/**
 * How the groups a directory (LDAP group DNs) or an identity provider (the OIDC groups claim)
 * gives a user become a portal role and group memberships, at every sign-in: a user gets the
 * highest role of the rules that match, and a membership in each rule's group.
 */
export const signInRules = pgTable(
  "sign_in_rules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** The group as the directory or the identity provider names it (compared without case). */
    match: text("match").notNull(),
    role: roleEnum("role").notNull(),
    /** The portal group the user joins (as an approver for approver and admin rules), if any. */
    groupId: uuid("group_id").references(() => groups.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("sign_in_rules_once").on(t.match, t.role, t.groupId).nullsNotDistinct()],
);

/** The portal's sign-in settings: one row (id 1), absent until an admin changes one. */
export const signInSettings = pgTable(
  "sign_in_settings",
  {
    id: integer("id").primaryKey().default(1),
    /** Local passwords are for admins only: everybody else signs in through the directory or SSO. */
    localAdminsOnly: boolean("local_admins_only").notNull().default(false),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("sign_in_settings_one_row", sql`${t.id} = 1`)],
);
