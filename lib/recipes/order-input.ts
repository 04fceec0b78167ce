import { z } from "zod";
import { fieldErrors } from "../validation/fields";
import {
  accountNamePattern, envNamePattern, envValuePattern, firstAccountUid, joinableReservedGroups, reservedAccountNames, sshKeyLinePattern, sysctlKeyPattern, sysctlValuePattern,
} from "../validation/guest-settings";
import { sshKeyProblem } from "../validation/ssh-key";
import type { AnyRecipeForm } from "./types";

/**
 * What an order adds to its image besides the catalog choices: the recipe's parameters, files
 * uploaded for it, accounts and system settings. Shapes are checked here (the order form in
 * the browser and the API share this file); what the chosen image's recipe allows is checked
 * by `recipeOrderErrors` (names of settings, the parameters' own schema).
 */

export const MAX_ACCOUNTS = 10;
export const MAX_SETTINGS = 20;
/** The largest upload any recipe takes, as base64 (a recipe's field may allow less). */
const MAX_UPLOAD_BASE64 = Math.ceil((4 * 1024 * 1024 * 4) / 3) + 4;

const accountName = z
  .string({ message: "Name is text" })
  .regex(accountNamePattern, "Use lowercase letters, digits, _ and -, starting with a letter or _ (at most 32)")
  .refine((n) => !reservedAccountNames.has(n), { message: "This name is taken by the system; choose another" });

const groupName = z
  .string({ message: "A group is a name" })
  .regex(accountNamePattern, "Group names use lowercase letters, digits, _ and -, starting with a letter or _")
  .refine((n) => !reservedAccountNames.has(n) || joinableReservedGroups.has(n), { message: "This group is the system's; of those only users and staff may be joined" });

const sshKeys = z
  .string({ message: "Keys are text" })
  .max(16_384, "At most 16384 characters of keys")
  .superRefine((s, ctx) => {
    for (const line of s.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const problem = sshKeyProblem(line) ?? (sshKeyLinePattern.test(line) ? null : "The guests take ssh-ed25519, ssh-rsa and ecdsa-sha2-nistp* keys");
      if (problem) {
        ctx.addIssue({ code: "custom", message: problem });
        return;
      }
    }
  });

export const accountInput = z.strictObject({
  name: accountName,
  groups: z.array(groupName).max(8, "At most 8 groups").default([]),
  sshKeys: sshKeys.default(""),
});

export const accountsInput = z
  .array(accountInput)
  .max(MAX_ACCOUNTS, `At most ${MAX_ACCOUNTS} accounts`)
  .superRefine((list, ctx) => {
    const names = new Set<string>();
    list.forEach((a, i) => {
      if (names.has(a.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `${a.name} is already an account of this order` });
      names.add(a.name);
    });
    list.forEach((a, i) => {
      a.groups.forEach((g, j) => {
        if (names.has(g)) ctx.addIssue({ code: "custom", path: [i, "groups", j], message: `${g} is the name of an account: a group needs its own name` });
      });
    });
  });

export const settingsInput = z.strictObject({
  sysctl: z
    .record(
      z.string().regex(sysctlKeyPattern, "A sysctl name looks like net.core.somaxconn"),
      z.string({ message: "A sysctl value is text" }).regex(sysctlValuePattern, "A sysctl value holds letters, digits, spaces and . _ : / , - (1 to 200)"),
    )
    .refine((r) => Object.keys(r).length <= MAX_SETTINGS, { message: `At most ${MAX_SETTINGS} sysctl settings` })
    .default({}),
  env: z
    .record(
      z.string().regex(envNamePattern, "A variable name uses capital letters, digits and _ (e.g. APP_MODE)"),
      z.string({ message: "A variable's value is text" }).regex(envValuePattern, "A value holds letters, digits, spaces and . _ : / , @ % + = - (at most 256)"),
    )
    .refine((r) => Object.keys(r).length <= MAX_SETTINGS, { message: `At most ${MAX_SETTINGS} variables` })
    .default({}),
});

export const uploadInput = z.strictObject({
  name: z.string({ message: "File name is text" }).min(1).max(200, "File name can have at most 200 characters").regex(/^[A-Za-z0-9._ -]+$/, "File name holds letters, digits, spaces and . _ -"),
  /** The file's bytes, base64. */
  data: z.string({ message: "File data is base64 text" }).max(MAX_UPLOAD_BASE64, "The file is too large").regex(/^[A-Za-z0-9+/]*={0,2}$/, "File data is base64"),
});

/** The recipe's parameters (checked against the image's recipe), uploads by field, accounts and settings. */
export const orderRecipeFields = {
  recipe: z.record(z.string(), z.unknown()).optional(),
  uploads: z.record(z.string(), uploadInput).optional(),
  accounts: accountsInput.optional(),
  settings: settingsInput.optional(),
};

export type AccountInput = z.infer<typeof accountInput>;
export type SettingsInput = z.infer<typeof settingsInput>;
export type UploadInput = z.infer<typeof uploadInput>;

/** Bytes of a base64 string once decoded. */
export function base64Bytes(data: string): number {
  return Math.floor((data.length * 3) / 4) - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
}

/**
 * What the image's recipe refuses in an order (keys `recipe.<param>`, `uploads.<field>`,
 * `settings.sysctl.<name>`, `settings.env.<name>`), and the parameters as its schema made them.
 * `recipe` is null for a bare image: then parameters, uploads and settings are refused
 * (accounts are for every image).
 */
export function recipeOrderErrors(
  recipe: AnyRecipeForm | null,
  input: { recipe?: Record<string, unknown>; uploads?: Record<string, UploadInput>; settings?: SettingsInput },
): { errors: Record<string, string[]>; params: Record<string, unknown> | null } {
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  const settings = input.settings ?? { sysctl: {}, env: {} };
  if (!recipe) {
    if (input.recipe && Object.keys(input.recipe).length) add("recipe", "This image has no recipe: it takes no parameters");
    for (const field of Object.keys(input.uploads ?? {})) add(`uploads.${field}`, "This image has no recipe: it takes no files");
    for (const k of Object.keys(settings.sysctl)) add(`settings.sysctl.${k}`, "This image allows no system settings");
    for (const k of Object.keys(settings.env)) add(`settings.env.${k}`, "This image allows no environment variables");
    return { errors, params: null };
  }
  const parsed = recipe.params.safeParse(input.recipe ?? {});
  if (!parsed.success) for (const [k, msgs] of Object.entries(fieldErrors(parsed.error))) for (const m of msgs) add(`recipe.${k}`, m);
  const fileFields = new Map(recipe.fields.filter((f) => f.kind === "file").map((f) => [f.name, f]));
  for (const [field, upload] of Object.entries(input.uploads ?? {})) {
    const f = fileFields.get(field);
    if (!f) add(`uploads.${field}`, `${recipe.name} takes no file named ${field}`);
    else if (f.maxBytes && base64Bytes(upload.data) > f.maxBytes) add(`uploads.${field}`, `${f.label}: at most ${Math.round(f.maxBytes / 1024)} KiB`);
    else if (upload.data.length === 0) add(`uploads.${field}`, `${f.label}: the file is empty`);
  }
  for (const f of recipe.fields) if (f.kind === "file" && f.required && !input.uploads?.[f.name]) add(`uploads.${f.name}`, `${f.label}: choose a file`);
  for (const k of Object.keys(settings.sysctl)) {
    if (!recipe.settings.sysctl.includes(k)) add(`settings.sysctl.${k}`, `${recipe.name} allows the sysctl settings ${recipe.settings.sysctl.join(", ") || "(none)"}`);
  }
  for (const k of Object.keys(settings.env)) {
    if (!recipe.settings.env.includes(k)) add(`settings.env.${k}`, `${recipe.name} allows the variables ${recipe.settings.env.join(", ") || "(none)"}`);
  }
  return { errors, params: parsed.success ? (parsed.data as Record<string, unknown>) : null };
}

/** The order's accounts with the uids the portal gives them: from 1001 up, in the order's order. */
export function withUids(accounts: AccountInput[]): { name: string; uid: number; groups: string[]; sshKeys: string }[] {
  return accounts.map((a, i) => ({ name: a.name, uid: firstAccountUid + i, groups: a.groups, sshKeys: a.sshKeys.split("\n").map((l) => l.trim()).filter(Boolean).join("\n") }));
}
