import type { operations } from "./api";
import { ApiError, type Success } from "./client";
import { emit, note, pollUntil, table, UsageError, wait, type Command, type CommandGroup, type Ctx } from "./shared";

/**
 * `portal host list|evacuate|evacuation|stop-evacuation` (admins): the hypervisor hosts, and
 * host maintenance as the host's page has it. A host is named by its id or its name. With
 * --wait, evacuate follows the evacuation to its end: exit 0 when the host ended offline and
 * empty, 1 when something stayed (each move says why).
 */

type Host = Success<operations["listHosts"]>["hosts"][number];
type Evacuation = Success<operations["getEvacuation"]>;

async function allHosts(ctx: Ctx): Promise<Host[]> {
  const found: Host[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.api().call("get", "/api/v1/hosts", { query: { limit: 500, ...(cursor ? { cursor } : {}) } });
    found.push(...page.hosts);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return found;
}

/** The host named by `ref` (its id or its name). */
async function hostOf(ctx: Ctx, ref: string): Promise<{ id: string; name: string }> {
  const host = (await allHosts(ctx)).find((h) => h.id === ref || h.name === ref);
  if (!host?.id) throw new ApiError(404, `no host "${ref}" (portal host list shows them)`);
  return { id: host.id, name: host.name ?? ref };
}

const counts = (e: Evacuation) =>
  `${e.counts.moved} of ${e.counts.total} moved${e.counts.moving ? `, ${e.counts.moving} moving` : ""}${e.counts.pending ? `, ${e.counts.pending} waiting` : ""}${e.counts.failed ? `, ${e.counts.failed} not moved` : ""}`;

function printEvacuation(ctx: Ctx, e: Evacuation) {
  ctx.print(`${e.host?.name ?? e.hostKind}: evacuation ${e.status} (${counts(e)})${e.outcome ? `: ${e.outcome}` : ""}`);
  table(
    ctx.print,
    ["ENVIRONMENT", "FROM", "TO", "STATUS", "MODE", "DOWNTIME", "REASON"],
    e.moves.map((m) => [m.environment.hostname, m.from.name, m.to?.name ?? "", m.status, m.mode ?? "", m.downtimeMs === null ? "" : `${m.downtimeMs} ms`, m.reason ?? ""]),
  );
}

/** Follows an evacuation until it has ended, a line each time its counts change. */
function follow(ctx: Ctx, id: string): Promise<Evacuation> {
  return pollUntil(ctx, () => ctx.api().call("get", "/api/v1/evacuations/{id}", { params: { id } }), {
    ended: (e) => e.status !== "running",
    line: (e) => `  … ${counts(e)}`,
    stuck: (e, secs) => `still running after ${secs} s (portal host evacuation ${e.host?.name ?? id})`,
    everyMs: 500,
  });
}

const subcommands: Record<string, Command> = {
  list: {
    usage: "portal host list",
    summary: "The hypervisor hosts: kind, state, environments and memory in use.",
    async run(ctx) {
      const hosts = await allHosts(ctx);
      emit(ctx, hosts, () =>
        table(
          ctx.print,
          ["NAME", "KIND", "STATE", "ENVIRONMENTS", "MEMORY USED"],
          hosts.map((h) => [h.name, h.kind, h.state, h.used?.environments, h.used && h.capacity ? `${h.used.memoryMb} of ${h.capacity.memoryMb} MiB` : ""]),
        ),
      );
    },
  },
  evacuate: {
    usage: "portal host evacuate <host> [--parallel <1-8>] [--wait [--timeout <s>]]",
    summary: "Drain a host and move every environment off it, --parallel at a time (default 2); --wait until it has ended.",
    args: ["host"],
    options: { parallel: { type: "string" }, ...wait },
    async run(ctx) {
      const host = await hostOf(ctx, ctx.args[0]!);
      const parallel = ctx.values.parallel === undefined ? undefined : Number(ctx.values.parallel);
      if (parallel !== undefined && !Number.isInteger(parallel)) throw new UsageError("--parallel is a whole number from 1 to 8");
      const started = await ctx.api().call("post", "/api/v1/hosts/{id}/evacuate", { params: { id: host.id }, body: parallel === undefined ? {} : { parallel } });
      if (!ctx.values.wait) return emit(ctx, started, () => ctx.print(`${host.name}: draining; evacuation ${started.id} moves ${started.counts.total} environment(s), ${started.parallel} at a time`));
      note(ctx)(`${host.name}: draining; moving ${started.counts.total} environment(s), ${started.parallel} at a time`);
      const done = await follow(ctx, started.id);
      emit(ctx, done, () => printEvacuation(ctx, done));
      return done.status === "completed" ? 0 : 1;
    },
  },
  evacuation: {
    usage: "portal host evacuation <host>",
    summary: "The host's latest evacuation: each environment's move, target, mode, downtime, or why it did not move.",
    args: ["host"],
    async run(ctx) {
      const host = await hostOf(ctx, ctx.args[0]!);
      const e = await ctx.api().call("get", "/api/v1/hosts/{id}/evacuation", { params: { id: host.id } });
      emit(ctx, e, () => printEvacuation(ctx, e));
    },
  },
  "stop-evacuation": {
    usage: "portal host stop-evacuation <host>",
    summary: "Stop the host's running evacuation: moves not yet started stay, those under way finish; the host stays draining.",
    args: ["host"],
    async run(ctx) {
      const host = await hostOf(ctx, ctx.args[0]!);
      const latest = await ctx.api().call("get", "/api/v1/hosts/{id}/evacuation", { params: { id: host.id } });
      const e = await ctx.api().call("post", "/api/v1/evacuations/{id}/stop", { params: { id: latest.id } });
      emit(ctx, e, () => ctx.print(`${host.name}: evacuation stopping (${counts(e)}); the host stays draining`));
    },
  },
};

export const fleetCommands: Record<string, CommandGroup> = {
  host: {
    usage: "portal host list|evacuate|evacuation|stop-evacuation ...",
    summary: "Hypervisor hosts and their maintenance (admins): list them, evacuate one, follow or stop its evacuation.",
    subcommands,
  },
};
