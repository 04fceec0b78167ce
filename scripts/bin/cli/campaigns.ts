import type { operations } from "./api";
import type { Success } from "./client";
import { emit, note, pollUntil, table, UsageError, wait, type Command, type CommandGroup, type Ctx } from "./shared";

/**
 * `portal campaign list|show|create|pause|resume` (admins, and approvers for their groups):
 * patch campaigns as /admin/campaigns has them. With --wait, create follows the campaign to its
 * end: exit 0 when it completed, 1 when it stopped (each environment says why).
 */

type Campaign = Success<operations["getCampaign"]>;

const countsText = (counts: Record<string, number> | undefined) =>
  Object.entries(counts ?? {})
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s.replace("_", " ")}`)
    .join(", ");
const ended = (status: string) => status === "completed" || status === "stopped";

function printCampaign(ctx: Ctx, c: Campaign) {
  ctx.print(`${c.name}: ${c.status}${c.reason ? ` (${c.reason})` : ""}; ${c.image?.name ?? ""} to version ${c.version?.number ?? "?"}, ${c.waveSize} a wave`);
  table(
    ctx.print,
    ["ENVIRONMENT", "OWNER", "WAVE", "STATUS", "FROM", "NOW", "NOTE"],
    (c.targets ?? []).map((t) => [t.name, t.owner, t.wave ?? "", t.status, t.fromVersion ?? "", t.imageVersion ?? "", t.error ?? t.note ?? ""]),
  );
}

function follow(ctx: Ctx, id: string): Promise<Campaign> {
  return pollUntil(ctx, () => ctx.api().call("get", "/api/v1/campaigns/{id}", { params: { id } }), {
    ended: (c) => ended(c.status),
    line: (c) => `  … ${c.status}, wave ${c.wave ?? 0}: ${countsText(c.counts)}`,
    stuck: (c, secs) => `still ${c.status} after ${secs} s (portal campaign show ${id})`,
    everyMs: 1000,
  });
}

const int = (ctx: Ctx, name: string): number | undefined => {
  const v = ctx.values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} is a whole number`);
  return n;
};

const subcommands: Record<string, Command> = {
  list: {
    usage: "portal campaign list",
    summary: "The patch campaigns you manage, newest first, with how many environments are in each state.",
    async run(ctx) {
      const { campaigns } = await ctx.api().call("get", "/api/v1/campaigns");
      emit(ctx, campaigns, () =>
        table(ctx.print, ["ID", "NAME", "STATUS", "IMAGE", "ENVIRONMENTS"], campaigns.map((c) => [c.id, c.name, c.status, c.image?.slug ?? "", countsText(c.counts)])),
      );
    },
  },
  show: {
    usage: "portal campaign show <campaign id>",
    summary: "A campaign: each environment's wave, state, versions, and why it failed or waits.",
    args: ["campaign id"],
    async run(ctx) {
      const c = await ctx.api().call("get", "/api/v1/campaigns/{id}", { params: { id: ctx.args[0]! } });
      emit(ctx, c, () => printCampaign(ctx, c));
    },
  },
  create: {
    usage:
      "portal campaign create --image <slug> (--group <slug> | --outdated [--group <slug>]) --wave-size <n> (--max-failures <n> | --max-failures-percent <p>) --start <time> --end <time> [--version <n>] [--name <text>] [--wait [--timeout <s>]]",
    summary: "Start a patch campaign: the image's environments reinstalled to a version, a wave at a time within the window, each backed up first.",
    options: {
      image: { type: "string" }, group: { type: "string" }, outdated: { type: "boolean" }, "wave-size": { type: "string" }, "max-failures": { type: "string" },
      "max-failures-percent": { type: "string" }, start: { type: "string" }, end: { type: "string" }, version: { type: "string" }, name: { type: "string" }, ...wait,
    },
    async run(ctx) {
      const v = ctx.values;
      if (!v.image) throw new UsageError("name the image: --image <slug>");
      if (!v.group && !v.outdated) throw new UsageError("choose the environments: --group <slug> or --outdated");
      if (!v.start || !v.end) throw new UsageError("give the window: --start <time> --end <time> (e.g. 2026-12-06 22:00, UTC)");
      const count = int(ctx, "max-failures");
      const percent = int(ctx, "max-failures-percent");
      if ((count === undefined) === (percent === undefined)) throw new UsageError("give one of --max-failures <n> or --max-failures-percent <p>");
      const version = int(ctx, "version");
      const c = await ctx.api().call("post", "/api/v1/campaigns", {
        body: {
          image: String(v.image),
          targets: { ...(v.group ? { group: String(v.group) } : {}), ...(v.outdated ? { outdated: true as const } : {}) },
          window: { start: String(v.start), end: String(v.end) },
          waveSize: int(ctx, "wave-size") ?? 1,
          failureThreshold: count !== undefined ? { count } : { percent: percent! },
          ...(version !== undefined ? { version } : {}),
          ...(v.name ? { name: String(v.name) } : {}),
        },
      });
      const line = `${c.id}: ${c.name} ${c.status}, ${c.targets?.length ?? c.environments ?? 0} environment(s)`;
      if (!v.wait) return emit(ctx, c, () => ctx.print(line));
      note(ctx)(line);
      const done = await follow(ctx, c.id);
      emit(ctx, done, () => printCampaign(ctx, done));
      return done.status === "completed" ? 0 : 1;
    },
  },
  ...Object.fromEntries(
    (
      [
        ["pause", "No new wave starts; what runs now finishes."],
        ["resume", "Resume a paused campaign."],
      ] as const
    ).map(([verb, summary]): [string, Command] => [
      verb,
      {
        usage: `portal campaign ${verb} <campaign id>`,
        summary,
        args: ["campaign id"],
        async run(ctx) {
          const c = await ctx.api().call("post", `/api/v1/campaigns/{id}/${verb}`, { params: { id: ctx.args[0]! } });
          emit(ctx, c, () => ctx.print(`${c.name}: ${c.status}`));
        },
      },
    ]),
  ),
};

export const campaignCommands: Record<string, CommandGroup> = {
  campaign: {
    usage: "portal campaign list|show|create|pause|resume ...",
    summary: "Patch campaigns: reinstall an image's environments to a new version, a wave at a time.",
    subcommands,
  },
};
