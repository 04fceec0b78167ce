import { and, asc, eq, or, like } from "drizzle-orm";
import type { Db } from "../db/client";
import { orderUploads, stepLogs, type OrderAccount, type OrderRecipe, type OrderSettings } from "../db/schema";
import { recipeBySlug } from "./index";
import { recipeProgress, reportedOutputs, type RecipeStepView } from "./progress";
import { secretStates } from "./secrets";

export type RecipeOutputView = {
  name: string;
  label: string;
  kind: "url" | "text" | "secret";
  help: string | null;
  /** url and text outputs: what the guest reported (or the recipe derives from the addresses); never a secret. */
  value: string | null;
  /** secret outputs: whether it can still be shown (once), and when it was. */
  secret: { available: boolean; revealedAt: string | null } | null;
};

export type OrderRecipeView = {
  slug: string;
  version: string;
  name: string;
  params: Record<string, unknown>;
  uploads: { field: string; fileName: string; size: number; sha256: string }[];
  steps: RecipeStepView[];
  outputs: RecipeOutputView[];
};

/** The lines of the wait-until-ready step's latest attempt that tell the recipe's progress (the guest's console). */
async function recipeLines(db: Db, step: { id: string; attempt: number }) {
  const rows = await db
    .select({ line: stepLogs.line, at: stepLogs.at })
    .from(stepLogs)
    .where(
      and(
        eq(stepLogs.stepId, step.id),
        eq(stepLogs.attempt, step.attempt),
        or(like(stepLogs.line, "%portal-recipe: step %"), like(stepLogs.line, "%portal-recipe: setup-exit %"), like(stepLogs.line, "%portal-init: recipe % check: %"), like(stepLogs.line, "%PORTAL-READY %")),
      ),
    )
    .orderBy(asc(stepLogs.id));
  return rows.map((r) => ({ line: r.line, at: r.at.toISOString() }));
}

/** The recipe part of the order page and of `GET /api/v1/orders/:id`: steps, outputs (no secret value), parameters. */
export async function orderRecipeView(
  db: Db,
  order: { id: string; status: string; recipe: OrderRecipe | null },
  waitStep: { id: string; status: string; attempt: number } | null,
  addresses: { purpose: string; ip: string }[],
): Promise<OrderRecipeView | null> {
  if (!order.recipe) return null;
  const recipe = recipeBySlug(order.recipe.slug);
  const lines = waitStep ? await recipeLines(db, waitStep) : [];
  const reported = reportedOutputs(lines);
  const secrets = new Map((await secretStates(db, order.id)).map((s) => [s.name, s]));
  const uploads = await db
    .select({ field: orderUploads.field, fileName: orderUploads.fileName, size: orderUploads.size, sha256: orderUploads.sha256 })
    .from(orderUploads)
    .where(eq(orderUploads.orderId, order.id));
  const delivered = ["ready", "expiring"].includes(order.status);
  return {
    slug: order.recipe.slug,
    version: order.recipe.version,
    name: recipe?.name ?? order.recipe.slug,
    params: order.recipe.params,
    uploads,
    steps: recipe ? recipeProgress(recipe.steps, lines, waitStep?.status ?? "pending") : [],
    outputs: (recipe?.outputs ?? []).map((o) => {
      if (o.kind === "secret") {
        const s = secrets.get(o.name);
        return { name: o.name, label: o.label, kind: o.kind, help: o.help ?? null, value: null, secret: { available: s?.available ?? false, revealedAt: s?.revealedAt?.toISOString() ?? null } };
      }
      const value = reported[o.name] ?? (delivered && recipe?.outputValue ? recipe.outputValue(o.name, { addresses, params: order.recipe!.params }) : null);
      return { name: o.name, label: o.label, kind: o.kind, help: o.help ?? null, value, secret: null };
    }),
  };
}

/** Accounts as the order page shows them: names, uids, groups and how many keys (not the keys). */
export function accountsView(accounts: OrderAccount[] | null) {
  return (accounts ?? []).map((a) => ({ name: a.name, uid: a.uid, groups: a.groups, keys: a.sshKeys ? a.sshKeys.split("\n").filter(Boolean).length : 0 }));
}

export function settingsView(settings: OrderSettings | null) {
  return settings ?? { sysctl: {}, env: {} };
}
