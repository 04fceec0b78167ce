/**
 * The recipes the portal knows. A catalog item names one by slug (images.recipe_slug); a
 * recipe is added here and nowhere else (its form in <slug>-form.ts, browser-safe, listed in
 * ./forms.ts; its renderings in <slug>.ts). Server side: the browser loads ./forms.ts.
 */
import type { AnyRecipe } from "./types";
import { postgres } from "./postgres";
import { web } from "./web";

export type { AnyRecipe, AnyRecipeForm, Recipe, RecipeContext, RecipeField, RecipeForm, RecipeHostPlan, RecipeOutput, RecipeSettings, RecipeStep } from "./types";

export const recipes: AnyRecipe[] = [web, postgres];

export function recipeBySlug(slug: string): AnyRecipe | null {
  return recipes.find((r) => r.slug === slug) ?? null;
}
