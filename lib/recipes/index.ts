/**
 * The recipes the portal knows. A catalog item names one by slug (images.recipe_slug); a
 * recipe is added here and nowhere else (its parameters, form, steps and renderings live in
 * its own file beside this one).
 */
import type { AnyRecipe } from "./types";

export type { AnyRecipe, Recipe, RecipeContext, RecipeField, RecipeHostPlan, RecipeOutput, RecipeSettings, RecipeStep } from "./types";

export const recipes: AnyRecipe[] = [];

export function recipeBySlug(slug: string): AnyRecipe | null {
  return recipes.find((r) => r.slug === slug) ?? null;
}
