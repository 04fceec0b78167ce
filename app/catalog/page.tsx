import type { Metadata } from "next";
import { recipeFormBySlug } from "@/lib/recipes/forms";
import Link from "next/link";
import { getDb } from "@/lib/db/client";
import { listCatalog, type CatalogFilter } from "@/lib/catalog/queries";
import { shownHostKinds } from "@/lib/catalog/host-kinds";
import { groupsOf } from "@/lib/policy/groups";
import { hostKinds } from "@/lib/db/schema";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { SelectFilterForm } from "@/components/SelectFilterForm";
import { formatMemory, formatSize, hostKindLabels, osLabels } from "@/components/format";
import { TableHead } from "@/components/TableHead";

export const metadata: Metadata = { title: "Catalog" };

type Search = Record<string, string | string[] | undefined>;

function one(v: string | string[] | undefined) {
  return Array.isArray(v) ? v[0] : v;
}

function parseFilter(params: Search, kinds: readonly string[]): CatalogFilter {
  const os = one(params.os);
  const kind = one(params.kind);
  return {
    os: os === "linux" || os === "solaris" ? os : undefined,
    kind: kind && kinds.includes(kind) ? kind : undefined,
  };
}

const purposeLabels: Record<string, string> = { test: "Test", development: "Development", database: "Database", web: "Web service" };

export default async function CatalogPage({ searchParams }: { searchParams: Promise<Search> }) {
  const params = await searchParams;
  const asked = parseFilter(params, hostKinds);
  const query = new URLSearchParams(Object.entries(asked).filter(([, v]) => v) as [string, string][]).toString();
  const user = await requireUser(`/catalog${query ? `?${query}` : ""}`);
  const kinds = shownHostKinds(user.role, hostKinds);
  // A host kind the user is not shown is not theirs to filter by either.
  const filter = parseFilter(params, kinds);
  const db = await getDb();
  const [catalog, groups] = await Promise.all([listCatalog(db, filter), groupsOf(db, user.id)]);
  const images = catalog.images.map((i) => ({ ...i, hostKinds: shownHostKinds(user.role, i.hostKinds) }));
  const flavors = catalog.flavors;
  const filtered = Boolean(filter.os || filter.kind);
  // Catalog orders go to a customer group; course groups hand out lab machines on Courses only.
  const canOrder = groups.some((g) => g.kind !== "course");

  return (
    <>
      <PageHeader
        title="Image catalog"
        description="Choose an image, then a size and a network. Orders are delivered by the deploy pipeline, usually within minutes."
      />

      {canOrder ? null : (
        <p role="status" className="mb-6 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="catalog-no-group">
          {user.role === "student" ? (
            <>Your lab machines come from your courses: <Link prefetch={false} href="/courses" className="font-medium underline">open Courses</Link>. </>
          ) : null}
          Ordering from the catalog needs a customer group, and you are not in one yet: ask an admin to add you to one.
        </p>
      )}

      <SelectFilterForm action="/catalog" label="Filter images" className="card mb-6 flex flex-wrap items-end gap-4 p-4">
        <div className="w-full sm:w-auto">
          <label htmlFor="filter-os" className="field-label">Operating system</label>
          <select id="filter-os" name="os" defaultValue={filter.os ?? ""} className="field-input min-w-40">
            <option value="">Any</option>
            <option value="linux">Linux</option>
            <option value="solaris">Solaris</option>
          </select>
        </div>
        <div className="w-full sm:w-auto">
          <label htmlFor="filter-kind" className="field-label">Hypervisor</label>
          <select id="filter-kind" name="kind" defaultValue={filter.kind ?? ""} className="field-input min-w-44">
            <option value="">Any</option>
            {kinds.map((k) => (
              <option key={k} value={k}>{hostKindLabels[k] ?? k}</option>
            ))}
          </select>
        </div>
        {/* With JavaScript each choice applies at once (SelectFilterForm). */}
        <noscript>
          <button type="submit" className="btn btn-secondary w-full py-2 sm:w-auto">Apply filters</button>
        </noscript>
        {filtered ? <Link prefetch={false} href="/catalog" className="py-2 text-sm font-medium text-sky-700 hover:underline">Clear filters</Link> : null}
        <p className="ml-auto self-center text-sm text-slate-500" aria-live="polite">
          {images.length} {images.length === 1 ? "image" : "images"}
        </p>
      </SelectFilterForm>

      {images.length === 0 ? (
        <div className="card p-10 text-center text-slate-600">
          No image matches these filters. <Link prefetch={false} href="/catalog" className="font-medium text-sky-700 hover:underline">Show all images</Link>
        </div>
      ) : (
        <ul className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3" aria-label="Images">
          {images.map((image) => (
            <li key={image.id} className="card flex flex-col p-5" data-testid="catalog-image" data-slug={image.slug}>
              <div className="flex items-start justify-between gap-3">
                <div className="min-w-0">
                  <h2 className="text-base">{image.name}</h2>
                  <p className="text-sm text-slate-500">{image.version}</p>
                </div>
                <span
                  className={`rounded-md px-2 py-0.5 text-xs font-semibold ${image.os === "linux" ? "bg-sky-100 text-sky-800" : "bg-violet-100 text-violet-800"}`}
                >
                  {osLabels[image.os]}
                </span>
              </div>
              <p className="mt-3 flex-1 text-sm text-slate-700">{image.description}</p>
              <dl className="mt-4 grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
                <dt className="text-slate-500">Purpose</dt>
                <dd className="text-slate-800">{purposeLabels[image.purpose] ?? image.purpose}</dd>
                <dt className="text-slate-500">Image size</dt>
                <dd className="text-slate-800">{formatSize(image.sizeMb)}</dd>
                <dt className="text-slate-500">Built by</dt>
                <dd className="text-slate-800">{image.source === "install-file" ? "install file" : image.source}</dd>
                {image.recipeSlug ? (
                  <>
                    <dt className="text-slate-500">Recipe</dt>
                    <dd className="text-slate-800" data-testid="catalog-recipe">{recipeFormBySlug(image.recipeSlug)?.name ?? image.recipeSlug}, set up at first boot</dd>
                  </>
                ) : null}
                {image.rootType ? (
                  <>
                    <dt className="text-slate-500">Zone root</dt>
                    <dd className="text-slate-800">{image.rootType} root</dd>
                  </>
                ) : null}
              </dl>
              <div className="mt-4 flex flex-wrap gap-1.5">
                {image.hostKinds.length ? <span className="sr-only">Runs on:</span> : null}
                {image.hostKinds.map((k) => (
                  <span key={k} className="rounded bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700">{hostKindLabels[k] ?? k}</span>
                ))}
                {image.licensed ? (
                  <span className="rounded bg-amber-100 px-2 py-0.5 text-xs font-medium text-amber-800" title="Licensed per CPU: deploy with a CPU cap">
                    per-CPU licence
                  </span>
                ) : null}
              </div>
              {canOrder ? (
                <div className="mt-5 border-t border-slate-100 pt-4">
                  <Link prefetch={false}
                    href={`/orders/new?image=${encodeURIComponent(image.slug)}`}
                    className="btn btn-primary w-full"
                    aria-label={`Order ${image.name}`}
                  >
                    Order
                  </Link>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}

      <section className="mt-10" aria-labelledby="flavors-heading">
        <h2 id="flavors-heading" className="mb-3">Sizes</h2>
        <div className="card overflow-x-auto">
          <table className="table table-stack">
            <TableHead columns={["Size", "vCPUs", "Memory", "Disk", "Cap"]} />
            <tbody>
              {flavors.map((f) => (
                <tr key={f.id}>
                  <td className="font-medium text-slate-900">{f.name}</td>
                  <td data-label="vCPUs">{f.vcpus}</td>
                  <td data-label="Memory">{formatMemory(f.memoryMb)}</td>
                  <td data-label="Disk">{f.diskGb} GB</td>
                  <td data-label="Cap">
                    {f.cpuCap || f.memoryCapMb
                      ? [f.cpuCap ? `${f.cpuCap} CPUs` : null, f.memoryCapMb ? formatMemory(f.memoryCapMb) : null].filter(Boolean).join(", ")
                      : <span className="text-slate-400">uncapped</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
