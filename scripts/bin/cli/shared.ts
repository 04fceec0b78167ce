import { setTimeout as sleep } from "node:timers/promises";
import type { ParseArgsConfig } from "node:util";
import { ApiError, type Order, type PortalApi } from "./client";
import { progressPrinter } from "./follow";

/** What the client's commands share: their shape, arguments, output and the order they act on. */

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;
export type Ctx = { values: Values; args: string[]; json: boolean; print: (line: string) => void; api: () => PortalApi };
export type Command = { usage: string; summary: string; options?: Options; args?: string[]; run: (ctx: Ctx) => Promise<number | void> };
/** A command of commands: `portal snapshots take ...`. */
export type CommandGroup = { usage: string; summary: string; subcommands: Record<string, Command> };

/** Wrong arguments, or not signed in: exit code 2. */
export class UsageError extends Error {}

export const wait = { wait: { type: "boolean" }, timeout: { type: "string" } } as const satisfies Options;

export const one = (ctx: Ctx) => ctx.args[0]!;
export const emit = (ctx: Ctx, data: unknown, human: () => void) => (ctx.json ? ctx.print(JSON.stringify(data, null, 2)) : human());
export const seconds = (ctx: Ctx) => {
  const t = ctx.values.timeout === undefined ? 3600 : Number(ctx.values.timeout);
  if (!Number.isFinite(t) || t <= 0) throw new UsageError("--timeout is a number of seconds");
  return t * 1000;
};
/** A line that is not the command's result: to stderr under --json, so that stdout carries the JSON alone. */
export const note = (ctx: Ctx) => (ctx.json ? (l: string) => void process.stderr.write(`${l}\n`) : ctx.print);
/** Progress goes to stderr under --json, so that stdout carries the JSON alone. */
export const progress = (ctx: Ctx) => progressPrinter(note(ctx));

/**
 * Reads something every `everyMs` until `ended` says it has ended, printing its `line` each
 * time that changes; past --timeout it gives up with `stuck`'s message (exit 1).
 */
export async function pollUntil<T>(
  ctx: Ctx,
  read: () => Promise<T>,
  opts: { ended: (x: T) => boolean; line: (x: T) => string; stuck: (x: T, seconds: number) => string; everyMs: number },
): Promise<T> {
  const say = note(ctx);
  const deadline = Date.now() + seconds(ctx);
  let last = "";
  for (;;) {
    const x = await read();
    if (opts.ended(x)) return x;
    const line = opts.line(x);
    if (line !== last) say(line);
    last = line;
    if (Date.now() > deadline) throw new ApiError(0, opts.stuck(x, Math.round(seconds(ctx) / 1000)));
    await sleep(opts.everyMs);
  }
}

/** Columns padded to their widest cell. */
export function table(print: (l: string) => void, head: string[], rows: (string | number | null | undefined)[][]) {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? "" : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const r of cells) print(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd());
}

/** The environment of a delivered order (the day-2 commands act on it). */
export async function environmentOf(ctx: Ctx): Promise<{ order: Order; environmentId: string }> {
  const order = await ctx.api().call("get", "/api/v1/orders/{id}", { params: { id: one(ctx) } });
  if (!order.environment?.id) throw new ApiError(409, `${order.name} has no environment (it is ${order.status.replace(/_/g, " ")})`);
  return { order, environmentId: order.environment.id };
}

