/**
 * The "Web service" catalog item on real QEMU guests: one order with a page title and text,
 * an added account with its own key, a sysctl value and a variable for the service; a second
 * order with a site uploaded as a .tar.gz. Both are booted once, at the same time. From the
 * host's side of the guest network (`ip netns exec <host's namespace>`) the pages answer with
 * the order's content; the account logs in with its key and is in its groups; the guest has
 * the sysctl value and the service sees the variable; the private area's password is shown to
 * the owner once and then only its hash is kept.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as secretsRoute from "@/app/api/v1/orders/[id]/secrets/route";
import { orderSecrets } from "@/lib/db/schema";
import { invoke } from "../helpers/http";
import { bootPortal, unique } from "../helpers/portal";
import { netnsName, type QemuHosts } from "../helpers/qemu-hosts";
import { placeOrder, pinServiceHostKey, readyView, startQemuCustomer, type QemuCustomer } from "../helpers/qemu-orders";
import { guestSsh, newOwnerKey } from "../helpers/guest-ssh";

const run = promisify(execFile);
const { db } = await bootPortal();
const BOOT_MS = 300_000;
const dir = mkdtempSync("/tmp/pq-web-");
const ownerKey = path.join(dir, "owner");
const aliceKey = path.join(dir, "alice");
const knownHosts = path.join(dir, "known_hosts");
const title = `Team <wiki> & notes ${unique("t")}`;
const siteText = `uploaded ${unique("site")}\n`;
let customer: QemuCustomer | undefined;
let qemu: QemuHosts;
let token: string;
let pageOrder: string;
let siteOrder: string;

type OrderView = {
  status: string;
  steps: { name: string; status: string; error: string | null; log: { line: string }[] }[];
  environment: { hostname: string; host: string; addresses: { purpose: string; ip: string }[] };
  recipe: {
    slug: string;
    steps: { name: string; status: string; startedAt: string | null; finishedAt: string | null }[];
    outputs: { name: string; kind: string; value: string | null; secret: { available: boolean; revealedAt: string | null } | null }[];
  } | null;
  accounts: { name: string; uid: number; groups: string[]; keys: number }[];
};

async function view(id: string): Promise<OrderView> {
  const res = await invoke(orderRoute.GET, "GET", `/api/v1/orders/${id}`, { token, params: { id } });
  expect(res.status).toBe(200);
  return res.body as OrderView;
}

function nsOf(v: OrderView): string {
  return netnsName(qemu.hosts.find((h) => h.name === v.environment.host)!);
}

/** GET from the host's side of the guest network (busybox wget); the body, or the error text. */
async function httpGet(netns: string, url: string): Promise<{ ok: boolean; body: string }> {
  try {
    const { stdout } = await run("ip", ["netns", "exec", netns, "busybox", "wget", "-q", "-O", "-", url], { timeout: 30_000 });
    return { ok: true, body: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, body: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function siteArchive(): string {
  const src = path.join(dir, "site");
  mkdirSync(path.join(src, "docs"), { recursive: true });
  writeFileSync(path.join(src, "index.html"), `<!doctype html><title>uploaded</title><p>${siteText}</p>\n`);
  writeFileSync(path.join(src, "docs", "readme.txt"), siteText);
  const file = path.join(dir, "site.tar.gz");
  return file;
}

beforeAll(async () => {
  customer = await startQemuCustomer(db, { ownerKey });
  ({ qemu, token } = customer);
  const alicePub = await newOwnerKey(aliceKey);
  const archive = siteArchive();
  await run("tar", ["-czf", archive, "-C", path.join(dir, "site"), "."]);

  pageOrder = await placeOrder(token, {
    image: "web-qemu", flavor: "small", name: unique("web"),
    recipe: { title, body: "First paragraph.\n\nSecond <b>not bold</b>." },
    accounts: [{ name: "alice", groups: ["deploy", "users"], sshKeys: alicePub }],
    settings: { sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "production mode" } },
  });
  siteOrder = await placeOrder(token, { image: "web-qemu", flavor: "small", name: unique("site"), uploads: { site: { name: "site.tar.gz", data: readFileSync(archive).toString("base64") } } });
  for (const id of [pageOrder, siteOrder]) await readyView(db, token, id, BOOT_MS);
}, BOOT_MS + 120_000);

afterAll(async () => {
  await customer?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("the web service on a QEMU guest", () => {
  it("serves the order's title and text, escaped, at the URL the order page names; the recipe's steps ran in order", async () => {
    const v = await view(pageOrder);
    const production = v.environment.addresses.find((a) => a.purpose === "production")!.ip;
    const url = v.recipe!.outputs.find((o) => o.name === "url")!.value;
    expect(url).toBe(`http://${production}/`);
    const page = await httpGet(nsOf(v), url!);
    expect(page.ok, page.body).toBe(true);
    expect(page.body).toContain(`<h1>${title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</h1>`);
    expect(page.body).toContain("<p>Second &lt;b&gt;not bold&lt;/b&gt;.</p>");

    expect(v.recipe!.steps.map((s) => [s.name, s.status])).toEqual([["content", "succeeded"], ["service", "succeeded"], ["check", "succeeded"]]);
    const times = v.recipe!.steps.flatMap((s) => [s.startedAt!, s.finishedAt!]).map((t) => Date.parse(t));
    expect(times.every(Number.isFinite)).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("serves the uploaded site's files", async () => {
    const v = await view(siteOrder);
    const url = v.recipe!.outputs.find((o) => o.name === "url")!.value!;
    const index = await httpGet(nsOf(v), url);
    expect(index.body).toContain(siteText.trim());
    expect(index.body).toContain("<title>uploaded</title>");
    expect((await httpGet(nsOf(v), `${url}docs/readme.txt`)).body).toBe(siteText);
  });

  it("the added account logs in with its own key and is in its groups; the sysctl value is set and the service sees its variable", async () => {
    const v = await view(pageOrder);
    expect(v.accounts).toEqual([{ name: "alice", uid: 1001, groups: ["deploy", "users"], keys: 1 }]);
    const address = pinServiceHostKey(qemu, v, knownHosts);
    const r = await guestSsh({ netns: nsOf(v), address, key: aliceKey, knownHosts, user: "alice" }, "id; sysctl -n net.core.somaxconn");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [id, somaxconn] = r.stdout.trim().split("\n");
    expect(id).toMatch(/^uid=1001\(alice\) gid=1001\(alice\) groups=/);
    expect(id!.split("groups=")[1]!.split(",").map((g) => g.replace(/^\d+\(|\)$/g, "")).sort()).toEqual(["alice", "deploy", "users"]);
    expect(somaxconn).toBe("1024");
    // The owner's key is root's, not alice's.
    const owner = await guestSsh({ netns: nsOf(v), address, key: ownerKey, knownHosts, user: "alice" }, "true");
    expect(owner.code).toBe(255);

    // The guest reported them on its ready line, which wait-until-ready logged.
    const ready = v.steps.find((s) => s.name === "wait_ready")!.log.map((l) => l.line).filter((l) => l.includes("PORTAL-READY ")).at(-1)!;
    expect(ready.split(/\s+/)).toEqual(expect.arrayContaining(["users=alice", "sysctl.net.core.somaxconn=1024", "env=APP_MODE", "recipe=web/1.0", "recipe-check=ok"]));

    const env = await httpGet(nsOf(v), `http://${address}/cgi-bin/env`);
    expect(env.body).toBe("APP_MODE=production mode\n");
  }, 120_000);

  it("shows the private area's password to the owner once; then only its hash is kept, and the password opens /private/", async () => {
    const v = await view(pageOrder);
    const before = v.recipe!.outputs.find((o) => o.name === "adminPassword")!;
    expect(before).toMatchObject({ kind: "secret", value: null, secret: { available: true, revealedAt: null } });
    const first = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${pageOrder}/secrets`, { token, params: { id: pageOrder } });
    expect(first.status).toBe(200);
    const password = first.body.secrets.find((s: { name: string }) => s.name === "adminPassword")?.value as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const again = await invoke(secretsRoute.POST, "POST", `/api/v1/orders/${pageOrder}/secrets`, { token, params: { id: pageOrder } });
    expect(again.body.secrets).toEqual([]);
    const [row] = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, pageOrder));
    expect(row).toMatchObject({ value: null, hash: createHash("sha256").update(password).digest("hex") });
    expect((await view(pageOrder)).recipe!.outputs.find((o) => o.name === "adminPassword")!.secret).toMatchObject({ available: false, revealedAt: expect.any(String) });

    const address = v.environment.addresses.find((a) => a.purpose === "production")!.ip;
    const locked = await httpGet(nsOf(v), `http://${address}/private/`);
    expect(locked).toMatchObject({ ok: false });
    expect(locked.body).toContain("401");
    const open = await httpGet(nsOf(v), `http://admin:${password}@${address}/private/`);
    expect(open.body).toContain("Private area of");
  });
});
