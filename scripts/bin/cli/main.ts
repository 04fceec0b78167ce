import { parseArgs } from "node:util";
import { ApiError, PortalApi, statusText } from "./client";
import { commands, UsageError, type Command, type CommandGroup, type Ctx, type Values } from "./commands";
import { configFile, readConfig, type Config } from "./config";

/**
 * `portal <command>`: the portal from a terminal or a script, with an API token kept in the
 * user's config folder. Exit codes: 0 done (an order with --wait: ready), 1 refused or failed
 * (the message says why, with the HTTP status), 2 a usage error or not logged in.
 */

const isGroup = (c: Command | CommandGroup | undefined): c is CommandGroup => !!c && "subcommands" in c;

function usage(print: (l: string) => void, c: { usage: string; summary: string }) {
  print(`usage: ${c.usage} [--json]`);
  print("");
  print(c.summary);
}

function help(print: (l: string) => void, name?: string, sub?: string) {
  const c = name ? commands[name] : undefined;
  if (isGroup(c)) {
    const s = sub ? c.subcommands[sub] : undefined;
    if (s) return usage(print, s);
    usage(print, c);
    print("");
    for (const one of Object.values(c.subcommands)) {
      print(`  ${one.usage}`);
      print(`      ${one.summary}`);
    }
    return;
  }
  if (c) return usage(print, c);
  print("usage: portal <command> [options] [--json]");
  print("");
  print("The environment portal from the command line. Every command takes --json (the API's JSON on stdout, for scripts).");
  print("The portal and token come from `portal login` (or PORTAL_URL and PORTAL_TOKEN).");
  print("");
  for (const [n, c] of Object.entries(commands)) print(`  ${n.padEnd(13)} ${c.summary.split(". ")[0].replace(/\.$/, "")}`);
  print("");
  print("portal help <command> for its options. Exit codes: 0 done, 1 refused or failed, 2 usage error or not signed in.");
}

/** `portal snapshots take ...`: the subcommand of a group, with the arguments after it. */
function resolve(name: string, rest: string[]): { command: Command; label: string; rest: string[] } {
  const c = commands[name]!;
  if (!isGroup(c)) return { command: c, label: name, rest };
  const [sub, ...after] = rest;
  const names = Object.keys(c.subcommands).join(", ");
  if (!sub || sub.startsWith("-")) throw new UsageError(`${name} needs one of: ${names} (portal help ${name})`);
  const command = c.subcommands[sub];
  if (!command) throw new UsageError(`${name} has no "${sub}"; it has ${names} (portal help ${name})`);
  return { command, label: `${name} ${sub}`, rest: after };
}

export async function main(argv: string[]): Promise<number> {
  const print = (line: string) => void process.stdout.write(`${line}\n`);
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    help(print, rest[0], rest[1]);
    return name ? 0 : 2;
  }
  const named = commands[name];
  if (!named) {
    process.stderr.write(`portal: unknown command "${name}"; see portal help\n`);
    return 2;
  }
  let json = rest.includes("--json");
  try {
    if (isGroup(named) && (rest.includes("--help") || rest.includes("-h")) && !Object.hasOwn(named.subcommands, rest[0] ?? "")) {
      help(print, name);
      return 0;
    }
    const { command: leaf, label, rest: args } = resolve(name, rest);
    const { values, positionals } = parseArgs({ args, options: { ...leaf.options, json: { type: "boolean" }, help: { type: "boolean" } }, allowPositionals: true, strict: true });
    json = Boolean(values.json);
    if (values.help) {
      usage(print, leaf);
      return 0;
    }
    const command = leaf;
    const expected = command.args ?? [];
    if (positionals.length !== expected.length) {
      throw new UsageError(expected.length ? `give the ${expected.join(", ")}: ${command.usage}` : `${label} takes no arguments: ${command.usage}`);
    }
    let config: Config | null | undefined;
    const loaded = () => {
      config ??= process.env.PORTAL_URL && process.env.PORTAL_TOKEN ? { url: process.env.PORTAL_URL, token: process.env.PORTAL_TOKEN } : readConfig();
      if (!config) throw new UsageError(`not signed in: run portal login --url <portal> first (nothing in ${configFile()})`);
      return config;
    };
    let api: PortalApi | undefined;
    const ctx: Ctx = { values: values as Values, args: positionals, json, print, api: () => (api ??= new PortalApi(loaded().url, loaded().token)) };
    return (await command.run(ctx)) ?? 0;
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const status = err instanceof ApiError ? err.status : undefined;
    const message = (err as Error).message;
    if (json) {
      process.stderr.write(`${JSON.stringify({ error: message, ...(status ? { status } : {}), ...(err instanceof ApiError && err.fields ? { fields: err.fields } : {}) })}\n`);
    } else {
      const http = status ? `HTTP ${status}${statusText(status) ? ` ${statusText(status)}` : ""}: ` : "";
      process.stderr.write(`portal: ${http}${message}${err instanceof ApiError && err.requestId ? ` (request ${err.requestId})` : ""}\n`);
      if (err instanceof ApiError && err.fields) for (const [f, msgs] of Object.entries(err.fields)) process.stderr.write(`  ${f}: ${msgs.join("; ")}\n`);
      if (status === 401 && name !== "login") process.stderr.write("  (the token is not valid any more: portal login again)\n");
    }
    return usage ? 2 : 1;
  }
}
