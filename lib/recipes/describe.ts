import { z } from "zod";
import { notFound } from "../errors";
import { recipeBySlug, recipes } from "./index";
import type { AnyRecipe } from "./types";

/** A recipe as the API describes it: its parameters as JSON Schema (from its zod schema), form fields, steps, settings, outputs. */
export function describeRecipe(r: AnyRecipe) {
  return {
    slug: r.slug,
    version: r.version,
    name: r.name,
    description: r.description,
    images: r.images,
    hostKinds: r.hostKinds,
    parameters: z.toJSONSchema(r.params, { io: "input", unrepresentable: "any" }),
    fields: r.fields.map((f) => ({ name: f.name, label: f.label, kind: f.kind, help: f.help ?? null, accept: f.accept ?? null, maxBytes: f.maxBytes ?? null, required: f.required ?? false })),
    steps: r.steps,
    settings: r.settings,
    outputs: r.outputs.map((o) => ({ name: o.name, label: o.label, kind: o.kind, help: o.help ?? null })),
    timeoutSeconds: r.timeoutSeconds,
  };
}

export function listRecipes() {
  return recipes.map(describeRecipe);
}

export function getRecipe(slug: string) {
  const r = recipeBySlug(slug);
  if (!r) throw notFound("Recipe");
  return describeRecipe(r);
}
