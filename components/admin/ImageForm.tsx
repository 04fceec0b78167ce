"use client";

import { useMemo } from "react";
import {
  imageHostKinds, imageInput, imageOses, imagePurposes, imageRootTypes, imageSources, imageUpdateFor, solarisHostKinds,
} from "@/lib/catalog/input";
import { hostKindLabels, osLabels } from "../format";
import { FieldError, FormStatus, TextField, useSchemaForm } from "./useSchemaForm";
import { rootTypeLabels, sourceLabels } from "./image-labels";
import { recipeForms } from "@/lib/recipes/forms";

type Values = {
  slug: string; name: string; description: string; os: string; version: string; hostKinds: string[];
  source: string; rootType: string; purpose: string; sizeMb: string; licensed: boolean; recipeSlug: string;
};

/** An image as the edit form starts from it. */
export type EditableImage = {
  id: string; slug: string; name: string; description: string; os: string; version: string; hostKinds: string[];
  source: string; rootType: string | null; purpose: string; sizeMb: number; licensed: boolean; recipeSlug: string | null;
};

const empty: Values = {
  slug: "", name: "", description: "", os: "linux", version: "", hostKinds: ["sim", "qemu", "xen"],
  source: "clone", rootType: "", purpose: "test", sizeMb: "", licensed: false, recipeSlug: "",
};

/**
 * Adds an image to the catalog (what it is, where it runs and how it is built), or, given
 * `image`, changes it: everything but its slug, OS, source and zone root, which orders and
 * built environments depend on.
 */
export function ImageForm({ image }: { image?: EditableImage }) {
  const editing = Boolean(image);
  const schema = useMemo(() => (image ? imageUpdateFor(image.os) : imageInput), [image]);
  const form = useSchemaForm<Values, { name: string; slug: string }>({
    schema,
    initial: image ? { ...image, rootType: image.rootType ?? "", sizeMb: String(image.sizeMb), recipeSlug: image.recipeSlug ?? "" } : empty,
    toBody: (v) =>
      image
        ? { name: v.name, description: v.description, version: v.version, hostKinds: v.hostKinds, purpose: v.purpose, sizeMb: v.sizeMb.trim() === "" ? undefined : Number(v.sizeMb), licensed: v.licensed, recipeSlug: v.recipeSlug || null }
        : { ...v, recipeSlug: v.recipeSlug || null, rootType: v.os === "solaris" ? v.rootType || undefined : undefined, sizeMb: v.sizeMb.trim() === "" ? undefined : Number(v.sizeMb) },
    path: image ? `/api/v1/images/${image.id}` : "/api/v1/images",
    method: image ? "PATCH" : "POST",
    keepValues: editing,
    done: (i) => (image ? `Saved ${i.name}` : `Added ${i.name} (${i.slug}) to the catalog`),
  });
  const { values, set } = form;
  const idOf = (f: string) => (image ? `image-${image.id.slice(0, 8)}-${f}` : `image-${f}`);

  /**
   * Switching the OS keeps only hypervisors that can run it (Solaris always on zones) and asks
   * for a root type on Solaris.
   */
  function setOs(os: string) {
    const fits = (k: string) => (os === "solaris" ? solarisHostKinds.includes(k) : k !== "zones");
    const kept = values.hostKinds.filter((k) => fits(k) || (os === "solaris" && k === "zones"));
    const kinds = os === "solaris" ? imageHostKinds.filter((k) => k === "zones" || kept.includes(k)) : kept;
    set("os", os);
    set("hostKinds", kinds.length ? kinds : imageHostKinds.filter(fits));
    set("rootType", os === "solaris" ? values.rootType || "sparse" : "");
  }

  function toggleKind(kind: string, on: boolean) {
    set("hostKinds", on ? imageHostKinds.filter((k) => k === kind || values.hostKinds.includes(k)) : values.hostKinds.filter((k) => k !== kind));
  }

  const text = (f: "slug" | "name" | "version" | "sizeMb", label: string, opts: { placeholder?: string; hint?: string; numeric?: boolean } = {}) => (
    <TextField form={form} id={idOf(f)} field={f} label={label} {...opts} />
  );

  const select = (f: "os" | "source" | "rootType" | "purpose" | "recipeSlug", label: string, options: readonly string[], onChange: (v: string) => void, labels: Record<string, string> = {}) => {
    const id = idOf(f);
    return (
      <div>
        <label htmlFor={id} className="field-label">{label}</label>
        <select {...form.a11y(id, f)} value={values[f]} onChange={(e) => onChange(e.target.value)} className="field-input">
          {options.map((o) => (
            <option key={o} value={o}>{labels[o] ?? o}</option>
          ))}
        </select>
        <FieldError id={id} text={form.errorFor(f)} />
      </div>
    );
  };

  /** What an image keeps once added, shown where the add form has a field. */
  const fixed = (label: string, value: string, mono = false) => (
    <div>
      <span className="field-label">{label}</span>
      <p className={`py-2 text-sm text-slate-700 ${mono ? "font-mono" : ""}`}>{value}</p>
    </div>
  );

  const solaris = values.os === "solaris";

  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label={image ? `Edit ${image.name}` : "Add an image"}>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {text("name", "Name", { placeholder: "Linux CI runner" })}
        {image ? fixed("Slug", image.slug, true) : text("slug", "Slug", { placeholder: "linux-ci", hint: "Lowercase letters, digits and hyphens" })}
        {image ? fixed("Operating system", osLabels[image.os] ?? image.os) : select("os", "Operating system", imageOses, setOs, osLabels)}
        {text("version", "Version", { placeholder: solaris ? "Solaris 10 1/13" : "Debian 12" })}
        {image ? fixed("Source", sourceLabels[image.source] ?? image.source) : select("source", "Source", imageSources, (v) => set("source", v), sourceLabels)}
        {image ? (
          fixed("Zone root", image.rootType ? (rootTypeLabels[image.rootType] ?? image.rootType) : "Solaris zones only")
        ) : solaris ? (
          select("rootType", "Zone root", imageRootTypes, (v) => set("rootType", v), rootTypeLabels)
        ) : (
          fixed("Zone root", "Solaris zones only")
        )}
        {select("purpose", "Purpose", imagePurposes, (v) => set("purpose", v))}
        {text("sizeMb", "Size (MB)", { placeholder: "2048", numeric: true })}
        {select("recipeSlug", "Recipe (first boot)", ["", ...recipeForms.map((r) => r.slug)], (v) => set("recipeSlug", v), { "": "None: a bare image", ...Object.fromEntries(recipeForms.map((r) => [r.slug, r.name])) })}
        <fieldset className="sm:col-span-2" aria-describedby={form.errorFor("hostKinds") ? `${idOf("hostKinds")}-error` : undefined}>
          <legend className="field-label">Hypervisors</legend>
          <div className="flex flex-wrap gap-x-5 gap-y-2 py-1">
            {imageHostKinds.map((k) => (
              <label key={k} className="inline-flex items-center gap-2 text-sm text-slate-700">
                <input type="checkbox" checked={values.hostKinds.includes(k)} onChange={(e) => toggleKind(k, e.target.checked)} className="size-4 rounded border-slate-300" />
                {hostKindLabels[k] ?? k}
              </label>
            ))}
          </div>
          <FieldError id={idOf("hostKinds")} text={form.errorFor("hostKinds")} />
        </fieldset>
        <div className="sm:col-span-2">
          <span className="field-label">Licence</span>
          <label className="inline-flex items-center gap-2 py-1 text-sm text-slate-700">
            <input type="checkbox" checked={values.licensed} onChange={(e) => set("licensed", e.target.checked)} className="size-4 rounded border-slate-300" />
            Licensed per CPU (deploy with a CPU cap)
          </label>
        </div>
        <div className="sm:col-span-2 lg:col-span-4">
          <label htmlFor={idOf("description")} className="field-label">Description <span className="font-normal text-slate-500">(optional)</span></label>
          <textarea
            {...form.a11y(idOf("description"), "description")}
            rows={2}
            value={values.description}
            onChange={(e) => set("description", e.target.value)}
            className="field-input"
          />
          <FieldError id={idOf("description")} text={form.errorFor("description")} />
        </div>
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>
          {image ? (form.busy ? "Saving…" : "Save image") : form.busy ? "Adding…" : "Add image"}
        </button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
