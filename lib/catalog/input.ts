import { z } from "zod";
import { orderPurposes } from "../db/schema/enums";
import { displayNameField, numeric, slugField } from "../validation/fields";
import { recipeFormBySlug, recipeForms } from "../recipes/forms";

/**
 * A new catalog image, as the admin form (validation as you type) and POST /api/v1/images
 * send it. The lists mirror the images table in lib/db/schema/catalog.ts (a unit test keeps
 * them equal); they are repeated here because the browser loads this file and must not load
 * the database schema.
 */
export const imageOses = ["linux", "solaris"] as const;
export const imageHostKinds = ["sim", "qemu", "xen", "zones"] as const;
export const imageSources = ["install-file", "clone", "copy"] as const;
export const imageRootTypes = ["sparse", "whole"] as const;
export const imagePurposes = orderPurposes;
/** Host kinds a Solaris image can run on: zones, and the simulator that imitates them. */
export const solarisHostKinds: readonly string[] = ["zones", "sim"];
/** The images table keeps sizes in an integer column; 1 TiB is far beyond any golden image. */
export const MAX_IMAGE_MB = 1024 * 1024;

/** The fields an image keeps however it is changed later: what it is called, where it runs, its size. */
const imageFields = {
  name: displayNameField,
  description: z.string().trim().max(500, "Description can have at most 500 characters"),
  version: z.string().trim().min(1, "Enter a version, like Debian 12 or Solaris 10 1/13").max(100, "Version can have at most 100 characters"),
  hostKinds: z
    .array(z.enum(imageHostKinds, { message: "Host kinds are sim, qemu, xen and zones" }), { message: "Choose the hypervisors the image runs on" })
    .min(1, "Choose at least one hypervisor")
    .refine((kinds) => new Set(kinds).size === kinds.length, "Name each hypervisor once"),
  purpose: z.enum(imagePurposes, { message: "Purpose is one of test, development, database, web" }),
  sizeMb: numeric(
    z
      .number({ message: "Size is a number of MB" })
      .int("Size is a whole number of MB")
      .positive("Size must be more than 0 MB")
      .max(MAX_IMAGE_MB, `Size can be at most ${MAX_IMAGE_MB} MB`),
  ),
  licensed: z.boolean({ message: "Licensed is true or false" }),
  /** The application recipe the catalog item runs at first boot (lib/recipes), null for a bare image. */
  recipeSlug: z
    .string({ message: "Recipe is a recipe's slug, or null" })
    .refine((s) => recipeFormBySlug(s) !== null, { message: `Recipe is one of ${recipeForms.map((r) => r.slug).join(", ")} (or null for none)` })
    .nullable(),
};

/** Why a recipe cannot run on an image's host kinds, or null. */
export function recipeKindsProblem(recipeSlug: string | null | undefined, kinds: readonly string[]): string | null {
  const recipe = recipeSlug ? recipeFormBySlug(recipeSlug) : null;
  if (!recipe) return null;
  const wrong = kinds.filter((k) => !(recipe.hostKinds as readonly string[]).includes(k));
  return wrong.length ? `The recipe ${recipe.name} has no rendering for ${wrong.join(", ")} hosts` : null;
}

/** Why an image of `os` cannot run on `kinds`, or null when it can. */
export function hostKindsProblem(os: string, kinds: readonly string[]): string | null {
  if (os === "solaris") {
    const wrong = kinds.filter((k) => !solarisHostKinds.includes(k));
    return wrong.length ? `Solaris images run only on zones or sim hosts, not on ${wrong.join(", ")}` : null;
  }
  return kinds.includes("zones") ? "Linux images do not run on Solaris zones" : null;
}

export const imageInput = z
  .strictObject({
    slug: slugField,
    ...imageFields,
    description: imageFields.description.default(""),
    os: z.enum(imageOses, { message: "OS is linux or solaris" }),
    source: z.enum(imageSources, { message: "Source is install-file, clone or copy" }),
    rootType: z.enum(imageRootTypes, { message: "Root type is sparse or whole" }).nullish(),
    licensed: imageFields.licensed.default(false),
    recipeSlug: imageFields.recipeSlug.default(null),
  })
  .superRefine(
    (v, ctx) => {
      const kinds = hostKindsProblem(v.os, v.hostKinds);
      if (kinds) ctx.addIssue({ code: "custom", path: ["hostKinds"], message: kinds });
      const recipe = recipeKindsProblem(v.recipeSlug, v.hostKinds);
      if (recipe) ctx.addIssue({ code: "custom", path: ["recipeSlug"], message: recipe });
      if (v.os === "solaris" && !v.rootType) ctx.addIssue({ code: "custom", path: ["rootType"], message: "Choose a sparse or whole root for a Solaris zone" });
      if (v.os !== "solaris" && v.rootType) ctx.addIssue({ code: "custom", path: ["rootType"], message: "Only Solaris zones have a sparse or whole root" });
    },
    // Checked as soon as the fields it compares are well formed, while others may still be empty.
    { when: (payload) => !payload.issues.some((i) => !i.path?.length || ["os", "hostKinds", "rootType", "recipeSlug"].includes(String(i.path[0]))) },
  )
  .transform((v) => ({ ...v, rootType: v.rootType ?? null }));

export type ImageInput = z.infer<typeof imageInput>;

/**
 * A change to an image (PATCH /api/v1/images/:id): any of its describing fields, and `active`
 * to hide it from the catalog (false) or list it again (true). Slug, OS, source and root type
 * stay: orders and API clients name the image by its slug, and built environments by the rest.
 */
export const imageUpdateInput = z
  .strictObject({
    name: imageFields.name.optional(),
    description: imageFields.description.optional(),
    version: imageFields.version.optional(),
    hostKinds: imageFields.hostKinds.optional(),
    purpose: imageFields.purpose.optional(),
    sizeMb: imageFields.sizeMb.optional(),
    licensed: imageFields.licensed.optional(),
    recipeSlug: imageFields.recipeSlug.optional(),
    active: z.boolean({ message: "Active is true (listed in the catalog) or false (hidden)" }).optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: "Nothing to change: give name, description, version, hostKinds, purpose, sizeMb, licensed, recipeSlug or active" });

export type ImageUpdate = z.infer<typeof imageUpdateInput>;

/** The change form of an image of `os`: also checks the hypervisors against its OS, as the server does. */
export function imageUpdateFor(os: string) {
  return imageUpdateInput.superRefine((v, ctx) => {
    const kinds = v.hostKinds ? hostKindsProblem(os, v.hostKinds) : null;
    if (kinds) ctx.addIssue({ code: "custom", path: ["hostKinds"], message: kinds });
  });
}
