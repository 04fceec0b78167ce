import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { environmentActions, orders, orderSecrets } from "../db/schema";
import type { Actor } from "../auth/actor";
import { writeAudit } from "../audit/write";
import { StepError } from "../drivers/types";
import { conflict, UserError } from "../errors";
import { recipeBySlug } from "../recipes";
import { newDatabasePassword } from "../recipes/scram";
import { secretHash } from "../recipes/secrets";
import { environmentForOwner, requestAction, type ActionHandler } from "./actions";

/**
 * A new password for a delivered environment's service (the database owner's): the owner or
 * an admin asks, the portal makes the password, a `credentials` action hands the guest only
 * what the recipe's set-password hook takes (the password's SCRAM-SHA-256 verifier), and
 * the request waits until the guest has it. The password is returned by that request, once:
 * it is in no job, row, log or audit event; the portal keeps its sha256 (order_secrets, as
 * for the one made at deploy time). Until the guest has confirmed, the old password works.
 */

export type RotatedCredentials = { name: string; label: string; password: string; actionId: string; note: string };

/** How long the request waits for the guest to take the new password. */
const WAIT_MS = 180_000;

export async function rotateCredentials(db: Db, actor: Actor, environmentId: string, opts: { waitMs?: number } = {}): Promise<RotatedCredentials> {
  const env = await environmentForOwner(db, actor, environmentId);
  const [order] = await db.select({ id: orders.id, recipe: orders.recipe }).from(orders).where(eq(orders.id, env.orderId));
  const recipe = order?.recipe ? recipeBySlug(order.recipe.slug) : null;
  if (!recipe?.rotatable || !recipe.rotationInput) throw conflict("This environment has no password the portal can change");
  const output = recipe.outputs.find((o) => o.name === recipe.rotatable);
  const password = newDatabasePassword();
  const input = recipe.rotationInput(password);
  const action = await requestAction(db, actor, environmentId, "credentials", {
    auditData: { secret: recipe.rotatable },
    onCreate: async (tx, created) => {
      await tx.update(environmentActions).set({ hookInput: input }).where(eq(environmentActions.id, created.id));
    },
  });
  const waitMs = opts.waitMs ?? WAIT_MS;
  const deadline = Date.now() + waitMs;
  let done: typeof environmentActions.$inferSelect | undefined;
  for (;;) {
    [done] = await db.select().from(environmentActions).where(eq(environmentActions.id, action.id));
    if (!done || done.status === "succeeded" || done.status === "failed" || Date.now() > deadline) break;
    await sleep(200);
  }
  if (done?.status === "failed") throw conflict(`The password was not changed (the old one still works): ${done.error ?? "the guest did not take it"}`);
  if (done?.status !== "succeeded") {
    throw new UserError(`The guest did not confirm the new password within ${Math.round(waitMs / 1000)} s; it may still take it. Ask for a new password again once the environment's page shows the password change as done or failed.`, 503);
  }
  const now = new Date();
  const values = { value: null, hash: secretHash(password), createdAt: now, revealedAt: now, revealedBy: actor.id };
  await db
    .insert(orderSecrets)
    .values({ orderId: env.orderId, name: recipe.rotatable, ...values })
    .onConflictDoUpdate({ target: [orderSecrets.orderId, orderSecrets.name], set: values });
  await writeAudit(db, {
    actorId: actor.id, action: "environment.credentials.changed", targetType: "environment", targetId: environmentId,
    data: { action: action.id, order: env.orderId, secret: recipe.rotatable },
  });
  return {
    name: recipe.rotatable,
    label: output?.label ?? recipe.rotatable,
    password,
    actionId: action.id,
    note: "Shown once: the portal keeps only a hash from now on, and the old password no longer works. Store this one somewhere safe.",
  };
}

/**
 * The `credentials` action in the worker: the guest's set-password hook with the verifier on
 * its standard input. The verifier is cleared from the row once the action has ended.
 */
export const changeCredentials: ActionHandler = async (db, ctx, io) => {
  const input = ctx.action.hookInput;
  const clear = () => db.update(environmentActions).set({ hookInput: null }).where(eq(environmentActions.id, ctx.action.id));
  if (!input) throw new StepError("the new password's verifier is no longer recorded; ask for a new password again");
  if (!ctx.driver.runGuestHook) throw new StepError(`${ctx.driver.kind} hosts cannot change a guest's password in this version`);
  try {
    await io.progress(20, `setting the new password inside ${ctx.spec.hostname}`);
    const r = await ctx.driver.runGuestHook(ctx.spec, "set-password", { input }, io);
    if (r.code === 127) throw new StepError("the guest has no set-password hook (it was delivered before its recipe had one); reinstall it to get one");
    if (r.code !== 0) throw new StepError(`the guest refused the new password: ${r.output.split("\n").at(-1) || `exit ${r.code}`}`);
    await io.progress(100, "new password set in the guest");
  } catch (err) {
    if (err instanceof StepError) await clear();
    throw err;
  }
  await clear();
  return { secret: ctx.order.order.recipe ? recipeBySlug(ctx.order.order.recipe.slug)?.rotatable ?? null : null };
};
