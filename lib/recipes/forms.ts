/**
 * The recipes' forms (parameters, fields, steps, settings, outputs), for the order form in
 * the browser: no server-only import here or in what it imports.
 */
import type { AnyRecipeForm } from "./types";
import { postgresForm } from "./postgres-form";
import { webForm } from "./web-form";

export const recipeForms: AnyRecipeForm[] = [webForm, postgresForm];

export function recipeFormBySlug(slug: string): AnyRecipeForm | null {
  return recipeForms.find((r) => r.slug === slug) ?? null;
}
