import { forbidden, notFound, ok, ref, unauthorized, uuidParam, CROSS_SITE, type OpenApiPart } from "../openapi-helpers";

const field = {
  type: "object",
  required: ["name", "label", "kind"],
  properties: {
    name: { type: "string", description: "The parameter's key in the order's `recipe` object, or (kind file) its key in `uploads`" },
    label: { type: "string" },
    kind: { enum: ["text", "textarea", "file"] },
    help: { type: ["string", "null"] },
    accept: { type: ["string", "null"], description: "file: the file types taken, e.g. .tar.gz" },
    maxBytes: { type: ["integer", "null"], description: "file: the largest file taken, in bytes" },
    required: { type: "boolean" },
  },
};

/** Recipes (an image's first-boot configuration with typed parameters) and the owner's one look at an order's generated passwords. */
export const recipesPart: OpenApiPart = {
  paths: {
    "/api/v1/recipes": {
      get: {
        operationId: "listRecipes",
        summary: "The recipes catalog items run at first boot, each with its parameters as JSON Schema, form fields, own steps, allowed settings and outputs",
        responses: {
          "200": ok("Every recipe", { type: "object", required: ["recipes"], properties: { recipes: { type: "array", items: ref("Recipe") } } }),
          ...unauthorized,
        },
      },
    },
    "/api/v1/recipes/{slug}": {
      get: {
        operationId: "getRecipe",
        summary: "One recipe by slug",
        parameters: [{ name: "slug", in: "path", required: true, description: "The recipe's slug, e.g. web", schema: { type: "string" } }],
        responses: { "200": ok("The recipe", ref("Recipe")), ...unauthorized, ...notFound("No such recipe") },
      },
    },
    "/api/v1/orders/{id}/secrets": {
      post: {
        operationId: "revealOrderSecrets",
        summary:
          "The owner's one look at the passwords the order's recipe made at deploy time: returned once, then forgotten (the portal keeps only a sha256 hash). " +
          "A second call returns none. Owner only (not admins or approvers). Audited (names, never values)",
        parameters: [uuidParam("id", "The order's id")],
        responses: {
          "200": ok("The passwords shown now (empty when they were shown before or are not made yet)", {
            type: "object",
            required: ["secrets", "note"],
            properties: {
              secrets: {
                type: "array",
                items: { type: "object", required: ["name", "label", "value"], properties: { name: { type: "string" }, label: { type: "string" }, value: { type: "string" } } },
              },
              note: { type: "string" },
            },
          }),
          ...unauthorized,
          ...forbidden("only the order's owner sees its passwords", CROSS_SITE),
          ...notFound("No such order, or not one you may see"),
        },
      },
    },
  },
  schemas: {
    Recipe: {
      type: "object",
      required: ["slug", "version", "name", "parameters", "fields", "steps", "settings", "outputs"],
      properties: {
        slug: { type: "string" },
        version: { type: "string" },
        name: { type: "string" },
        description: { type: "string" },
        images: { type: "array", items: { type: "string" }, description: "Catalog images (slugs) it is made for" },
        hostKinds: { type: "array", items: { enum: ["sim", "qemu", "xen", "zones"] }, description: "Host kinds it has a rendering for (xen and zones: tested against emulators only)" },
        parameters: { type: "object", description: "JSON Schema of the order's `recipe` object (generated from the recipe's zod schema; unknown keys are refused)" },
        fields: { type: "array", items: field, description: "The order form's fields" },
        steps: { type: "array", items: { type: "object", properties: { name: { type: "string" }, label: { type: "string" } } }, description: "The recipe's own steps, shown under the wait-until-ready step" },
        settings: {
          type: "object",
          description: "What an order's `settings` may name under this recipe",
          properties: { sysctl: { type: "array", items: { type: "string" } }, env: { type: "array", items: { type: "string" } } },
        },
        outputs: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: "string" }, label: { type: "string" }, kind: { enum: ["url", "text", "secret"], description: "secret: shown to the owner once (POST /api/v1/orders/{id}/secrets), then kept only as a hash" }, help: { type: ["string", "null"] } },
          },
        },
        timeoutSeconds: { type: "integer", description: "How long the guest's check may take to pass after setup" },
      },
    },
    OrderRecipe: {
      type: ["object", "null"],
      description: "The image's recipe as the order runs it; null for a bare image",
      properties: {
        slug: { type: "string" },
        version: { type: "string" },
        name: { type: "string" },
        params: { type: "object", description: "The parameters as checked when the order was made" },
        uploads: { type: "array", items: { type: "object", properties: { field: { type: "string" }, fileName: { type: "string" }, size: { type: "integer" }, sha256: { type: "string" } } } },
        steps: {
          type: "array",
          description: "The recipe's own steps, from the guest's console (`portal-recipe: step NAME` lines of the wait-until-ready step)",
          items: {
            type: "object",
            properties: {
              name: { type: "string" }, label: { type: "string" }, status: { enum: ["pending", "running", "succeeded", "failed"] },
              startedAt: { type: ["string", "null"], format: "date-time" }, finishedAt: { type: ["string", "null"], format: "date-time" },
            },
          },
        },
        outputs: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" }, label: { type: "string" }, kind: { enum: ["url", "text", "secret"] }, help: { type: ["string", "null"] },
              value: { type: ["string", "null"], description: "url and text outputs once the guest reported them; never a secret's value" },
              secret: {
                type: ["object", "null"],
                description: "secret outputs: available (can still be shown once) and when it was shown",
                properties: { available: { type: "boolean" }, revealedAt: { type: ["string", "null"], format: "date-time" } },
              },
            },
          },
        },
      },
    },
  },
};
