import type { Metadata } from "next";
import { getDb } from "@/lib/db/client";
import { listCatalog } from "@/lib/catalog/queries";
import { shownHostKinds } from "@/lib/catalog/host-kinds";
import { planHosts } from "@/lib/orders/plan";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { OrderForm } from "@/components/orders/OrderForm";
import { myQuotas } from "@/lib/policy/quota";
import { settingsOf } from "@/lib/policy/groups";
import { getSshKey } from "@/lib/users/ssh-keys";

export const metadata: Metadata = { title: "New order" };

export default async function NewOrderPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const image = typeof params.image === "string" ? params.image : undefined;
  const user = await requireUser(`/orders/new${image ? `?image=${encodeURIComponent(image)}` : ""}`);
  const db = await getDb();
  const [catalog, quotas, sshKey] = await Promise.all([listCatalog(db), myQuotas(db, user.id), getSshKey(db, user.id)]);
  // Catalog orders go to the user's pools; a course's lab machine comes from the course page.
  const pools = quotas.groups.filter((g) => g.kind !== "course");
  // What each of the user's groups may order, by slug (empty: everything).
  // A list that names only entries no longer in the catalog offers nothing ("-" matches no slug).
  const slugs = <T extends { id: string; slug: string }>(rows: T[], ids: string[]) => {
    const found = rows.filter((r) => ids.includes(r.id)).map((r) => r.slug);
    return ids.length && found.length === 0 ? ["-"] : found;
  };
  const offers = new Map(
    await Promise.all(
      pools.map(async (g) => {
        const s = await settingsOf(db, g.id);
        return [g.id, { image: slugs(catalog.images, s.imageIds), flavor: slugs(catalog.flavors, s.flavorIds), network: slugs(catalog.networks, s.networkIds) }] as const;
      }),
    ),
  );
  const hostsToPlan = user.role === "admin" ? await planHosts(db) : null;
  return (
    <>
      <PageHeader title="Order an environment" description="Fields are checked as you type; the portal checks them again when you submit." />
      <OrderForm
        images={catalog.images.map((i) => ({ slug: i.slug, name: i.name, os: i.os, version: i.version, purpose: i.purpose, sizeMb: i.sizeMb, hostKinds: shownHostKinds(user.role, i.hostKinds), licensed: i.licensed, recipe: i.recipeSlug }))}
        flavors={catalog.flavors.map((f) => ({ slug: f.slug, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.diskGb, cpuCap: f.cpuCap }))}
        networks={catalog.networks.filter((n) => n.purpose === "production").map((n) => ({ slug: n.slug, name: n.name, cidr: n.cidr }))}
        initialImage={catalog.images.some((i) => i.slug === image) ? image : undefined}
        groups={pools.map((g) => ({ slug: g.slug, name: g.name, lines: g.lines, offers: offers.get(g.id)! }))}
        userQuota={{ email: quotas.user.email, lines: quotas.user.lines }}
        planHosts={hostsToPlan}
        hasSshKey={sshKey.fingerprint !== null}
      />
    </>
  );
}
