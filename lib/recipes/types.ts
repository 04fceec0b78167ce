import type { z } from "zod";
import type { GuestHostPlan, GuestRecipe, GuestSettings, HostKind } from "../drivers/types";

/**
 * A recipe: a named, versioned first-boot configuration of a catalog image, with typed
 * parameters. A catalog item is an image plus, optionally, one recipe (images.recipe_slug).
 *
 * The order form shows `fields`; the API and the form check the order's parameters with
 * `params` (zod, strict: odd keys refused); the pipeline renders the recipe for the guest at
 * deploy time: `render` for QEMU guests (files, setup and check scripts run by the guest's
 * init, lib/drivers/images/recipe.ts), `hostPlan` for Xen and Solaris zones (commands as
 * argument vectors and files; those plans were run only against the host emulators in
 * tests/emulators, never on a real Xen or Solaris host).
 *
 * This file holds no server-only import: the order form (a browser component) reads recipes.
 */

/** One field of the order form. `name` is the parameter's key (or the upload's, for `file`). */
export type RecipeField = {
  name: string;
  label: string;
  help?: string;
  kind: "text" | "textarea" | "file";
  /** Uploads: the file types the picker offers (e.g. ".tar.gz,.tgz") and the largest size accepted. */
  accept?: string;
  maxBytes?: number;
  placeholder?: string;
  required?: boolean;
};

/** One of the recipe's own steps, shown on the order page under the pipeline's wait-until-ready step. */
export type RecipeStep = { name: string; label: string };

/**
 * What the recipe hands back once the guest is ready. `url`/`text` outputs come from the
 * guest's report (the check's last line, `key=value` words); `secret` outputs are made by the
 * portal at deploy time (random), rendered into the guest, shown to the owner once and then
 * kept only as a hash.
 */
export type RecipeOutput = { name: string; label: string; kind: "url" | "text" | "secret"; help?: string };

/** Settings an order may ask for under this recipe: sysctl names and the service's environment variables. */
export type RecipeSettings = { sysctl: string[]; env: string[] };

/** What the recipe knows about the guest it is rendered for. */
export type RecipeContext = {
  orderId: string;
  /** The order's name, as the owner gave it. */
  orderName: string;
  hostname: string;
  /** The environment as people name it, e.g. "web-01 (order for the Physics group)". */
  environmentLabel: string;
  /** The guest's addresses: the first one is where its service is reached. */
  addresses: { ip: string; purpose: "service" | "production" }[];
  /** Values of the recipe's secret outputs, made at deploy time (never stored in clear past the owner's one look). */
  secrets: Record<string, string>;
  /** Uploaded files, by field name (already checked by `checkUpload`). */
  uploads: Record<string, Buffer>;
  /** The order's settings (environment variables for the service, sysctl values), already checked. */
  settings: GuestSettings;
};

/**
 * The recipe for Xen and zones guests: files to put into the guest, commands to run inside
 * it (Xen: on the mounted root through chroot before boot; zones: zlogin after boot) and a
 * probe that says the service is up. Run only against the host emulators, not a real host.
 */
export type RecipeHostPlan = Omit<GuestHostPlan, "slug" | "version">;

/**
 * What the order form and the API know of a recipe: its name, parameters and fields, steps,
 * settings and outputs. Browser-safe (the form checks as you type with `params`).
 */
export type RecipeForm<P extends Record<string, unknown> = Record<string, unknown>> = {
  slug: string;
  version: string;
  name: string;
  description: string;
  /** Catalog images it runs on (slugs) and host kinds it has a rendering for. */
  images: string[];
  hostKinds: HostKind[];
  /** The order's parameters (strict zod object; uploads are not in it, see `fields` of kind file). */
  params: z.ZodType<P>;
  fields: RecipeField[];
  steps: RecipeStep[];
  settings: RecipeSettings;
  outputs: RecipeOutput[];
  /** How long the guest's check may take to pass after setup (seconds). */
  timeoutSeconds: number;
  /**
   * A database recipe: what a client connects to, from the order's parameters (shown under
   * "How to connect" and in the API's environment.connection; the host is the environment's address).
   */
  database?: (params: P) => { engine: "postgresql"; port: number; database: string; user: string };
  /** The secret output the owner (or an admin) may replace on day 2 (POST /api/v1/environments/:id/credentials). */
  rotatable?: string;
};

/** A recipe: its form and its renderings (server side); `P` is the type of its checked parameters. */
export type Recipe<P extends Record<string, unknown> = Record<string, unknown>> = RecipeForm<P> & {
  /** Checks an uploaded file for a field of kind `file`; returns what is wrong, or null. Server side only. */
  checkUpload?: (field: string, data: Buffer) => string | null;
  /** An output's value when the guest reports none (Xen, zones and sim guests run no check that reports): from the addresses and the order's parameters. */
  outputValue?: (name: string, ctx: { addresses: { purpose: string; ip: string }[]; params: P }) => string | null;
  /**
   * For a `rotatable` secret: what the guest's `set-password` hook takes for a new value (the
   * database: the password's SCRAM-SHA-256 verifier), so the value itself never reaches the guest.
   */
  rotationInput?: (value: string) => string;
  /** The rendering for QEMU guests (and what the sim driver records). */
  render: (params: P, ctx: RecipeContext) => GuestRecipe;
  /** The rendering for Xen and zones guests (emulator-tested only). */
  hostPlan?: (params: P, ctx: RecipeContext, kind: "xen" | "zones") => RecipeHostPlan;
};

/** Any recipe, whatever its parameters (the registry's element type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRecipe = Recipe<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRecipeForm = RecipeForm<any>;
