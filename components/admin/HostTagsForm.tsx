"use client";

import { hostUpdateInput } from "@/lib/hosts/input";
import { FormStatus, TextField, useSchemaForm } from "./useSchemaForm";

type Values = { tags: string };

/** "batch, gpu" or "batch gpu" → ["batch", "gpu"]. */
function tagList(text: string): string[] {
  return text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
}

/**
 * A host's tags: labels a group's pool can name (Admin → Groups), so that group's orders are
 * placed only on hosts carrying one of them (a batch cluster's hosts, say).
 */
export function HostTagsForm({ hostId, tags }: { hostId: string; tags: string[] }) {
  const form = useSchemaForm<Values, { name: string; tags: string[] }>({
    schema: hostUpdateInput,
    initial: { tags: tags.join(", ") },
    toBody: (v) => ({ tags: tagList(v.tags) }),
    path: `/api/v1/hosts/${hostId}`,
    method: "PATCH",
    done: (h) => (h.tags.length ? `Tags of ${h.name}: ${h.tags.join(", ")}` : `${h.name} has no tags`),
  });
  return (
    <form onSubmit={form.submit} noValidate className="mt-3 flex flex-wrap items-start gap-2" aria-label="Host tags">
      <div className="min-w-56 flex-1">
        <TextField form={form} id={`${hostId}-tags`} field="tags" label="Tags" mono hint="Lowercase words, separated by commas; a group's pool can name them" />
      </div>
      <button type="submit" className="btn mt-6" disabled={form.busy}>
        Save tags
      </button>
      <FormStatus message={form.message} />
    </form>
  );
}
