import type { GuestLogin, OrderRecipe } from "../db/schema";
import { recipeFormBySlug } from "../recipes/forms";
import { GUEST_LOGIN_USER } from "../drivers/types";

export type Connection = {
  /** The account to log in as. */
  user: string;
  /** The environment's first production address (else its first address). */
  address: string;
  /** What to type: `ssh root@10.30.0.5`. */
  command: string;
  /** The owner's SSH keys the glue step installed for that account. */
  keys: { name: string; fingerprint: string }[];
  /** Why the owner may not get in with a key, in words; absent when a key was installed. */
  warning?: string;
  /**
   * A database environment: where its clients connect (host: the same address), with a psql
   * command line to copy; the password is the one shown once (or made anew on the environment's page).
   */
  database?: { engine: "postgresql"; host: string; port: number; database: string; user: string; command: string };
};

export type DatabaseEndpoint = { engine: "postgresql"; port: number; database: string; user: string };

/**
 * How the owner reaches a delivered environment: null until it is delivered (or once it is
 * being destroyed) and while it has no address. Built from what the glue step recorded (see
 * the engine's recordLogin), not from the owner's key today: a key added later is not on
 * this guest.
 */
export function connectionOf(
  status: string,
  login: GuestLogin | null,
  addresses: readonly { ip: string; purpose: string }[],
  database: DatabaseEndpoint | null = null,
): Connection | null {
  if (status !== "ready" && status !== "expiring") return null;
  const address = (addresses.find((a) => a.purpose === "production") ?? addresses[0])?.ip;
  if (!address) return null;
  const user = login?.user ?? GUEST_LOGIN_USER;
  const connection: Connection = { user, address, command: `ssh ${user}@${address}`, keys: login?.keys ?? [] };
  if (database) {
    // Names are checked identifiers (lib/validation/database.ts): nothing in them needs quoting.
    connection.database = { ...database, host: address, command: `psql "host=${address} port=${database.port} dbname=${database.database} user=${database.user}"` };
  }
  if (!login) {
    connection.warning =
      "Which SSH key was installed was not recorded: this environment was delivered before the portal kept it. The owner's key of that day, if there was one, is the one that works.";
  } else if (login.keys.length === 0) {
    connection.warning =
      "No SSH key was installed: the owner had none on the Account page when this environment was delivered, so nobody can log in with a key. A key added now goes into environments delivered after it.";
  }
  return connection;
}

/** Where a database recipe's clients connect, from the order's recipe parameters; null for other orders. */
export function databaseEndpoint(recipe: OrderRecipe | null): DatabaseEndpoint | null {
  const form = recipe ? recipeFormBySlug(recipe.slug) : null;
  if (!form?.database || !recipe) return null;
  const parsed = form.params.safeParse(recipe.params);
  return parsed.success ? form.database(parsed.data) : null;
}
