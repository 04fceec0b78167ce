import { z } from "zod";
import { databaseNameProblem, roleNameProblem } from "../validation/database";
import type { RecipeForm } from "./types";

/**
 * The database's form: the database's name and its owner's (a PostgreSQL role). The owner's
 * password is not asked for: the portal makes one at deploy time and shows it once. Browser-
 * safe (the order form checks as you type); the renderings are in ./postgres.ts.
 */

const identifier = (what: string, problem: (name: string) => string | null) =>
  z
    .string({ message: `${what} is text` })
    .trim()
    .min(1, `${what} is required`)
    .superRefine((name, ctx) => {
      const why = problem(name);
      if (why) ctx.addIssue({ code: "custom", message: `${what}: ${why}` });
    });

export const postgresParams = z.strictObject({
  database: identifier("Database name", databaseNameProblem),
  owner: identifier("Owner", roleNameProblem),
});

export type PostgresParams = z.infer<typeof postgresParams>;

/** The port the server listens on in every rendering. */
export const postgresPort = 5432;

export const postgresForm: RecipeForm<PostgresParams> = {
  slug: "postgres",
  version: "1",
  name: "PostgreSQL database",
  description: "PostgreSQL 15 on port 5432 with one database and its owner; the owner's password is made for you and shown once. The data lives on the environment's disk (/data) and is quiesced for backups.",
  images: ["linux-qemu-postgres", "linux-db", "solaris10-whole-capped"],
  hostKinds: ["qemu", "sim", "xen", "zones"],
  params: postgresParams,
  fields: [
    { name: "database", label: "Database name", kind: "text", required: true, placeholder: "inventory", help: "Lower-case letters, digits and _; not postgres, template0 or template1." },
    { name: "owner", label: "Owner (login role)", kind: "text", required: true, placeholder: "inventory_app", help: "The role that owns the database and logs in with the password shown once." },
  ],
  steps: [
    { name: "initdb", label: "Make the database cluster on /data" },
    { name: "start", label: "Start PostgreSQL on port 5432" },
    { name: "database", label: "Create the owner and the database" },
    { name: "check", label: "Accept connections" },
  ],
  settings: { sysctl: ["vm.swappiness", "vm.overcommit_memory"], env: [] },
  outputs: [
    { name: "database", label: "Database", kind: "text" },
    { name: "user", label: "User", kind: "text" },
    { name: "port", label: "Port", kind: "text" },
    { name: "password", label: "Password of the owner", kind: "secret", help: "Shown once; keep it somewhere safe. A new one can be made on the environment's page (the old one stops working)." },
  ],
  timeoutSeconds: 120,
  database: (p) => ({ engine: "postgresql", port: postgresPort, database: p.database, user: p.owner }),
  rotatable: "password",
};
