"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState, type ChangeEvent, type FormEvent, type ReactNode } from "react";
import { DEFAULT_LEASE_DAYS, MAX_LEASE_DAYS, orderInput, orderPurposes } from "@/lib/orders/input";
import { fieldErrors } from "@/lib/validation/fields";
import { api } from "../api-client";
import { formatMemory, formatSize, hostKindLabels, osLabels } from "../format";
import { orderNeed, type QuotaLine } from "@/lib/policy/quota-math";
import { QuotaPanel } from "../policy/QuotaPanel";
import { ShowCommands } from "./ShowCommands";
import { emptyRecipeValues, recipeInput, RecipeFields, type RecipeValues } from "./RecipeFields";
import { recipeFormBySlug } from "@/lib/recipes/forms";
import { recipeOrderErrors } from "@/lib/recipes/order-input";
import type { AnyRecipeForm } from "@/lib/recipes/types";

type ImageOption = { slug: string; name: string; os: string; version: string; purpose: string; sizeMb: number; hostKinds: string[]; licensed: boolean; recipe?: string | null };
/** A group the user orders in: its quota, and the slugs it may order (empty list: all). */
type GroupOption = { slug: string; name: string; lines: QuotaLine[]; offers: Record<"image" | "flavor" | "network", string[]> };
type Offered = "image" | "flavor" | "network";
type FlavorOption = { slug: string; name: string; vcpus: number; memoryMb: number; diskGb: number; cpuCap: number | null };
type NetworkOption = { slug: string; name: string; cidr: string };

type Values = { image: string; flavor: string; network: string; name: string; purpose: string; leaseDays: string; group: string };
type Field = keyof Values;

const FIELDS: Field[] = ["image", "flavor", "network", "name", "purpose", "leaseDays", "group"];

/** The request body: empty optional fields are left out so the portal's defaults apply. */
function toInput(v: Values) {
  return {
    image: v.image,
    flavor: v.flavor,
    name: v.name,
    ...(v.network ? { network: v.network } : {}),
    ...(v.group ? { group: v.group } : {}),
    ...(v.purpose ? { purpose: v.purpose } : {}),
    ...(v.leaseDays.trim() ? { leaseDays: v.leaseDays.trim() } : {}),
  };
}

/** The whole request body: catalog choices and what the image's recipe takes. */
function bodyOf(v: Values, r: RecipeValues, recipe: AnyRecipeForm | null) {
  return { ...toInput(v), ...recipeInput(r, recipe) };
}

function validate(v: Values, r: RecipeValues, recipe: AnyRecipeForm | null): Record<string, string[]> {
  const body = bodyOf(v, r, recipe);
  const parsed = orderInput.safeParse(body);
  const errors = parsed.success ? {} : fieldErrors(parsed.error);
  // The recipe's own checks (its parameters' schema, the settings it allows), as the server makes them.
  const { errors: recipeErrors } = recipeOrderErrors(recipe, body as Parameters<typeof recipeOrderErrors>[1]);
  for (const [k, msgs] of Object.entries(recipeErrors)) errors[k] ??= msgs;
  return errors;
}

export function OrderForm({
  images,
  flavors,
  networks,
  initialImage,
  groups = [],
  userQuota,
  planHosts = null,
  hasSshKey = true,
}: {
  images: ImageOption[];
  flavors: FlavorOption[];
  networks: NetworkOption[];
  initialImage?: string;
  /** The groups the user orders in, with their quota; the first is the default. */
  groups?: GroupOption[];
  userQuota?: { email: string; lines: QuotaLine[] };
  /** Admins (only they get the hosts) see the dry run ("Show commands") under the form. */
  planHosts?: { name: string; kind: string; state: string }[] | null;
  /** Whether the user has an SSH key on their account (the glue step installs it); without one the form warns. */
  hasSshKey?: boolean;
}) {
  const router = useRouter();
  const [values, setValues] = useState<Values>({
    image: initialImage ?? "",
    flavor: flavors[0]?.slug ?? "",
    // The oldest production network (the group may use), as the API defaults to.
    network: (networks.find((n) => !groups[0]?.offers.network.length || groups[0].offers.network.includes(n.slug)) ?? networks[0])?.slug ?? "",
    name: "",
    purpose: "",
    leaseDays: String(DEFAULT_LEASE_DAYS),
    group: groups.length > 1 ? groups[0].slug : "",
  });
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  // `fields`: the message is about the marked fields, and goes once none is marked any more.
  const [formError, setFormError] = useState<{ text: string; fields: boolean } | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const image = images.find((i) => i.slug === values.image);
  const recipe = image?.recipe ? recipeFormBySlug(image.recipe) : null;
  const [recipeValues, setRecipeValues] = useState<RecipeValues>(emptyRecipeValues);
  const [recipeTouched, setRecipeTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const clientErrors = useMemo(() => validate(values, recipeValues, recipe), [values, recipeValues, recipe]);
  const flavor = flavors.find((f) => f.slug === values.flavor);
  const group = groups.find((g) => g.slug === values.group) ?? groups[0];
  const need = image && flavor ? orderNeed(image, flavor) : null;

  function set(field: Field, value: string) {
    // Another image: its recipe's parameters and settings start empty (accounts stay).
    if (field === "image" && value !== values.image) setRecipeValues((r) => ({ ...emptyRecipeValues(), accounts: r.accounts }));
    setValues((v) => ({ ...v, [field]: value }));
    setTouched((t) => ({ ...t, [field]: true }));
    setServerErrors((e) => {
      if (!e[field]) return e;
      const { [field]: _gone, ...rest } = e;
      return rest;
    });
  }

  /** Client messages for fields the user has touched, then what the server said. */
  const offered = (kind: Offered, slug: string) => !group || group.offers[kind].length === 0 || group.offers[kind].includes(slug);
  const notOffered = (kind: Offered) =>
    values[kind] && !offered(kind, values[kind]) ? `Not offered to group ${group?.name}: choose another` : undefined;

  function messageFor(field: Field): string | undefined {
    if (field === "image" || field === "flavor" || field === "network") {
      const m = notOffered(field);
      if (m) return m;
    }
    if (touched[field] && clientErrors[field]?.length) return clientErrors[field][0];
    return serverErrors[field]?.[0];
  }

  /** Messages for the recipe's, accounts' and settings' fields (keys like recipe.title, accounts.0.name). */
  function messageForKey(key: string): string | undefined {
    const touchedKey = submitted || [...recipeTouched].some((t) => key === t || key.startsWith(`${t}.`) || t.startsWith(`${key}.`));
    if (touchedKey && clientErrors[key]?.length) return clientErrors[key][0];
    return serverErrors[key]?.[0];
  }

  function setRecipe(next: RecipeValues, key: string) {
    setRecipeValues(next);
    setRecipeTouched((t) => new Set(t).add(key));
    setServerErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !(k === key || k.startsWith(`${key}.`)))));
  }

  const recipeKeyError = () => Object.keys(clientErrors).some((k) => !(FIELDS as string[]).includes(k));

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setTouched(Object.fromEntries(FIELDS.map((f) => [f, true])));
    setSubmitted(true);
    setFormError(null);
    if (Object.keys(clientErrors).length > 0 || notOffered("image") || notOffered("flavor") || notOffered("network")) {
      setFormError({ text: "Check the fields marked below", fields: true });
      return;
    }
    setSubmitting(true);
    const res = await api<{ id: string; status: string }>("/api/v1/orders", { method: "POST", body: bodyOf(values, recipeValues, recipe) });
    if (res.ok) {
      router.push(`/orders/${res.data.id}`);
      return;
    }
    setSubmitting(false);
    setServerErrors(res.fields ?? {});
    // Quota refusals name no form field: their message says it all.
    const marked = Object.keys(res.fields ?? {}).some((f) => f in values || /^(recipe|uploads|accounts|settings)\b/.test(f));
    setFormError(marked ? { text: `${res.error}: check the fields marked below`, fields: true } : { text: res.error, fields: false });
  }

  const banner = formError && (!formError.fields || FIELDS.some((f) => messageFor(f)) || recipeKeyError() || Object.keys(serverErrors).some((k) => !(FIELDS as string[]).includes(k))) ? formError.text : null;

  /** What a control shares with its FormField: its value, and the error (or hint) that describes it. */
  function control(field: Field, id: string, hasHint: boolean) {
    const error = messageFor(field);
    return {
      id,
      name: field,
      value: values[field],
      onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => set(field, e.target.value),
      "aria-invalid": Boolean(error),
      "aria-describedby": error ? `${id}-error` : hasHint ? `${id}-hint` : undefined,
    };
  }

  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
      <form onSubmit={onSubmit} noValidate className="card space-y-5 p-6 lg:col-span-2" aria-label="Order form">
        {banner ? (
          <p role="alert" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700" data-testid="order-form-error">{banner}</p>
        ) : null}

        <FormField id="order-image" label="Image" error={messageFor("image")}>
          <select {...control("image", "order-image", false)} className="field-input">
            <option value="">Choose an image…</option>
            {images.map((i) => (
              <option key={i.slug} value={i.slug} disabled={!offered("image", i.slug)}>
                {i.name} — {i.version}{offered("image", i.slug) ? "" : " (not offered to your group)"}
              </option>
            ))}
          </select>
        </FormField>

        <div className="grid grid-cols-1 gap-5 sm:grid-cols-2">
          <FormField id="order-flavor" label="Size" error={messageFor("flavor")}>
            <select {...control("flavor", "order-flavor", false)} className="field-input">
              <option value="">Choose a size…</option>
              {flavors.map((f) => (
                <option key={f.slug} value={f.slug} disabled={!offered("flavor", f.slug)}>
                  {f.name} ({f.vcpus} vCPU, {formatMemory(f.memoryMb)}, {f.diskGb} GB){offered("flavor", f.slug) ? "" : " (not offered to your group)"}
                </option>
              ))}
            </select>
          </FormField>

          <FormField id="order-network" label="Network" error={messageFor("network")} hint="Production network the environment is reachable on; the service network is added for you.">
            <select {...control("network", "order-network", true)} className="field-input">
              {networks.map((n) => (
                <option key={n.slug} value={n.slug} disabled={!offered("network", n.slug)}>{n.name} ({n.cidr}){offered("network", n.slug) ? "" : " (not offered to your group)"}</option>
              ))}
            </select>
          </FormField>
        </div>

        {groups.length > 1 ? (
          <FormField id="order-group" label="Group" error={messageFor("group")} hint="The group the order counts against; its approvers decide on it.">
            <select id="order-group" name="group" value={values.group} onChange={(e) => set("group", e.target.value)} className="field-input">
              {groups.map((g) => (
                <option key={g.slug} value={g.slug}>{g.name}</option>
              ))}
            </select>
          </FormField>
        ) : null}

        <FormField
          id="order-name"
          label="Name (hostname)"
          error={messageFor("name")}
          hint="3–32 characters: lowercase letters, digits and hyphens; starts with a letter."
        >
          <input
            {...control("name", "order-name", true)}
            type="text"
            autoComplete="off"
            spellCheck={false}
            placeholder="e.g. web-test-01"
            className="field-input font-mono"
          />
        </FormField>

        <div className="grid grid-cols-1 gap-5 sm:grid-cols-2">
          <FormField id="order-purpose" label="Purpose" error={messageFor("purpose")}>
            <select
              id="order-purpose"
              name="purpose"
              value={values.purpose}
              onChange={(e) => set("purpose", e.target.value)}
              className="field-input"
              aria-invalid={Boolean(messageFor("purpose"))}
            >
              <option value="">{image ? `As the image (${image.purpose})` : "As the image"}</option>
              {orderPurposes.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          </FormField>

          <FormField
            id="order-lease"
            label="Lease (days)"
            error={messageFor("leaseDays")}
            hint={`${values.leaseDays.trim() ? "" : `Left empty: ${DEFAULT_LEASE_DAYS} days, the default. `}1 to ${MAX_LEASE_DAYS} days; the environment is removed when the lease ends.`}
          >
            <input
              {...control("leaseDays", "order-lease", true)}
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_LEASE_DAYS}
              placeholder={`${DEFAULT_LEASE_DAYS} (default)`}
              className="field-input"
            />
          </FormField>
        </div>

        <RecipeFields recipe={recipe} values={recipeValues} onChange={setRecipe} messageFor={messageForKey} />

        {hasSshKey ? null : (
          <div role="note" className="rounded-md border-l-4 border-amber-400 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="order-no-key">
            <p className="font-medium">You have no SSH key on your account.</p>
            <p>
              The environment is set up with the key you have when it is delivered; without one you cannot log in to it with a key. Add your public key on the{" "}
              <Link prefetch={false} href="/account" className="font-medium underline">Account</Link> page before you submit.
            </p>
          </div>
        )}

        <div className="flex flex-col-reverse gap-3 border-t border-slate-100 pt-5 sm:flex-row sm:items-center sm:justify-end">
          <Link prefetch={false} href="/catalog" className="btn btn-secondary">Back to catalog</Link>
          <button type="submit" className="btn btn-primary" disabled={submitting}>
            {submitting ? "Submitting…" : "Submit order"}
          </button>
        </div>
      </form>

      <aside className="card h-fit p-6" aria-labelledby="order-summary">
        <h2 id="order-summary" className="text-base">Summary</h2>
        <dl className="mt-4 space-y-3 text-sm">
          <div>
            <dt className="text-slate-500">Image</dt>
            <dd className="font-medium text-slate-900">
              {image ? (
                <>
                  {image.name}
                  <span className="block font-normal text-slate-600">
                    {osLabels[image.os] ?? image.os} · {image.version} · {formatSize(image.sizeMb)}
                  </span>
                  <span className="block font-normal text-slate-600">{image.hostKinds.map((k) => hostKindLabels[k] ?? k).join(", ")}</span>
                </>
              ) : (
                <span className="text-slate-400">not chosen</span>
              )}
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Size</dt>
            <dd className="font-medium text-slate-900">
              {flavor ? (
                <>
                  {flavor.name}
                  <span className="block font-normal text-slate-600">
                    {flavor.vcpus} vCPU{flavor.cpuCap ? ` (capped at ${flavor.cpuCap})` : ""}, {formatMemory(flavor.memoryMb)}, {flavor.diskGb} GB disk
                  </span>
                </>
              ) : (
                <span className="text-slate-400">not chosen</span>
              )}
            </dd>
          </div>
          <div>
            <dt className="text-slate-500">Hostname</dt>
            <dd className="font-mono text-slate-900">{values.name || <span className="font-sans text-slate-400">not chosen</span>}</dd>
          </div>
        </dl>
        {group || userQuota ? (
          <div className="mt-5 border-t border-slate-100 pt-4">
            <QuotaPanel
              need={need}
              scopes={[
                ...(group ? [{ title: `Group ${group.name}`, where: `in group ${group.name}`, lines: group.lines }] : []),
                ...(userQuota ? [{ title: "You", where: `for ${userQuota.email}`, lines: userQuota.lines }] : []),
              ]}
            />
          </div>
        ) : null}
        <p className="mt-5 border-t border-slate-100 pt-4 text-xs text-slate-500">
          Depending on your group, an approver may have to accept the order before it is built. You can follow every step on the order&apos;s page.
        </p>
      </aside>

      {planHosts ? (
        <ShowCommands input={toInput(values)} ready={Object.keys(clientErrors).length === 0} hosts={planHosts.filter((h) => !image || image.hostKinds.includes(h.kind))} />
      ) : null}
    </div>
  );
}

function FormField({ id, label, error, hint, children }: { id: string; label: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      {children}
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p>
      ) : hint ? (
        <p id={`${id}-hint`} className="field-hint">{hint}</p>
      ) : null}
    </div>
  );
}
