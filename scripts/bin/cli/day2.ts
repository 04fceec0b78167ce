import { formatBytes, formatDateTime } from "../../../components/format";
import { ApiError, type Order } from "./client";
import { followOrder, SETTLED } from "./follow";
import { emit, environmentOf, note, progress, seconds, table, UsageError, wait, type Command, type CommandGroup, type Ctx } from "./shared";

/**
 * The day-2 commands on a delivered environment (named by its order's id, as stop and start
 * are): snapshots, backups, restore, backup policy, resize and reinstall. Each asks the API
 * what the order page's cards do; with --wait it follows the action to its end and the exit
 * code says how it ended (0 succeeded, 1 failed).
 */

type Day2 = NonNullable<NonNullable<Order["environment"]>["day2"]>[number];

/** Where human progress goes: stdout, or stderr under --json so that stdout carries the JSON alone. */

/** Follows a snapshot, revert, snapshot deletion or resize on the order until it has ended; prints what it does meanwhile. */
async function followDay2(ctx: Ctx, order: Order, actionId: string): Promise<Day2> {
  const say = note(ctx);
  let last = "";
  const find = (o: Order) => o.environment?.day2?.find((a) => a.id === actionId);
  const o = await followOrder(
    ctx.api(),
    order.id,
    (o) => ["succeeded", "failed"].includes(find(o)?.status ?? ""),
    (o) => {
      const a = find(o);
      const line = a ? `  … ${a.status}${a.note ? `: ${a.note}` : ""}` : "";
      if (line && line !== last && a?.status !== "succeeded" && a?.status !== "failed") say(line);
      last = line;
    },
    seconds(ctx),
  );
  return find(o)!;
}

/** Prints the end of a followed action and gives its exit code. */
function ended(ctx: Ctx, order: Order, a: Day2, what: string): number {
  emit(ctx, a, () => ctx.print(a.status === "succeeded" ? `${order.name}: ${what}` : `${order.name}: failed: ${a.error ?? "see the order page"}`));
  return a.status === "succeeded" ? 0 : 1;
}

/** A snapshot named by its id or its name. */
async function snapshotOf(ctx: Ctx, environmentId: string, ref: string) {
  const { snapshots } = await ctx.api().call("get", "/api/v1/environments/{id}/snapshots", { params: { id: environmentId } });
  const found = snapshots.filter((s) => s.id === ref || s.name === ref);
  if (found.length > 1) throw new UsageError(`${found.length} snapshots are named "${ref}": give its id (portal snapshots list)`);
  if (!found.length) throw new ApiError(404, `no snapshot "${ref}" (portal snapshots list shows them)`);
  return found[0]!;
}

type Backups = Awaited<ReturnType<typeof listBackups>>;
const listBackups = (ctx: Ctx, environmentId: string) => ctx.api().call("get", "/api/v1/environments/{id}/backups", { params: { id: environmentId } });

/** Polls the backups until the backup, restore or verification `actionId` no longer runs; prints its progress meanwhile. */
async function followBackupWork(ctx: Ctx, environmentId: string, actionId: string, done: (b: Backups) => boolean = () => true): Promise<Backups> {
  const say = note(ctx);
  const deadline = Date.now() + seconds(ctx);
  let last = "";
  for (;;) {
    const b = await listBackups(ctx, environmentId);
    const running = b.inProgress?.id === actionId ? b.inProgress : null;
    if (!running && done(b)) return b;
    const line = running ? `  … ${running.action} ${running.status}${running.progress ? ` ${Math.round(running.progress)}%` : ""}${running.note ? `: ${running.note}` : ""}` : "";
    if (line && line !== last) say(line);
    last = line;
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${Math.round(seconds(ctx) / 1000)} s (portal backups list shows how it goes on)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const backupLine = (b: Backups["items"][number]) =>
  b.status === "succeeded"
    ? `${b.sizeBytes != null ? formatBytes(b.sizeBytes) : "?"}, sha256 ${b.sha256?.slice(0, 12) ?? "?"}, ${b.verified ? `verified: booted and read back at ${formatDateTime(b.verifiedAt!)}` : `not verified${b.note ? `: ${b.note}` : ""}`}`
    : `${b.status}${b.note ? `: ${b.note}` : ""}`;

const snapshotCommands: Record<string, Command> = {
  list: {
    usage: "portal snapshots list <order id>",
    summary: "The environment's snapshots, oldest first.",
    args: ["order id"],
    async run(ctx) {
      const { environmentId } = await environmentOf(ctx);
      const r = await ctx.api().call("get", "/api/v1/environments/{id}/snapshots", { params: { id: environmentId } });
      emit(ctx, r, () => {
        if (!r.snapshots.length) return ctx.print("No snapshots.");
        table(ctx.print, ["NAME", "STATUS", "MEMORY", "TAKEN", "ID"], r.snapshots.map((s) => [s.name, s.status, s.withMemory ? `yes${s.sizeBytes ? ` (${formatBytes(s.sizeBytes)})` : ""}` : "no", formatDateTime(s.createdAt), s.id]));
      });
    },
  },
  take: {
    usage: "portal snapshots take <order id> --name <name> [--wait [--timeout <s>]]",
    summary: "Take a snapshot (with the guest's memory where it runs and the host saves it); --wait until it is ready.",
    args: ["order id"],
    options: { name: { type: "string" }, ...wait },
    async run(ctx) {
      if (!ctx.values.name) throw new UsageError("name the snapshot: --name <name>");
      const { order, environmentId } = await environmentOf(ctx);
      const a = await ctx.api().call("post", "/api/v1/environments/{id}/snapshots", { params: { id: environmentId }, body: { name: String(ctx.values.name) } });
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: snapshot "${ctx.values.name}" queued (portal snapshots list ${order.id})`));
      return ended(ctx, order, await followDay2(ctx, order, a.id), `snapshot "${ctx.values.name}" taken`);
    },
  },
  revert: {
    usage: "portal snapshots revert <order id> <snapshot id or name> --yes [--wait [--timeout <s>]]",
    summary: "Put the environment back to a snapshot (what changed since is lost: asks for --yes); --wait until it is back.",
    args: ["order id", "snapshot"],
    options: { yes: { type: "boolean" }, ...wait },
    async run(ctx) {
      if (!ctx.values.yes) throw new UsageError("what changed since the snapshot is lost: add --yes");
      const { order, environmentId } = await environmentOf(ctx);
      const s = await snapshotOf(ctx, environmentId, ctx.args[1]!);
      const a = await ctx.api().call("post", "/api/v1/environments/{id}/snapshots/{sid}/revert", { params: { id: environmentId, sid: s.id } });
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: revert to "${s.name}" queued`));
      return ended(ctx, order, await followDay2(ctx, order, a.id), `back at snapshot "${s.name}"`);
    },
  },
  delete: {
    usage: "portal snapshots delete <order id> <snapshot id or name> [--wait [--timeout <s>]]",
    summary: "Delete a snapshot on the host; --wait until it is gone.",
    args: ["order id", "snapshot"],
    options: wait,
    async run(ctx) {
      const { order, environmentId } = await environmentOf(ctx);
      const s = await snapshotOf(ctx, environmentId, ctx.args[1]!);
      const a = await ctx.api().call("delete", "/api/v1/environments/{id}/snapshots/{sid}", { params: { id: environmentId, sid: s.id } });
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: deleting snapshot "${s.name}"`));
      return ended(ctx, order, await followDay2(ctx, order, a.id), `snapshot "${s.name}" deleted`);
    },
  },
};

const backupCommands: Record<string, Command> = {
  list: {
    usage: "portal backups list <order id>",
    summary: "The environment's backups, newest first: status, compressed size, checksum, and whether each was verified (booted and read back).",
    args: ["order id"],
    async run(ctx) {
      const { environmentId } = await environmentOf(ctx);
      const b = await listBackups(ctx, environmentId);
      emit(ctx, b, () => {
        if (!b.items.length) ctx.print("No backups.");
        else table(ctx.print, ["ID", "TAKEN", "BACKUP"], b.items.map((i) => [i.id, formatDateTime(i.createdAt), backupLine(i)]));
        if (b.inProgress) ctx.print(`In progress: ${b.inProgress.action} (${b.inProgress.status}${b.inProgress.note ? `: ${b.inProgress.note}` : ""})`);
      });
    },
  },
  take: {
    usage: "portal backups take <order id> [--wait [--timeout <s>]]",
    summary: "Back the environment up now (a compressed, checksummed copy of its disk); --wait until it is done: exit 0 when it succeeded.",
    args: ["order id"],
    options: wait,
    async run(ctx) {
      const { order, environmentId } = await environmentOf(ctx);
      const a = await ctx.api().call("post", "/api/v1/environments/{id}/backups", { params: { id: environmentId } });
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: backup ${a.id} queued (portal backups list ${order.id})`));
      const after = await followBackupWork(ctx, environmentId, a.actionId, (b) => !["queued", "running"].includes(b.items.find((i) => i.id === a.id)?.status ?? "queued"));
      const made = after.items.find((i) => i.id === a.id)!;
      emit(ctx, made, () => ctx.print(`${order.name}: backup ${made.id} ${backupLine(made)}`));
      return made.status === "succeeded" ? 0 : 1;
    },
  },
  verify: {
    usage: "portal backups verify <order id> <backup id> [--wait [--timeout <s>]]",
    summary: "Prove a backup again: checked against its checksum, booted in a throwaway guest on a network of its own and read back; --wait for the answer (exit 0 when verified).",
    args: ["order id", "backup id"],
    options: wait,
    async run(ctx) {
      const { order, environmentId } = await environmentOf(ctx);
      const started = new Date();
      const a = await ctx.api().call("post", "/api/v1/environments/{id}/backups/{bid}/verify", { params: { id: environmentId, bid: ctx.args[1]! } });
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: verification of backup ${a.backup} queued`));
      const b = (await followBackupWork(ctx, environmentId, a.id)).items.find((i) => i.id === a.backup)!;
      const fresh = b.verified && b.verifiedAt != null && new Date(b.verifiedAt).getTime() >= started.getTime() - 1000;
      emit(ctx, b, () => ctx.print(`${order.name}: backup ${b.id} ${fresh ? backupLine(b) : `not verified${b.note ? `: ${b.note}` : ""}`}`));
      return fresh ? 0 : 1;
    },
  },
};

const policyCommands: Record<string, Command> = {
  show: {
    usage: "portal backup-policy show <order id>",
    summary: "The environment's backup policy: schedule, how many backups it keeps, when it fires next.",
    args: ["order id"],
    async run(ctx) {
      const { order, environmentId } = await environmentOf(ctx);
      const r = await ctx.api().call("get", "/api/v1/environments/{id}/backup-policy", { params: { id: environmentId } });
      emit(ctx, r, () => {
        const p = r.policy;
        if (!p) return ctx.print(`${order.name}: no backup policy (portal backup-policy set ${order.id} --schedule daily --keep-last 7)`);
        ctx.print(`${order.name}: backs up ${p.schedule === p.pattern ? `on "${p.pattern}" (UTC)` : `${p.schedule} ("${p.pattern}", UTC)`}, keeps the last ${p.keepLast}`);
        ctx.print(`  next: ${p.nextRunAt ? formatDateTime(p.nextRunAt) : "not scheduled (the worker puts it back)"}`);
      });
    },
  },
  set: {
    usage: "portal backup-policy set <order id> --schedule daily|weekly|<cron, UTC> --keep-last <n>",
    summary: 'Back the environment up on a schedule ("daily" 03:00 UTC, "weekly" Mondays 03:00 UTC, or a cron pattern in UTC) and keep the last n backups (older ones are pruned).',
    args: ["order id"],
    options: { schedule: { type: "string" }, "keep-last": { type: "string" } },
    async run(ctx) {
      const keepLast = Number(ctx.values["keep-last"]);
      if (!ctx.values.schedule || !Number.isInteger(keepLast)) throw new UsageError("give both: --schedule daily|weekly|<cron> --keep-last <n>");
      const { order, environmentId } = await environmentOf(ctx);
      const r = await ctx.api().call("put", "/api/v1/environments/{id}/backup-policy", { params: { id: environmentId }, body: { schedule: String(ctx.values.schedule), keepLast } });
      emit(ctx, r, () => ctx.print(`${order.name}: backs up ${r.policy?.schedule} ("${r.policy?.pattern}", UTC), keeps the last ${r.policy?.keepLast}; next ${r.policy?.nextRunAt ? formatDateTime(r.policy.nextRunAt) : "not scheduled"}`));
    },
  },
};

export const day2Commands: Record<string, Command | CommandGroup> = {
  snapshots: { usage: "portal snapshots list|take|revert|delete <order id> ...", summary: "Snapshots of a delivered environment: list, take, revert to one, delete one.", subcommands: snapshotCommands },
  backups: { usage: "portal backups list|take|verify <order id> ...", summary: "Backups of a delivered environment: list them, take one now, verify one.", subcommands: backupCommands },
  "backup-policy": { usage: "portal backup-policy show|set <order id> ...", summary: "The environment's backup schedule and how many backups it keeps.", subcommands: policyCommands },
  restore: {
    usage: "portal restore <order id> --backup <backup id> [--mode in-place|new] [--name <hostname>] [--wait [--timeout <s>]]",
    summary:
      "Bring the environment back from one of its backups. in-place (the default): the guest stops, its disk is replaced, it boots again with its name and addresses. " +
      "new (with --name): a new order of the same image and size gets the backup once delivered. --wait until it is back (in place) or the new order is delivered.",
    args: ["order id"],
    options: { backup: { type: "string" }, mode: { type: "string" }, name: { type: "string" }, ...wait },
    async run(ctx) {
      const mode = String(ctx.values.mode ?? "in-place");
      if (!ctx.values.backup) throw new UsageError("name the backup: --backup <backup id> (portal backups list shows them)");
      if (mode !== "in-place" && mode !== "new") throw new UsageError("--mode is in-place or new");
      if (mode === "new" && !ctx.values.name) throw new UsageError("a restore as a new environment needs its name: --name <hostname>");
      if (mode === "in-place" && ctx.values.name) throw new UsageError("--name is for --mode new; in place the environment keeps its name");
      const { order, environmentId } = await environmentOf(ctx);
      const body = mode === "new" ? { backup: String(ctx.values.backup), mode: "new" as const, name: String(ctx.values.name) } : { backup: String(ctx.values.backup), mode: "in-place" as const };
      const r = await ctx.api().call("post", "/api/v1/environments/{id}/restore", { params: { id: environmentId }, body });
      if ("order" in r) {
        const created = r.order.id!;
        if (!ctx.values.wait) return emit(ctx, r, () => ctx.print(`${ctx.values.name}: ordered as ${created} (${r.order.status?.replace(/_/g, " ")}${r.order.reason ? `: ${r.order.reason}` : ""}); it gets backup ${r.backup} once delivered`));
        const last = await followOrder(ctx.api(), created, (o) => SETTLED.includes(o.status), progress(ctx), seconds(ctx));
        emit(ctx, last, () => ctx.print(last.status === "ready" ? `${last.name}: ready on ${last.environment?.host}; the worker puts backup ${r.backup} on it next` : `${last.name}: ${last.status}`));
        return last.status === "ready" ? 0 : 1;
      }
      if (!ctx.values.wait) return emit(ctx, r, () => ctx.print(`${order.name}: restore from backup ${r.backup} queued`));
      await followBackupWork(ctx, environmentId, r.id);
      const after = await ctx.api().call("get", "/api/v1/orders/{id}", { params: { id: order.id } });
      const state = after.environment?.state;
      emit(ctx, after, () => ctx.print(state === "running" ? `${order.name}: restored from backup ${r.backup}, running` : `${order.name}: the restore ended with the environment ${state} (see the order page)`));
      return state === "running" ? 0 : 1;
    },
  },
  resize: {
    usage: "portal resize <order id> --flavor <slug> [--wait [--timeout <s>]]",
    summary: "Change the environment to another size (portal catalog lists them): it stops, gets the new CPUs, memory and caps (the disk only grows) and starts again. A size that needs approval waits for an approver. --wait until it runs at its new size.",
    args: ["order id"],
    options: { flavor: { type: "string" }, ...wait },
    async run(ctx) {
      if (!ctx.values.flavor) throw new UsageError("name the new size: --flavor <slug> (portal catalog lists them)");
      const { order, environmentId } = await environmentOf(ctx);
      const a = await ctx.api().call("post", "/api/v1/environments/{id}/resize", { params: { id: environmentId }, body: { flavor: String(ctx.values.flavor) } });
      if (a.status === "held") return emit(ctx, a, () => ctx.print(`${order.name}: resize to ${ctx.values.flavor} waits for an approver of the group`));
      if (!ctx.values.wait) return emit(ctx, a, () => ctx.print(`${order.name}: resize to ${ctx.values.flavor} queued`));
      return ended(ctx, order, await followDay2(ctx, order, a.id), `resized to ${ctx.values.flavor}`);
    },
  },
  reinstall: {
    usage: "portal reinstall <order id> --yes [--keep-data] [--wait [--timeout <s>]]",
    summary:
      "Build the environment again from its image, on the same name and addresses (asks for --yes: its snapshots are gone, and without --keep-data its files too). " +
      "--keep-data keeps the disk at /data (QEMU hosts). --wait follows the delivery until it is ready.",
    args: ["order id"],
    options: { yes: { type: "boolean" }, "keep-data": { type: "boolean" }, ...wait },
    async run(ctx) {
      if (!ctx.values.yes) throw new UsageError(`a reinstall removes the snapshots${ctx.values["keep-data"] ? "" : " and the files on the disk"}: add --yes`);
      const { order, environmentId } = await environmentOf(ctx);
      const r = await ctx.api().call("post", "/api/v1/environments/{id}/reinstall", { params: { id: environmentId }, body: { keepData: Boolean(ctx.values["keep-data"]) } });
      if (!ctx.values.wait) return emit(ctx, r, () => ctx.print(`${order.name}: reinstall queued (follow it with: portal show ${order.id})`));
      const last = await followOrder(ctx.api(), order.id, (o) => o.run?.id === r.runId && SETTLED.includes(o.status) && o.run?.status !== "running" && o.run?.status !== "queued", progress(ctx), seconds(ctx));
      emit(ctx, last, () => ctx.print(`${last.name}: ${last.status}`));
      return last.status === "ready" ? 0 : 1;
    },
  },
};
