/**
 * Recipes through the API, on simulated hosts: the list with each recipe's parameters as JSON
 * Schema; an admin attaches a recipe to a catalog item; an order with bad parameters, settings,
 * accounts or uploads is refused with the field named and nothing is created; a good order is
 * delivered with its recipe, accounts and settings recorded by the host, the recipe's steps and
 * outputs on the order, and its generated password shown to the owner once, then gone.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as recipesRoute from "@/app/api/v1/recipes/route";
import * as recipeRoute from "@/app/api/v1/recipes/[slug]/route";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as imageRoute from "@/app/api/v1/images/[id]/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as secretsRoute from "@/app/api/v1/orders/[id]/secrets/route";
import * as catalogRoute from "@/app/api/v1/catalog/route";
import { orderSecrets, orders, orderUploads } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitForOrder, type Actor } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let customer: Actor;
let token: string;
let adminToken: string;
let imageSlug: string;
const dir = mkdtempSync("/tmp/portal-recipes-");
const aliceKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

/** A .tar.gz made by GNU tar from `entries` (path -> content), with tar's own options. */
function tarball(name: string, entries: Record<string, string>, tarArgs: string[] = []): string {
  const src = path.join(dir, name);
  for (const [p, content] of Object.entries(entries)) {
    mkdirSync(path.dirname(path.join(src, p)), { recursive: true });
    writeFileSync(path.join(src, p), content);
  }
  const out = path.join(dir, `${name}.tar.gz`);
  execFileSync("tar", ["-czf", out, ...tarArgs, "-C", src, ...Object.keys(entries)]);
  return readFileSync(out).toString("base64");
}

async function ordersOfCustomer() {
  const [{ n }] = await db.select({ n: count() }).from(orders).where(eq(orders.userId, customer.id));
  return n;
}

async function submit(body: Record<string, unknown>) {
  return invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: imageSlug, flavor: "small", name: unique("web"), ...body } });
}

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  customer = await makeUser(db, "customer", group.slug);
  token = await tokenFor(db, customer);
  adminToken = await tokenFor(db, admin);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("recipes", () => {
  it("lists each recipe with its parameters as JSON Schema, its fields, steps, settings and outputs", async () => {
    const list = await invoke(recipesRoute.GET, "GET", "/api/v1/recipes", { token });
    expect(list.status).toBe(200);
    const web = list.body.recipes.find((r: { slug: string }) => r.slug === "web");
    expect(web).toMatchObject({
      version: "1.0",
      name: "Web service",
      images: expect.arrayContaining(["web-qemu"]),
      steps: [{ name: "content" }, { name: "service" }, { name: "check" }].map((s) => expect.objectContaining(s)),
      settings: { sysctl: expect.arrayContaining(["net.core.somaxconn"]), env: expect.arrayContaining(["APP_MODE"]) },
    });
    expect(web.parameters).toMatchObject({ type: "object", additionalProperties: false, properties: { title: { type: "string", maxLength: 120 }, body: { type: "string" } } });
    expect(web.fields.map((f: { name: string; kind: string }) => `${f.name}:${f.kind}`)).toEqual(["title:text", "body:textarea", "site:file"]);
    expect(web.fields.find((f: { name: string }) => f.name === "site").maxBytes).toBe(2 * 1024 * 1024);
    expect(web.outputs.map((o: { name: string; kind: string }) => `${o.name}:${o.kind}`)).toEqual(["url:url", "adminPassword:secret"]);

    const one = await invoke(recipeRoute.GET, "GET", "/api/v1/recipes/web", { token, params: { slug: "web" } });
    expect(one.body).toEqual(web);
    const none = await invoke(recipeRoute.GET, "GET", "/api/v1/recipes/nope", { token, params: { slug: "nope" } });
    expect(none.status).toBe(404);
  });

  it("an admin attaches a recipe to a catalog item; an unknown recipe is refused with the field", async () => {
    imageSlug = unique("web-sim");
    const base = { slug: imageSlug, name: "Web service (simulated)", os: "linux", version: "1", hostKinds: ["sim"], source: "clone", purpose: "web", sizeMb: 100 };
    const bad = await invoke(imagesRoute.POST, "POST", "/api/v1/images", { token: adminToken, body: { ...base, recipeSlug: "wordpress" } });
    expect(bad.status).toBe(422);
    expect(bad.body.fields.recipeSlug[0]).toMatch(/^Recipe is one of .*web/);
    const made = await invoke(imagesRoute.POST, "POST", "/api/v1/images", { token: adminToken, body: { ...base, recipeSlug: "web" } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.recipeSlug).toBe("web");
    const catalog = await invoke(catalogRoute.GET, "GET", "/api/v1/catalog", { token });
    expect(catalog.body.images.find((i: { slug: string }) => i.slug === imageSlug).recipe).toBe("web");
    // Without the recipe and back: the change is the admin's to make.
    const off = await invoke(imageRoute.PATCH, "PATCH", `/api/v1/images/${made.body.id}`, { token: adminToken, params: { id: made.body.id }, body: { recipeSlug: null } });
    expect(off.body.recipeSlug).toBeNull();
    const on = await invoke(imageRoute.PATCH, "PATCH", `/api/v1/images/${made.body.id}`, { token: adminToken, params: { id: made.body.id }, body: { recipeSlug: "web" } });
    expect(on.body.recipeSlug).toBe("web");
  });

  it("refuses bad parameters, settings, accounts and uploads with the field named, and creates nothing", async () => {
    const before = await ordersOfCustomer();
    const cases: { body: Record<string, unknown>; field: string; message: RegExp; status?: number }[] = [
      { body: { recipe: { title: "x".repeat(121) } }, field: "recipe.title", message: /at most 120/ },
      { body: { recipe: { title: "a\u0007b" } }, field: "recipe.title", message: /without control characters/ },
      { body: { recipe: { colour: "red" } }, field: "recipe.colour", message: /Unknown field/ },
      { body: { settings: { sysctl: { "kernel.panic": "1" } } }, field: "settings.sysctl.kernel.panic", message: /allows the sysctl settings net\.core\.somaxconn/ },
      { body: { settings: { sysctl: { "net.core.somaxconn": "1; reboot" } } }, field: "settings.sysctl.net.core.somaxconn", message: /sysctl value holds/ },
      { body: { settings: { env: { APP_MODE: "$(id)" } } }, field: "settings.env.APP_MODE", message: /A value holds/ },
      { body: { settings: { env: { PATH: "/tmp" } } }, field: "settings.env.PATH", message: /allows the variables APP_ENV/ },
      { body: { accounts: [{ name: "root" }] }, field: "accounts.0.name", message: /taken by the system/ },
      { body: { accounts: [{ name: "Alice" }] }, field: "accounts.0.name", message: /lowercase/ },
      { body: { accounts: [{ name: "alice", groups: ["wheel"] }] }, field: "accounts.0.groups.0", message: /system's/ },
      { body: { accounts: [{ name: "alice" }, { name: "alice" }] }, field: "accounts.1.name", message: /already an account/ },
      { body: { accounts: [{ name: "alice", sshKeys: "ssh-ed25519 AAAA$(reboot)" }] }, field: "accounts.0.sshKeys", message: /form|base64/ },
      { body: { accounts: [{ name: "alice", shell: "/bin/bash" }] }, field: "accounts.0.shell", message: /Unknown field/ },
      { body: { uploads: { site: { name: "site.tar.gz", data: tarball("abs", { "etc/passwd": "x" }, ["--absolute-names", "--transform", "s,^,/,"]) } } }, field: "uploads.site", message: /absolute path/ },
      { body: { uploads: { site: { name: "site.tar.gz", data: tarball("dots", { "index.html": "x" }, ["--transform", "s,^,../,"]) } } }, field: "uploads.site", message: /leads out of the site's folder/ },
      { body: { uploads: { site: { name: "site.tar.gz", data: Buffer.from("not a tarball").toString("base64") } } }, field: "uploads.site", message: /not gzip-compressed/ },
      { body: { uploads: { site: { name: "big.tar.gz", data: Buffer.alloc(2 * 1024 * 1024 + 1).toString("base64") } } }, field: "uploads.site", message: /at most 2048 KiB/ },
      { body: { uploads: { logo: { name: "logo.png", data: "aGk=" } } }, field: "uploads.logo", message: /takes no file named logo/ },
    ];
    for (const c of cases) {
      const res = await submit(c.body);
      expect(res.status, JSON.stringify(c.body).slice(0, 200)).toBe(c.status ?? 422);
      expect(res.body.fields?.[c.field]?.[0], `${c.field}: ${JSON.stringify(res.body)}`).toMatch(c.message);
    }
    // A NUL anywhere in the body is refused before any check.
    const nul = await submit({ recipe: { title: "a\u0000b" } });
    expect([400, 422]).toContain(nul.status);
    // A bare image takes no recipe parameters or settings.
    const bare = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: "linux-test", flavor: "small", name: unique("bare"), recipe: { title: "x" }, settings: { sysctl: { "net.core.somaxconn": "1" } } } });
    expect(bare.status).toBe(422);
    expect(bare.body.fields.recipe[0]).toMatch(/no recipe/);
    expect(bare.body.fields["settings.sysctl.net.core.somaxconn"][0]).toMatch(/no system settings/);

    expect(await ordersOfCustomer()).toBe(before);
  });

  it("delivers the order with its recipe, accounts and settings; the order shows the recipe's steps and address; the password is shown once", async () => {
    const site = tarball("good", { "index.html": "<h1>hello</h1>", "css/site.css": "h1{}" });
    const res = await submit({
      recipe: { title: "Team page" },
      uploads: { site: { name: "good.tar.gz", data: site } },
      accounts: [{ name: "alice", groups: ["deploy"], sshKeys: aliceKey }, { name: "bob" }],
      settings: { sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "production" } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    const [stored] = await db.select().from(orders).where(eq(orders.id, id));
    expect(stored.recipe).toEqual({ slug: "web", version: "1.0", params: { title: "Team page" } });
    expect(stored.accounts!.map((a) => [a.name, a.uid])).toEqual([["alice", 1001], ["bob", 1002]]);
    const [upload] = await db.select().from(orderUploads).where(eq(orderUploads.orderId, id));
    expect(upload).toMatchObject({ field: "site", fileName: "good.tar.gz", sha256: createHash("sha256").update(Buffer.from(site, "base64")).digest("hex") });

    await waitForOrder(db, id, ["ready", "failed"], 60_000);
    const view = (await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token, params: { id } })).body;
    expect(view.status).toBe("ready");
    const glue = view.steps.find((s: { name: string }) => s.name === "glue").log.map((l: { line: string }) => l.line);
    expect(glue).toEqual(expect.arrayContaining([
      "account alice (uid 1001) in deploy, 1 SSH key(s)",
      "account bob (uid 1002)",
      "sysctl net.core.somaxconn=1024",
      "service environment: APP_MODE",
      expect.stringMatching(/^recipe web 1\.0: \/etc\/portal\/web\/site\.tar\.gz, /),
    ]));
    expect(view.recipe.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([["content", "succeeded"], ["service", "succeeded"], ["check", "succeeded"]]);
    const production = view.environment.addresses.find((a: { purpose: string }) => a.purpose === "production").ip;
    expect(view.recipe.outputs.find((o: { name: string }) => o.name === "url").value).toBe(`http://${production}/`);
    expect(view.recipe.outputs.find((o: { name: string }) => o.name === "adminPassword")).toMatchObject({ value: null, secret: { available: true, revealedAt: null } });
    expect(view.accounts).toEqual([{ name: "alice", uid: 1001, groups: ["deploy"], keys: 1 }, { name: "bob", uid: 1002, groups: [], keys: 0 }]);
    expect(view.settings).toEqual({ sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "production" } });

    // Not the admin's to see, though the admin sees the order.
    const byAdmin = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${id}/secrets`, { token: adminToken, params: { id } });
    expect(byAdmin.status).toBe(403);
    const first = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${id}/secrets`, { token, params: { id } });
    expect(first.status).toBe(200);
    expect(first.body.secrets).toEqual([{ name: "adminPassword", label: expect.any(String), value: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) }]);
    const password = first.body.secrets[0].value as string;
    const second = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${id}/secrets`, { token, params: { id } });
    expect(second.body.secrets).toEqual([]);
    expect(second.body.note).toMatch(/shown before/);
    const [secret] = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, id));
    expect(secret).toMatchObject({ value: null, hash: createHash("sha256").update(password).digest("hex"), revealedBy: customer.id });
    const after = (await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token, params: { id } })).body;
    expect(after.recipe.outputs.find((o: { name: string }) => o.name === "adminPassword").secret).toMatchObject({ available: false, revealedAt: expect.any(String) });
    expect(JSON.stringify(after)).not.toContain(password);
  });
});
