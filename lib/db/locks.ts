import { sql } from "drizzle-orm";
import type { Db } from "./client";

/**
 * The portal's PostgreSQL advisory locks, in one place so no two uses share a key. Any
 * constants work; every portal process must agree on them.
 */
export const lockKeys = {
  /** Migrations at start (a session lock, one key). */
  migrations: 7_320_114,
  /** Orders for the same name, while checking the name is free. */
  orderName: 7_320_115,
  /** Network creation: overlap and MAC checks see every other network. */
  networkCreate: 7_320_116,
  /** Images with the same slug. */
  imageSlug: 7_320_117,
  /** A group's quota while an order is counted against it (taken before quotaUser). */
  quotaGroup: 7_320_118,
  /** A user's quota while an order is counted against it. */
  quotaUser: 7_320_119,
  /** Changes to the ordered list of approval rules. */
  policyRules: 7_320_120,
  /** A course's lab machines: the capacity check and the machine's name see every other. */
  courseMachines: 7_320_121,
  /** Hosts registered with the same name. */
  hostName: 7_320_122,
  /** Moves of evacuations and rebalances being started: each target choice sees the others' reservations. */
  fleetMoves: 7_320_123,
  /** A host kind's rebalance: the plan checked against its fingerprint and its run recorded, one at a time. */
  rebalance: 7_320_124,
  /** Service IPs of a group with the same name, while checking the name is free. */
  serviceIpName: 7_320_125,
} as const;

/**
 * Holds `key` (narrowed to `name` when given) until the transaction ends, so concurrent
 * checks-then-inserts of the same kind run one after the other.
 */
export async function lockForTransaction(tx: Db, key: Exclude<keyof typeof lockKeys, "migrations">, name?: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${lockKeys[key]}, ${name === undefined ? sql`0` : sql`hashtext(${name})`})`);
}
