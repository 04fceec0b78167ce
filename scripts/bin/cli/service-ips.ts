import type { operations } from "./api";
import { ApiError, type Success } from "./client";
import { emit, pollUntil, table, UsageError, wait, type Command, type CommandGroup, type Ctx } from "./shared";

/**
 * `portal service-ip reserve|list|show|attach|detach|release`: a group's service IPs from the
 * command line, as the Service IPs page has them. A service IP is named by its id or its name;
 * an environment by its id or its name (the order's name). With --wait, attach and detach
 * follow the change to its end (exit 0 done, 1 failed) and print a move's downtime.
 */

type ServiceIp = Success<operations["getServiceIp"]>;
type Move = NonNullable<ServiceIp["lastMove"]>;


/** The service IP named by `ref` (its id, or a name unique among those you may see). */
async function serviceIpOf(ctx: Ctx, ref: string): Promise<ServiceIp> {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) return ctx.api().call("get", "/api/v1/service-ips/{id}", { params: { id: ref } });
  const found: ServiceIp[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.api().call("get", "/api/v1/service-ips", { query: { limit: 500, ...(cursor ? { cursor } : {}) } });
    found.push(...page.serviceIps.filter((s) => s.name === ref));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (found.length > 1) throw new UsageError(`${found.length} service IPs are named "${ref}" (in ${found.map((s) => s.group.slug).join(", ")}): give its id (portal service-ip list)`);
  if (!found.length) throw new ApiError(404, `no service IP "${ref}" (portal service-ip list shows them)`);
  return found[0]!;
}

function where(s: ServiceIp): string {
  if (s.pending) return `${s.pending.kind} ${s.pending.status}${s.pending.to ? ` to ${s.pending.to.name}` : ""}`;
  return s.environment ? s.environment.name : "not attached";
}

function moveText(m: Move | null | undefined): string {
  if (!m) return "";
  if (m.status === "failed") return `${m.kind} failed: ${m.error ?? ""}`;
  if (m.status !== "succeeded") return `${m.kind} ${m.status}`;
  const downtime = m.kind === "move" ? (m.downtimeMs !== null && m.downtimeMs !== undefined ? `, downtime ${m.downtimeMs} ms` : ", downtime not measured") : "";
  return `${m.kind} ${m.from?.name ?? ""}${m.kind === "move" ? " -> " : ""}${m.to?.name ?? ""} in ${m.totalMs ?? "?"} ms${downtime}`.replace(/\s+/g, " ");
}

/** Follows the change `moveId` of the service IP until it has ended. */
function follow(ctx: Ctx, id: string, moveId: string): Promise<ServiceIp> {
  const move = (s: ServiceIp) => s.moves?.find((x) => x.id === moveId);
  return pollUntil(ctx, () => ctx.api().call("get", "/api/v1/service-ips/{id}", { params: { id } }), {
    ended: (s) => move(s)?.status === "succeeded" || move(s)?.status === "failed",
    line: (s) => `  … ${move(s)?.status ?? "queued"}`,
    stuck: (s, secs) => `still ${move(s)?.status ?? "queued"} after ${secs} s (portal service-ip show ${s.name})`,
    everyMs: 500,
  });
}

function ended(ctx: Ctx, s: ServiceIp, moveId: string): number {
  const m = s.moves?.find((x) => x.id === moveId);
  emit(ctx, s, () => ctx.print(m?.status === "succeeded" ? `${s.name} (${s.ip}): ${moveText(m)}` : `${s.name} (${s.ip}): ${m?.kind ?? "change"} failed: ${m?.error ?? "see portal service-ip show"}`));
  return m?.status === "succeeded" ? 0 : 1;
}

const subcommands: Record<string, Command> = {
  reserve: {
    usage: "portal service-ip reserve <name> --network <slug> [--group <slug>]",
    summary: "Reserve the lowest free address of a network for your group (or the group named); it points nowhere until attached.",
    args: ["name"],
    options: { network: { type: "string" }, group: { type: "string" } },
    async run(ctx) {
      if (!ctx.values.network) throw new UsageError("name the network: --network <slug> (portal networks lists them)");
      const s = await ctx.api().call("post", "/api/v1/service-ips", {
        body: { name: ctx.args[0]!, network: String(ctx.values.network), ...(ctx.values.group ? { group: String(ctx.values.group) } : {}) },
      });
      emit(ctx, s, () => ctx.print(`${s.name}: ${s.ip} on ${s.network.name}, group ${s.group.slug} (not attached)`));
    },
  },
  list: {
    usage: "portal service-ip list [--network <slug>]",
    summary: "The service IPs you may see, where each points and its last change.",
    options: { network: { type: "string" } },
    async run(ctx) {
      const all: ServiceIp[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.api().call("get", "/api/v1/service-ips", { query: { limit: 500, ...(cursor ? { cursor } : {}), ...(ctx.values.network ? { network: String(ctx.values.network) } : {}) } });
        all.push(...page.serviceIps);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      emit(ctx, { serviceIps: all }, () =>
        all.length ? table(ctx.print, ["NAME", "ADDRESS", "NETWORK", "GROUP", "POINTS TO", "LAST CHANGE"], all.map((s) => [s.name, s.ip, s.network.slug, s.group.slug, where(s), moveText(s.lastMove)])) : ctx.print("no service IPs"),
      );
    },
  },
  show: {
    usage: "portal service-ip show <name or id>",
    summary: "One service IP: where it points and its last changes, each move with its downtime.",
    args: ["name or id"],
    async run(ctx) {
      const s = await ctx.api().call("get", "/api/v1/service-ips/{id}", { params: { id: (await serviceIpOf(ctx, ctx.args[0]!)).id } });
      emit(ctx, s, () => {
        ctx.print(`${s.name}  ${s.id}`);
        ctx.print(`  address:  ${s.ip} on ${s.network.name} (${s.network.cidr}), group ${s.group.slug}`);
        ctx.print(`  points to: ${where(s)}`);
        for (const m of s.moves ?? []) ctx.print(`  ${m.createdAt}  ${moveText(m)}`);
      });
    },
  },
  attach: {
    usage: "portal service-ip attach <name or id> --environment <order name or environment id> [--wait [--timeout <s>]]",
    summary: "Point the service IP at a running environment of its group on its network; one that points elsewhere moves in one step. --wait until it answers there.",
    args: ["name or id"],
    options: { environment: { type: "string" }, ...wait },
    async run(ctx) {
      if (!ctx.values.environment) throw new UsageError("name the environment: --environment <order name or environment id>");
      const s = await serviceIpOf(ctx, ctx.args[0]!);
      const r = await ctx.api().call("post", "/api/v1/service-ips/{id}/attach", { params: { id: s.id }, body: { environment: String(ctx.values.environment) } });
      if (!r.moveId) return emit(ctx, r, () => ctx.print(`${r.name}: already points at ${r.environment?.name}`));
      if (!ctx.values.wait) return emit(ctx, r, () => ctx.print(`${r.name} (${r.ip}): ${r.pending?.kind ?? "attach"} queued (portal service-ip show ${r.name})`));
      return ended(ctx, await follow(ctx, s.id, r.moveId), r.moveId);
    },
  },
  detach: {
    usage: "portal service-ip detach <name or id> [--wait [--timeout <s>]]",
    summary: "Take the service IP off the environment it points at.",
    args: ["name or id"],
    options: wait,
    async run(ctx) {
      const s = await serviceIpOf(ctx, ctx.args[0]!);
      const r = await ctx.api().call("post", "/api/v1/service-ips/{id}/detach", { params: { id: s.id } });
      if (!ctx.values.wait || !r.actionId || !r.moveId) return emit(ctx, r, () => ctx.print(`${r.name} (${r.ip}): detach ${r.actionId ? "queued" : "done"}`));
      return ended(ctx, await follow(ctx, s.id, r.moveId), r.moveId);
    },
  },
  release: {
    usage: "portal service-ip release <name or id>",
    summary: "Release a service IP that points nowhere: its address goes back to the network.",
    args: ["name or id"],
    async run(ctx) {
      const s = await serviceIpOf(ctx, ctx.args[0]!);
      const r = await ctx.api().call("delete", "/api/v1/service-ips/{id}", { params: { id: s.id } });
      emit(ctx, r, () => ctx.print(`${s.name}: released (${s.ip} is free again)`));
    },
  },
};

export const serviceIpCommands: Record<string, CommandGroup> = {
  "service-ip": {
    usage: "portal service-ip reserve|list|show|attach|detach|release ...",
    summary: "Service IPs: addresses of a network that belong to your group and move between its environments.",
    subcommands,
  },
};
