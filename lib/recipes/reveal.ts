import type { Db } from "../db/client";
import type { Actor } from "../auth/actor";
import { forbidden } from "../errors";
import { writeAudit } from "../audit/write";
import { recipeBySlug } from "./index";
import { revealSecrets } from "./secrets";
import type { OrderRecipe } from "../db/schema";

/**
 * The owner's one look at the order's secrets (generated passwords): the values are returned
 * and forgotten in the same transaction. Only the owner: an admin or approver who may see the
 * order may not see its passwords. Audited (names, never values).
 */
export async function revealOrderSecrets(db: Db, actor: Actor, order: { id: string; userId: string; recipe: OrderRecipe | null }) {
  if (order.userId !== actor.id) throw forbidden("Only the order's owner sees its passwords");
  const revealed = await revealSecrets(db, order.id, actor.id);
  const outputs = order.recipe ? recipeBySlug(order.recipe.slug)?.outputs ?? [] : [];
  if (revealed.length) {
    await writeAudit(db, { actorId: actor.id, action: "order.secrets.reveal", targetType: "order", targetId: order.id, data: { names: revealed.map((r) => r.name) } });
  }
  return {
    secrets: revealed.map((r) => ({ name: r.name, label: outputs.find((o) => o.name === r.name)?.label ?? r.name, value: r.value })),
    note: revealed.length
      ? "Shown once: the portal keeps only a hash from now on. Store the values somewhere safe."
      : "Nothing to show: the order's passwords were shown before (the portal keeps only their hash) or are not made yet.",
  };
}
