"use client";

import { useState, type ChangeEvent } from "react";
import type { AnyRecipeForm } from "@/lib/recipes/types";
import { MAX_ACCOUNTS } from "@/lib/recipes/order-input";

/**
 * The order form's part for the chosen image's recipe: its own fields (text, text area, a file
 * upload read into base64 in the browser), the accounts to add and the settings the recipe
 * allows. Messages come from the form (keys like `recipe.title`, `uploads.site`,
 * `accounts.0.name`, `settings.sysctl.net.core.somaxconn`), checked as the server checks them.
 */

export type AccountRow = { name: string; groups: string; sshKeys: string };
export type RecipeValues = {
  params: Record<string, string>;
  uploads: Record<string, { name: string; data: string; size: number }>;
  accounts: AccountRow[];
  sysctl: Record<string, string>;
  env: Record<string, string>;
};

export const emptyRecipeValues = (): RecipeValues => ({ params: {}, uploads: {}, accounts: [], sysctl: {}, env: {} });

/** The part of the order's request body these fields make (empty values left out). */
export function recipeInput(v: RecipeValues, recipe: AnyRecipeForm | null) {
  const params = Object.fromEntries(Object.entries(v.params).filter(([, x]) => x.trim() !== ""));
  const sysctl = Object.fromEntries(Object.entries(v.sysctl).filter(([, x]) => x.trim() !== "").map(([k, x]) => [k, x.trim()]));
  const env = Object.fromEntries(Object.entries(v.env).filter(([, x]) => x !== ""));
  return {
    ...(recipe && Object.keys(params).length ? { recipe: params } : {}),
    ...(recipe && Object.keys(v.uploads).length ? { uploads: Object.fromEntries(Object.entries(v.uploads).map(([k, u]) => [k, { name: u.name, data: u.data }])) } : {}),
    ...(v.accounts.length
      ? {
          accounts: v.accounts.map((a) => ({
            name: a.name.trim(),
            groups: a.groups.split(",").map((g) => g.trim()).filter(Boolean),
            sshKeys: a.sshKeys.trim(),
          })),
        }
      : {}),
    ...(Object.keys(sysctl).length || Object.keys(env).length ? { settings: { sysctl, env } } : {}),
  };
}

/** Reads a chosen file as base64 (without the data URL's prefix). */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function RecipeFields({
  recipe,
  values,
  onChange,
  messageFor,
}: {
  recipe: AnyRecipeForm | null;
  values: RecipeValues;
  onChange: (next: RecipeValues, touchedKey: string) => void;
  messageFor: (key: string) => string | undefined;
}) {
  const [reading, setReading] = useState<string | null>(null);
  const set = (patch: Partial<RecipeValues>, key: string) => onChange({ ...values, ...patch }, key);

  async function pick(field: string, e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    const key = `uploads.${field}`;
    if (!file) {
      const { [field]: _gone, ...rest } = values.uploads;
      set({ uploads: rest }, key);
      return;
    }
    setReading(field);
    try {
      const data = await readBase64(file);
      set({ uploads: { ...values.uploads, [field]: { name: file.name.replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 200), data, size: file.size } } }, key);
    } finally {
      setReading(null);
    }
  }

  const accountKey = (i: number, f: keyof AccountRow) => `accounts.${i}.${f === "groups" ? "groups" : f}`;
  const setAccount = (i: number, f: keyof AccountRow, value: string) =>
    set({ accounts: values.accounts.map((a, j) => (j === i ? { ...a, [f]: value } : a)) }, accountKey(i, f));
  /** The first message about an account's field (groups' messages come per group: accounts.0.groups.1). */
  const accountMessage = (i: number, f: keyof AccountRow) => {
    const key = accountKey(i, f);
    return messageFor(key) ?? (f === "groups" ? [0, 1, 2, 3, 4, 5, 6, 7, 8].map((j) => messageFor(`${key}.${j}`)).find(Boolean) : undefined);
  };

  return (
    <>
      {recipe ? (
        <fieldset className="space-y-4 rounded-md border border-slate-200 p-4" data-testid="recipe-fields" data-recipe={recipe.slug}>
          <legend className="px-1 text-sm font-semibold text-slate-900">{recipe.name}</legend>
          <p className="text-sm text-slate-600">{recipe.description}</p>
          {messageFor("recipe") ? <p className="field-error" role="alert">{messageFor("recipe")}</p> : null}
          {recipe.fields.map((f) => {
            const key = f.kind === "file" ? `uploads.${f.name}` : `recipe.${f.name}`;
            const id = `recipe-${f.name}`;
            const error = messageFor(key);
            const describedBy = error ? `${id}-error` : f.help ? `${id}-hint` : undefined;
            return (
              <div key={f.name}>
                <label htmlFor={id} className="field-label">{f.label}</label>
                {f.kind === "textarea" ? (
                  <textarea
                    id={id}
                    name={key}
                    rows={4}
                    value={values.params[f.name] ?? ""}
                    onChange={(e) => set({ params: { ...values.params, [f.name]: e.target.value } }, key)}
                    aria-invalid={Boolean(error)}
                    aria-describedby={describedBy}
                    className="field-input w-full"
                  />
                ) : f.kind === "file" ? (
                  <input
                    id={id}
                    name={key}
                    type="file"
                    accept={f.accept}
                    onChange={(e) => pick(f.name, e)}
                    aria-invalid={Boolean(error)}
                    aria-describedby={describedBy}
                    className="field-input w-full max-w-full text-sm"
                  />
                ) : (
                  <input
                    id={id}
                    name={key}
                    type="text"
                    value={values.params[f.name] ?? ""}
                    placeholder={f.placeholder}
                    onChange={(e) => set({ params: { ...values.params, [f.name]: e.target.value } }, key)}
                    aria-invalid={Boolean(error)}
                    aria-describedby={describedBy}
                    className="field-input"
                  />
                )}
                {reading === f.name ? <p className="field-hint">Reading the file…</p> : null}
                {error ? (
                  <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p>
                ) : f.help ? (
                  <p id={`${id}-hint`} className="field-hint">{f.help}</p>
                ) : null}
              </div>
            );
          })}
          {recipe.settings.sysctl.length || recipe.settings.env.length ? (
            <div className="space-y-3 border-t border-slate-100 pt-4">
              <p className="text-sm font-medium text-slate-900">System settings (optional)</p>
              <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
                {recipe.settings.sysctl.map((name) => {
                  const key = `settings.sysctl.${name}`;
                  const id = `setting-${name.replace(/\./g, "-")}`;
                  const error = messageFor(key);
                  return (
                    <div key={name} className="min-w-0">
                      <label htmlFor={id} className="field-label font-mono text-xs break-all">sysctl {name}</label>
                      <input id={id} name={key} type="text" value={values.sysctl[name] ?? ""} onChange={(e) => set({ sysctl: { ...values.sysctl, [name]: e.target.value } }, key)} aria-invalid={Boolean(error)} aria-describedby={error ? `${id}-error` : undefined} className="field-input" />
                      {error ? <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p> : null}
                    </div>
                  );
                })}
                {recipe.settings.env.map((name) => {
                  const key = `settings.env.${name}`;
                  const id = `env-${name}`;
                  const error = messageFor(key);
                  return (
                    <div key={name} className="min-w-0">
                      <label htmlFor={id} className="field-label font-mono text-xs break-all">{name} (service variable)</label>
                      <input id={id} name={key} type="text" value={values.env[name] ?? ""} onChange={(e) => set({ env: { ...values.env, [name]: e.target.value } }, key)} aria-invalid={Boolean(error)} aria-describedby={error ? `${id}-error` : undefined} className="field-input" />
                      {error ? <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p> : null}
                    </div>
                  );
                })}
              </div>
            </div>
          ) : null}
        </fieldset>
      ) : null}

      <fieldset className="space-y-3 rounded-md border border-slate-200 p-4" data-testid="account-fields">
        <legend className="px-1 text-sm font-semibold text-slate-900">Accounts (optional)</legend>
        <p className="text-sm text-slate-600">Logins besides root, each with its own SSH key; the portal gives them uids from 1001.</p>
        {messageFor("accounts") ? <p className="field-error" role="alert">{messageFor("accounts")}</p> : null}
        {values.accounts.map((a, i) => (
          <div key={i} className="grid grid-cols-1 gap-3 rounded-md bg-slate-50 p-3 sm:grid-cols-2" data-testid="account-row">
            {(["name", "groups"] as const).map((f) => {
              const id = `account-${i}-${f}`;
              const error = accountMessage(i, f);
              return (
                <div key={f} className="min-w-0">
                  <label htmlFor={id} className="field-label">{f === "name" ? "Login name" : "Groups (comma-separated)"}</label>
                  <input id={id} type="text" autoComplete="off" spellCheck={false} value={a[f]} placeholder={f === "name" ? "e.g. alice" : "e.g. deploy, users"} onChange={(e) => setAccount(i, f, e.target.value)} aria-invalid={Boolean(error)} aria-describedby={error ? `${id}-error` : undefined} className="field-input font-mono" />
                  {error ? <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p> : null}
                </div>
              );
            })}
            <div className="min-w-0 sm:col-span-2">
              <label htmlFor={`account-${i}-keys`} className="field-label">SSH public keys (one a line)</label>
              <textarea id={`account-${i}-keys`} rows={2} spellCheck={false} value={a.sshKeys} onChange={(e) => setAccount(i, "sshKeys", e.target.value)} aria-invalid={Boolean(accountMessage(i, "sshKeys"))} className="field-input w-full font-mono text-xs" />
              {accountMessage(i, "sshKeys") ? <p className="field-error" role="alert" data-testid={`account-${i}-keys-error`}>{accountMessage(i, "sshKeys")}</p> : null}
            </div>
            <div className="sm:col-span-2">
              <button type="button" className="btn btn-secondary" onClick={() => set({ accounts: values.accounts.filter((_, j) => j !== i) }, "accounts")}>Remove account</button>
            </div>
          </div>
        ))}
        {values.accounts.length < MAX_ACCOUNTS ? (
          <button type="button" className="btn btn-secondary" onClick={() => set({ accounts: [...values.accounts, { name: "", groups: "", sshKeys: "" }] }, "accounts")} data-testid="add-account">
            Add an account
          </button>
        ) : null}
      </fieldset>
    </>
  );
}
