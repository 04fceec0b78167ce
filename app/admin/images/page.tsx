import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { listAllImages } from "@/lib/catalog/queries";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { ImageForm } from "@/components/admin/ImageForm";
import { ImageRow } from "@/components/admin/ImageRow";
import { imageSummary } from "@/components/admin/image-labels";
import { formatDateTime } from "@/components/format";

export const metadata: Metadata = { title: "Images" };

export default async function AdminImagesPage() {
  const user = await requireUser("/admin/images");
  if (user.role !== "admin") forbidden();
  const images = await listAllImages(await getDb());
  const current = images.filter((i) => !i.retiredAt);
  const retired = images.filter((i) => i.retiredAt);
  const hidden = current.filter((i) => !i.active).length;

  return (
    <>
      <PageHeader
        title="Images"
        description="The catalog customers order from. Solaris images run in zones (or sim); Linux images on sim, QEMU/KVM or Xen. A hidden image is neither listed nor orderable; environments built from it keep running."
      />
      <div className="space-y-6">
        <section aria-labelledby="images-heading">
          <h2 id="images-heading" className="mb-3">
            Images ({current.length}{hidden ? `, ${hidden} hidden` : ""})
          </h2>
          {current.length ? (
            <ul className="card divide-y divide-slate-100" aria-label="Images">
              {current.map((i) => (
                <ImageRow
                  key={i.id}
                  image={{ id: i.id, slug: i.slug, name: i.name, description: i.description, os: i.os, version: i.version, hostKinds: i.hostKinds, source: i.source, rootType: i.rootType, purpose: i.purpose, sizeMb: i.sizeMb, licensed: i.licensed, recipeSlug: i.recipeSlug, active: i.active }}
                />
              ))}
            </ul>
          ) : (
            <p className="card p-5 text-sm text-slate-600">No images yet: add one below.</p>
          )}
        </section>
        <section aria-labelledby="add-image-heading" className="card p-5">
          <h2 id="add-image-heading" className="mb-3 text-base">Add an image</h2>
          <ImageForm />
        </section>
        {retired.length ? (
          <details className="card p-5" data-testid="retired-images">
            <summary className="cursor-pointer font-medium text-slate-800">Retired images ({retired.length})</summary>
            <ul className="mt-3 divide-y divide-slate-100 text-sm" aria-label="Retired images">
              {retired.map((i) => (
                <li key={i.id} className="py-2">
                  <span className="font-medium text-slate-900">{i.name}</span> <code className="text-xs break-all text-slate-500">{i.slug}</code>
                  <span className="block text-xs text-slate-500">{imageSummary(i)} · retired {formatDateTime(i.retiredAt)}</span>
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </div>
    </>
  );
}
