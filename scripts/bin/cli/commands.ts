import os from "node:os";
import { formatDateTime, formatMemory } from "../../../components/format";
import { signIn } from "../../lib.mjs";
import { ApiError, PortalApi, type Order } from "./client";
import { configFile, readConfig, removeConfig, writeConfig } from "./config";
import { followOrder, progressPrinter, SETTLED } from "./follow";
import { askHidden, readStdin } from "./io";
import { day2Commands } from "./day2";
import { consoleCommand } from "./console";
import { serviceIpCommands } from "./service-ips";
import { fleetCommands } from "./fleet";
import { campaignCommands } from "./campaigns";
import { emit, environmentOf, one, progress, seconds, table, UsageError, wait, type Command, type CommandGroup, type Ctx } from "./shared";

export { UsageError, type Command, type CommandGroup, type Ctx, type Values } from "./shared";

/** The client's commands: what each takes, and what it asks the portal. */

function describeOrder(print: (l: string) => void, o: Order) {
  print(`${o.name}  ${o.id}`);
  print(`  status:   ${o.status.replace(/_/g, " ")}${o.reason ? ` (${o.reason})` : ""}`);
  print(`  image:    ${o.image?.name ?? ""} (${o.image?.slug ?? ""}), size ${o.flavor?.name ?? ""} (${o.flavor?.slug ?? ""})`);
  print(`  owner:    ${o.owner ?? ""}, group ${o.group ?? ""}`);
  print(`  ordered:  ${formatDateTime(o.createdAt)}${o.readyAt ? `, ready ${formatDateTime(o.readyAt)}` : ""}`);
  const env = o.environment;
  if (env?.id) {
    print(`  host:     ${env.hostname} on ${env.host} (${env.state})`);
    for (const a of env.addresses ?? []) print(`  address:  ${a.ip} (${a.network}, MAC ${a.mac})`);
  }
  if (o.steps.length) {
    print("  steps:");
    for (const s of o.steps) print(`    ${s.status.padEnd(9)} ${s.label}${s.error ? `: ${s.error}` : ""}`);
  }
}

async function powerAction(ctx: Ctx, action: "start" | "stop") {
  const { order, environmentId } = await environmentOf(ctx);
  const path = action === "start" ? "/api/v1/environments/{id}/start" : "/api/v1/environments/{id}/stop";
  const queued = await ctx.api().call("post", path, { params: { id: environmentId } });
  const target = action === "start" ? "running" : "stopped";
  if (!ctx.values.wait) return emit(ctx, queued, () => ctx.print(`${order.name}: ${action} queued (follow it with: portal show ${order.id})`));
  const last = await followOrder(ctx.api(), order.id, (o) => o.environment?.state === target || o.environment?.state === "error", () => {}, seconds(ctx));
  const state = last.environment?.state;
  emit(ctx, last, () => ctx.print(`${order.name}: ${state}`));
  return state === target ? 0 : 1;
}

export const commands: Record<string, Command | CommandGroup> = {
  login: {
    usage: "portal login --url <portal> [--token-stdin | --email <e-mail> [--directory] [--password-stdin]] [--name <token name>]",
    summary:
      "Sign in and keep an API token in your config folder (mode 0600). Without --email, paste a token from the portal's Account page " +
      "(asked for, or read from standard input with --token-stdin); with --email, sign in with your password (a directory account with " +
      "--directory, where --email may be your user name) and the portal makes a token for this client.",
    options: { url: { type: "string" }, "token-stdin": { type: "boolean" }, email: { type: "string" }, directory: { type: "boolean" }, "password-stdin": { type: "boolean" }, name: { type: "string" } },
    async run(ctx) {
      const url = String(ctx.values.url ?? process.env.PORTAL_URL ?? "").replace(/\/+$/, "");
      if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError("give the portal's address: --url https://portal.example.org");
      let token: string;
      let created = false;
      if (ctx.values.email) {
        const password = ctx.values["password-stdin"] ? await readStdin() : await askHidden(`Password for ${ctx.values.email}: `);
        // Says why it failed, with the HTTP status, when it does.
        const cookie = await signIn(url, String(ctx.values.email), password, { provider: ctx.values.directory ? "ldap" : "credentials" });
        const res = await fetch(`${url}/api/v1/tokens`, {
          method: "POST",
          headers: { cookie, origin: url, "content-type": "application/json" },
          body: JSON.stringify({ name: String(ctx.values.name ?? `portal CLI on ${os.hostname()}`).slice(0, 100) }),
        });
        if (!res.ok) throw new ApiError(res.status, `could not create an API token: ${await res.text()}`);
        token = ((await res.json()) as { token: string }).token;
        created = true;
      } else {
        token = (ctx.values["token-stdin"] ? await readStdin() : await askHidden("API token (Account page of the portal): ")).trim();
      }
      const api = new PortalApi(url, token);
      const me = await api.call("get", "/api/v1/me");
      const mine = await api.call("get", "/api/v1/tokens");
      const tokenId = mine.tokens.find((t) => t.prefix && token.startsWith(t.prefix))?.id;
      // Only a token this client made is revoked at logout; a pasted one may serve elsewhere too.
      writeConfig({ url, token, email: me.email, ...(created && tokenId ? { tokenId } : {}) });
      emit(ctx, { url, email: me.email, role: me.role, configFile: configFile() }, () =>
        ctx.print(`Signed in to ${url} as ${me.email} (${me.role}); the token is kept in ${configFile()}`),
      );
    },
  },
  logout: {
    usage: "portal logout",
    summary: "Forget the token (and revoke it at the portal when this client made it).",
    async run(ctx) {
      const config = readConfig();
      if (config?.tokenId) {
        await new PortalApi(config.url, config.token).call("delete", "/api/v1/tokens/{id}", { params: { id: config.tokenId } }).catch((err: unknown) => {
          if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 404)) throw err;
        });
      }
      removeConfig();
      emit(ctx, { signedOut: Boolean(config) }, () => ctx.print(config ? `Signed out of ${config.url}` : "Not signed in"));
    },
  },
  whoami: {
    usage: "portal whoami",
    summary: "Who the token belongs to: e-mail, role, how they sign in, groups.",
    async run(ctx) {
      const me = await ctx.api().call("get", "/api/v1/me");
      emit(ctx, me, () => {
        ctx.print(`${me.email} (${me.name}): ${me.role}, signs in with ${me.authSource === "local" ? "a local password" : me.authSource === "ldap" ? "the directory" : "single sign-on"}`);
        for (const g of me.groups) ctx.print(`  ${g.as} in ${g.name} (${g.slug})`);
      });
    },
  },
  catalog: {
    usage: "portal catalog",
    summary: "Images and sizes you can order.",
    async run(ctx) {
      const c = await ctx.api().call("get", "/api/v1/catalog");
      emit(ctx, c, () => {
        ctx.print("Images:");
        table(ctx.print, ["IMAGE", "OS", "NAME"], c.images.map((i) => [i.slug, i.os, i.name]));
        ctx.print("");
        ctx.print("Sizes:");
        table(ctx.print, ["FLAVOR", "VCPUS", "MEMORY", "DISK", "NAME"], c.flavors.map((f) => [f.slug, f.vcpus, formatMemory(f.memoryMb ?? 0), `${f.diskGb} GiB`, f.name]));
      });
    },
  },
  order: {
    usage: "portal order --image <slug> --flavor <slug> --name <hostname> [--purpose test|development|database|web] [--lease-days <n>] [--network <slug>] [--group <slug>] [--wait [--timeout <s>]]",
    summary: "Order an environment. With --wait, follow its delivery step by step; the exit code is 0 only when it is ready.",
    options: { image: { type: "string" }, flavor: { type: "string" }, name: { type: "string" }, purpose: { type: "string" }, "lease-days": { type: "string" }, network: { type: "string" }, group: { type: "string" }, ...wait },
    async run(ctx) {
      const missing = ["image", "flavor", "name"].filter((k) => !ctx.values[k]);
      if (missing.length) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(", ")}`);
      const leaseDays = ctx.values["lease-days"] === undefined ? undefined : Number(ctx.values["lease-days"]);
      const created = await ctx.api().call("post", "/api/v1/orders", {
        body: {
          image: String(ctx.values.image),
          flavor: String(ctx.values.flavor),
          name: String(ctx.values.name),
          ...(ctx.values.purpose ? { purpose: String(ctx.values.purpose) as "test" } : {}),
          ...(leaseDays !== undefined ? { leaseDays } : {}),
          ...(ctx.values.network ? { network: String(ctx.values.network) } : {}),
          ...(ctx.values.group ? { group: String(ctx.values.group) } : {}),
        },
      });
      if (!ctx.values.wait) {
        return emit(ctx, created, () => ctx.print(`Ordered ${ctx.values.name}: ${created.id}, ${created.status.replace(/_/g, " ")}${created.reason ? ` (${created.reason})` : ""}`));
      }
      if (!ctx.json) ctx.print(`Ordered ${ctx.values.name}: ${created.id}`);
      const last = await followOrder(ctx.api(), created.id, (o) => SETTLED.includes(o.status), progress(ctx), seconds(ctx));
      emit(ctx, last, () => {
        if (last.status !== "ready") return;
        const env = last.environment;
        ctx.print(`Ready: ${env?.hostname} on ${env?.host}`);
        for (const a of env?.addresses ?? []) ctx.print(`  ${a.ip} (${a.network}, MAC ${a.mac})`);
      });
      return last.status === "ready" ? 0 : 1;
    },
  },
  orders: {
    usage: "portal orders [--all | --approvals]",
    summary: "Your orders, newest first (--all: everyone's, for admins; --approvals: the orders waiting for your decision).",
    options: { all: { type: "boolean" }, approvals: { type: "boolean" } },
    async run(ctx) {
      if (ctx.values.all && ctx.values.approvals) throw new UsageError("--all or --approvals, not both");
      const scope = ctx.values.all ? "all" : ctx.values.approvals ? "approvals" : "mine";
      const page = await ctx.api().call("get", "/api/v1/orders", { query: { scope } });
      emit(ctx, page, () => {
        if (!page.orders.length) return ctx.print("No orders.");
        table(ctx.print, ["ID", "NAME", "STATUS", "IMAGE", "FLAVOR", "OWNER", "ORDERED"], page.orders.map((o) => [o.id, o.name, o.status, o.imageSlug, o.flavor, o.owner, formatDateTime(o.createdAt)]));
        if (page.hasMore) ctx.print("(more on the portal's Orders page)");
      });
    },
  },
  show: {
    usage: "portal show <order id>",
    summary: "An order: its status, steps, host and addresses.",
    args: ["order id"],
    async run(ctx) {
      const o = await ctx.api().call("get", "/api/v1/orders/{id}", { params: { id: one(ctx) } });
      emit(ctx, o, () => describeOrder(ctx.print, o));
    },
  },
  approve: {
    usage: "portal approve <order id> [--reason <text>] [--override]",
    summary: "Approve a held order (approvers of its group, admins); --override with a reason when its pre-flight failed.",
    args: ["order id"],
    options: { reason: { type: "string" }, override: { type: "boolean" } },
    async run(ctx) {
      const r = await ctx.api().call("post", "/api/v1/orders/{id}/approve", {
        params: { id: one(ctx) },
        body: { ...(ctx.values.reason ? { reason: String(ctx.values.reason) } : {}), ...(ctx.values.override ? { override: true } : {}) },
      });
      emit(ctx, r, () => ctx.print(`${r.id}: ${r.status}`));
    },
  },
  reject: {
    usage: "portal reject <order id> --reason <text>",
    summary: "Reject a held order; the customer reads the reason.",
    args: ["order id"],
    options: { reason: { type: "string" } },
    async run(ctx) {
      if (!ctx.values.reason) throw new UsageError("give the customer a reason: --reason <text>");
      const r = await ctx.api().call("post", "/api/v1/orders/{id}/reject", { params: { id: one(ctx) }, body: { reason: String(ctx.values.reason) } });
      emit(ctx, r, () => ctx.print(`${r.id}: ${r.status}`));
    },
  },
  stop: {
    usage: "portal stop <order id> [--wait [--timeout <s>]]",
    summary: "Stop a delivered environment (disk and addresses stay); --wait until it is stopped.",
    args: ["order id"],
    options: wait,
    run: (ctx) => powerAction(ctx, "stop"),
  },
  start: {
    usage: "portal start <order id> [--wait [--timeout <s>]]",
    summary: "Start a stopped environment; --wait until it runs.",
    args: ["order id"],
    options: wait,
    run: (ctx) => powerAction(ctx, "start"),
  },
  destroy: {
    usage: "portal destroy <order id> --yes [--wait [--timeout <s>]]",
    summary: "Destroy a delivered environment and free its addresses (asks for --yes); --wait until it is retired.",
    args: ["order id"],
    options: { yes: { type: "boolean" }, ...wait },
    async run(ctx) {
      if (!ctx.values.yes) throw new UsageError("destroying cannot be undone: add --yes");
      const r = await ctx.api().call("post", "/api/v1/orders/{id}/destroy", { params: { id: one(ctx) } });
      if (!ctx.values.wait) return emit(ctx, r, () => ctx.print(`${r.id}: ${r.status}`));
      const last = await followOrder(ctx.api(), r.id, (o) => o.final, progress(ctx), seconds(ctx));
      emit(ctx, last, () => ctx.print(`${last.name}: ${last.status}`));
      return last.status === "retired" ? 0 : 1;
    },
  },
  ...day2Commands,
  ...serviceIpCommands,
  ...fleetCommands,
  ...campaignCommands,
  console: consoleCommand,
};
