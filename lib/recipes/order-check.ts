import { createHash } from "node:crypto";
import type { OrderAccount, OrderRecipe, OrderSettings } from "../db/schema";
import { recipeBySlug } from "./index";
import { recipeOrderErrors, withUids, type AccountInput, type SettingsInput, type UploadInput } from "./order-input";

export type CheckedUpload = { field: string; fileName: string; size: number; sha256: string; data: string };

/**
 * The server's check of what an order adds to its image (see ./order-input.ts), uploads
 * included (decoded and checked by the recipe, e.g. a site archive's paths). Nothing is
 * stored here: the caller stores the result with the order, or answers 422 with `errors`.
 */
export function checkRecipeOrder(
  recipeSlug: string | null,
  input: { recipe?: Record<string, unknown>; uploads?: Record<string, UploadInput>; accounts?: AccountInput[]; settings?: SettingsInput },
): { errors: Record<string, string[]>; recipe: OrderRecipe | null; uploads: CheckedUpload[]; accounts: OrderAccount[] | null; settings: OrderSettings | null } {
  const recipe = recipeSlug ? recipeBySlug(recipeSlug) : null;
  if (recipeSlug && !recipe) {
    return { errors: { image: [`This image's recipe ${recipeSlug} is not known to this version of the portal`] }, recipe: null, uploads: [], accounts: null, settings: null };
  }
  const { errors, params } = recipeOrderErrors(recipe, input);
  const uploads: CheckedUpload[] = [];
  for (const [field, upload] of Object.entries(input.uploads ?? {})) {
    if (errors[`uploads.${field}`] || !recipe) continue;
    const data = Buffer.from(upload.data, "base64");
    const problem = recipe.checkUpload ? recipe.checkUpload(field, data) : "this recipe takes no files";
    if (problem) errors[`uploads.${field}`] = [problem];
    else uploads.push({ field, fileName: upload.name, size: data.length, sha256: createHash("sha256").update(data).digest("hex"), data: data.toString("base64") });
  }
  const settings = input.settings && (Object.keys(input.settings.sysctl).length || Object.keys(input.settings.env).length) ? input.settings : null;
  return {
    errors,
    recipe: recipe && params ? { slug: recipe.slug, version: recipe.version, params } : null,
    uploads,
    accounts: input.accounts?.length ? withUids(input.accounts) : null,
    settings,
  };
}
