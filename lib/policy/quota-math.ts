/**
 * Quota arithmetic, apart from the database: what an order needs, what is left, and the
 * refusal in numbers. The order form loads this file too (no server imports here).
 *
 * Licensed cores: for images marked licensed (per-CPU licences, e.g. a database in a capped
 * zone), the CPUs the licence is paid for: the flavor's CPU cap rounded up, else its vCPUs.
 */
export const quotaResources = ["environments", "vcpus", "memoryMb", "diskGb", "licensedCores"] as const;
export type QuotaResource = (typeof quotaResources)[number];
export type Amounts = Record<QuotaResource, number>;
export type Limits = Record<QuotaResource, number | null>;

export const noLimits: Limits = { environments: null, vcpus: null, memoryMb: null, diskGb: null, licensedCores: null };
export const zero: Amounts = { environments: 0, vcpus: 0, memoryMb: 0, diskGb: 0, licensedCores: 0 };

export function licensedCoresOf(image: { licensed: boolean }, flavor: { vcpus: number; cpuCap: number | null }): number {
  if (!image.licensed) return 0;
  return Math.ceil(flavor.cpuCap ?? flavor.vcpus);
}

/** What one order of `flavor` from `image` uses. */
export function orderNeed(image: { licensed: boolean }, flavor: { vcpus: number; memoryMb: number; diskGb: number; cpuCap: number | null }): Amounts {
  return { environments: 1, vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.diskGb, licensedCores: licensedCoresOf(image, flavor) };
}

export type QuotaLine = { resource: QuotaResource; limit: number | null; used: number; left: number | null; need: number; exceeded: boolean };

/** Used, limit, left and this order's need per resource; `exceeded` when the need does not fit. */
export function quotaLines(limits: Limits, used: Amounts, need: Amounts = zero): QuotaLine[] {
  return quotaResources.map((resource) => {
    const limit = limits[resource];
    const left = limit === null ? null : Math.max(0, limit - used[resource]);
    return { resource, limit, used: used[resource], left, need: need[resource], exceeded: left !== null && need[resource] > left };
  });
}

/** "4 licensed cores", "8 GiB memory": a resource amount in words. */
export function amount(resource: QuotaResource, n: number): string {
  switch (resource) {
    case "environments":
      return `${n} environment${n === 1 ? "" : "s"}`;
    case "vcpus":
      return `${n} vCPU${n === 1 ? "" : "s"}`;
    case "memoryMb":
      return `${formatGb(n)} GiB memory`;
    case "diskGb":
      return `${n} GB disk`;
    case "licensedCores":
      return `${n} licensed core${n === 1 ? "" : "s"}`;
  }
}

const formatGb = (mb: number) => String(Math.round((mb / 1024) * 100) / 100);
const bare = (resource: QuotaResource, n: number) => (resource === "memoryMb" ? formatGb(n) : String(n));

/** "needs 4 licensed cores, 2 of 8 left in group Physics", one per exceeded resource. */
export function refusals(lines: QuotaLine[], where: string): string[] {
  return lines
    .filter((l) => l.exceeded)
    .map((l) => `needs ${amount(l.resource, l.need)}, ${bare(l.resource, l.left ?? 0)} of ${bare(l.resource, l.limit ?? 0)} left ${where}`);
}

