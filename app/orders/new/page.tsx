import type { Metadata } from "next";
import { getDb } from "@/lib/db/client";
import { listCatalog } from "@/lib/db/queries/catalog";
import { planHosts } from "@/lib/db/queries/plan";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { OrderForm } from "@/components/orders/OrderForm";

export const metadata: Metadata = { title: "New order" };

export default async function NewOrderPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const image = typeof params.image === "string" ? params.image : undefined;
  const user = await requireUser(`/orders/new${image ? `?image=${encodeURIComponent(image)}` : ""}`);
  const db = await getDb();
  const catalog = await listCatalog(db);
  const hostsToPlan = user.role === "admin" ? await planHosts(db) : null;
  return (
    <>
      <PageHeader title="Order an environment" description="Fields are checked as you type; the portal checks them again when you submit." />
      <OrderForm
        images={catalog.images.map((i) => ({ slug: i.slug, name: i.name, os: i.os, version: i.version, purpose: i.purpose, sizeMb: i.sizeMb, hostKinds: i.hostKinds }))}
        flavors={catalog.flavors.map((f) => ({ slug: f.slug, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.diskGb, cpuCap: f.cpuCap }))}
        networks={catalog.networks.filter((n) => n.purpose === "production").map((n) => ({ slug: n.slug, name: n.name, cidr: n.cidr }))}
        initialImage={catalog.images.some((i) => i.slug === image) ? image : undefined}
        planHosts={hostsToPlan}
      />
    </>
  );
}
