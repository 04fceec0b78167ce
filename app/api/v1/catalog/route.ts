import { z } from "zod";
import { apiRoute, json } from "@/lib/api/handler";
import { listCatalog } from "@/lib/catalog/queries";

export const dynamic = "force-dynamic";

const filter = z.object({ os: z.enum(["linux", "solaris"]).optional(), kind: z.enum(["sim", "qemu", "xen", "zones"]).optional() });

export const GET = apiRoute({}, async ({ db, req }) => {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const catalog = await listCatalog(db, filter.parse(params));
  return json({
    images: catalog.images.map((i) => ({
      id: i.id, slug: i.slug, name: i.name, description: i.description, os: i.os, version: i.version,
      hostKinds: i.hostKinds, source: i.source, rootType: i.rootType, purpose: i.purpose, sizeMb: i.sizeMb, licensed: i.licensed,
      recipe: i.recipeSlug,
    })),
    flavors: catalog.flavors.map((f) => ({
      id: f.id, slug: f.slug, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.diskGb, cpuCap: f.cpuCap, memoryCapMb: f.memoryCapMb,
    })),
    networks: catalog.networks.map((n) => ({ id: n.id, slug: n.slug, name: n.name, purpose: n.purpose, cidr: n.cidr })),
  });
});
