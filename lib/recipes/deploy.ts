import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { orderUploads, type OrderAccount, type OrderRecipe, type OrderSettings } from "../db/schema";
import type { DeploySpec, GuestHostPlan } from "../drivers/types";
import { recipeBySlug } from "./index";
import { secretsForDeploy } from "./secrets";
import type { RecipeContext } from "./types";

/** What the pipeline knows of an order when it renders its recipe. */
export type RecipeOrder = {
  id: string;
  name: string;
  recipe: OrderRecipe | null;
  accounts: OrderAccount[] | null;
  settings: OrderSettings | null;
};

/** Secrets of steps that write nothing into the guest: the right shape, never a value. */
const placeholderSecret = "not-rendered-in-this-step";

/**
 * The recipe, accounts and settings of an order, rendered for the guest in `spec`: the QEMU
 * rendering (spec.recipe; sim records it) and, on Xen and zones hosts, the command plan
 * (spec.recipePlan). `writes`: the step puts the recipe into the guest (glue), so the order's
 * secrets are made (or read) for it; other steps get the same rendering with placeholders.
 */
export async function recipeForSpec(db: Db, order: RecipeOrder, spec: DeploySpec, opts: { writes: boolean }): Promise<Pick<DeploySpec, "recipe" | "recipePlan" | "accounts" | "settings">> {
  const settings = order.settings ?? { sysctl: {}, env: {} };
  const base = { accounts: order.accounts ?? [], settings: order.settings };
  if (!order.recipe) return { ...base, recipe: null, recipePlan: null };
  const recipe = recipeBySlug(order.recipe.slug);
  if (!recipe) throw new Error(`the order's recipe ${order.recipe.slug} is not known to this version of the portal`);
  // The parameters were checked when the order was made; checked again, since the recipe's version may have moved on.
  const params = recipe.params.parse(order.recipe.params);
  const secretNames = recipe.outputs.filter((o) => o.kind === "secret").map((o) => o.name);
  const secrets = opts.writes ? await secretsForDeploy(db, order.id, secretNames) : Object.fromEntries(secretNames.map((n) => [n, placeholderSecret.padEnd(24, "x")]));
  const uploads: Record<string, Buffer> = {};
  if (opts.writes) {
    for (const u of await db.select().from(orderUploads).where(eq(orderUploads.orderId, order.id))) uploads[u.field] = Buffer.from(u.data, "base64");
  }
  const ctx: RecipeContext = {
    orderId: order.id,
    orderName: order.name,
    hostname: spec.hostname,
    environmentLabel: `environment ${spec.hostname}`,
    addresses: spec.addresses.map((a) => ({ ip: a.ip, purpose: a.purpose })),
    secrets,
    uploads,
    settings,
  };
  const kind = spec.host.kind;
  let recipePlan: GuestHostPlan | null = null;
  if (kind === "xen" || kind === "zones") {
    if (!recipe.hostPlan || !recipe.hostKinds.includes(kind)) throw new Error(`the recipe ${recipe.name} has no rendering for ${kind} hosts`);
    recipePlan = { slug: recipe.slug, version: recipe.version, ...recipe.hostPlan(params, ctx, kind) };
  }
  return { ...base, recipe: recipe.render(params, ctx), recipePlan };
}
