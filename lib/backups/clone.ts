import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { backupActionTargets, backupClones, environments, flavors, groups, images, orders, users, type backups } from "../db/schema";
import { UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { requestAction } from "../lifecycle/actions";
import { createOrder } from "../orders/queries";

/**
 * A restore as a new environment: a new order for the same image and size in the same group,
 * named `name`, under the group's quota and policy like any order (it may wait for approval);
 * it gets its own addresses. The backup goes onto it once it is delivered (restoreClones).
 */
export async function requestRestoreAsNew(db: Db, actor: Actor, backup: typeof backups.$inferSelect, name: string) {
  const [source] = await db
    .select({ image: images.slug, flavor: flavors.slug, group: groups.id, purpose: orders.purpose })
    .from(orders)
    .innerJoin(images, eq(images.id, orders.imageId))
    .innerJoin(flavors, eq(flavors.id, orders.flavorId))
    .innerJoin(groups, eq(groups.id, orders.groupId))
    .where(eq(orders.id, backup.orderId));
  const created = await createOrder(db, actor, { image: source.image, flavor: source.flavor, name, group: source.group, purpose: source.purpose ?? undefined });
  await db.insert(backupClones).values({ orderId: created.id, backupId: backup.id, requestedBy: actor.id });
  await writeAudit(db, { actorId: actor.id, action: "environment.restore", targetType: "environment", targetId: backup.environmentId, data: { backup: backup.id, mode: "new", order: created.id } });
  return { order: created, backup: backup.id, mode: "new" as const };
}

/**
 * Puts each waiting clone's backup onto its delivered order: a `restore` action (mode new) on
 * the new environment, in the name of who asked. Run by the reconcile sweep; an environment
 * that is busy now is tried again on the next sweep.
 */
export async function restoreClones(db: Db): Promise<number> {
  const waiting = await db
    .select({ clone: backupClones, env: environments.id, user: users })
    .from(backupClones)
    .innerJoin(orders, eq(orders.id, backupClones.orderId))
    .innerJoin(environments, eq(environments.orderId, orders.id))
    .innerJoin(users, eq(users.id, backupClones.requestedBy))
    .where(and(isNull(backupClones.actionId), eq(orders.status, "ready"), eq(environments.state, "running")));
  let started = 0;
  for (const w of waiting) {
    try {
      await requestAction(db, { id: w.user.id, role: w.user.role, email: w.user.email }, w.env, "restore", {
        auditData: { backup: w.clone.backupId, mode: "new" },
        onCreate: async (tx, row) => {
          await tx.insert(backupActionTargets).values({ actionId: row.id, backupId: w.clone.backupId, mode: "new" });
          await tx.update(backupClones).set({ actionId: row.id }).where(eq(backupClones.orderId, w.clone.orderId));
        },
      });
      started++;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      console.warn(`[backups] restoring backup ${w.clone.backupId} onto order ${w.clone.orderId} waits: ${err.message}`);
    }
  }
  return started;
}
