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
/** Progress goes to stderr under --json, so that stdout carries the JSON alone. */
export const progress = (ctx: Ctx) => progressPrinter(ctx.json ? (l) => process.stderr.write(`${l}\n`) : ctx.print);

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

