/**
 * Two web processes of one portal, as two machines behind a proxy: the e2e server (web A, with
 * its embedded worker) and a second `next start` (web B, web only) on the same database, Redis
 * prefix and AUTH_SECRET (e2e/portal-instance.ts). Whichever process a request lands on, the
 * user is the same: a session made on A works on B, an order created through A streams its
 * steps to an event stream on B (Redis pub/sub), and a lockout reached through A holds on B.
 */
import { expect, request, test } from "@playwright/test";
import { signIn } from "../scripts/lib.mjs";
import { startPortalInstance, type PortalInstance } from "./portal-instance";
import { ADMIN, BASE_URL, PASSWORD, authFile, users } from "./users";

const PORT_B = 3413;
const E2E_PORT = Number(process.env.E2E_PORT || 3210);
let webB: PortalInstance;

test.describe.configure({ mode: "serial", timeout: 90_000 });

test.beforeAll(async () => {
  test.setTimeout(90_000);
  // The e2e server's settings (e2e/server.mjs): the same secret, limits and trusted proxy.
  webB = await startPortalInstance(
    PORT_B,
    { AUTH_SECRET: "e2e-auth-secret-not-for-production-0123456789", LOGIN_MAX_ATTEMPTS: "5", LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "12", TRUSTED_PROXIES: "127.0.0.1", ADMIN_PASSWORD: ADMIN.password },
    { join: { databaseUrl: `postgres://postgres@127.0.0.1:5432/${E2E_PORT === 3210 ? "portal_e2e" : `portal_e2e_${E2E_PORT}`}`, prefix: E2E_PORT === 3210 ? "e2e" : `e2e_${E2E_PORT}` } },
  );
});

test.afterAll(async () => {
  await webB?.stop();
});

test("a session signed in on A is the same user on B", async () => {
  const cookie = await signIn(BASE_URL, users.customer.email, PASSWORD);
  const me = await fetch(`${webB.url}/api/v1/me`, { headers: { cookie } });
  expect(me.status).toBe(200);
  expect((await me.json()).email).toBe(users.customer.email);
});

test("an event stream on B shows the steps of an order created through A, until it is ready", async () => {
  // The admin's orders need no approver (the default pool holds customers' orders).
  const a = await request.newContext({ baseURL: BASE_URL, storageState: authFile("admin") });
  const created = await a.post("/api/v1/orders", { data: { image: "linux-test", flavor: "small", name: `scale-${Date.now() % 100000}` }, headers: { Origin: BASE_URL } });
  expect(created.status(), await created.text()).toBe(201);
  const orderId = (await created.json()).id as string;
  const cookie = (await a.storageState()).cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  await a.dispose();

  // Read B's stream as a browser's EventSource would: snapshots until the order is ready.
  const res = await fetch(`${webB.url}/api/v1/orders/${orderId}/events`, { headers: { cookie, accept: "text/event-stream" }, signal: AbortSignal.timeout(60_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const seen = new Set<string>();
  let text = "";
  let status = "";
  const reader = res.body!.getReader();
  while (status !== "ready") {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    for (;;) {
      const end = text.indexOf("\n\n");
      if (end < 0) break;
      const message = text.slice(0, end);
      text = text.slice(end + 2);
      const data = /^data: (.*)$/m.exec(message)?.[1];
      if (!message.startsWith("event: snapshot") || !data) continue;
      const view = JSON.parse(data) as { status: string; steps: { name: string; status: string }[] };
      status = view.status;
      for (const s of view.steps) if (s.status === "running") seen.add(s.name);
    }
  }
  await reader.cancel();
  expect(status).toBe("ready");
  // Live progress, not one final snapshot: B saw steps while they ran on A's worker.
  expect(seen.size).toBeGreaterThan(3);
});

test("a lockout reached through A holds on B", async () => {
  const admin = await request.newContext({ baseURL: BASE_URL, storageState: authFile("admin") });
  const email = `lockout-${Date.now() % 1_000_000}@e2e.test`;
  const made = await admin.post("/api/v1/users", { data: { email, name: "Lee Lockout", role: "customer", group: "default", password: PASSWORD }, headers: { Origin: BASE_URL } });
  expect(made.status(), await made.text()).toBe(201);
  await admin.dispose();

  // From an address of its own (the servers trust 127.0.0.1 as a proxy): nobody else is limited.
  const address = `198.51.100.${10 + (Date.now() % 200)}`;
  const attempt = async (base: string, password: string) => {
    const ctx = await request.newContext({ baseURL: base, extraHTTPHeaders: { "X-Forwarded-For": address } });
    const { csrfToken } = (await (await ctx.get("/api/auth/csrf")).json()) as { csrfToken: string };
    const res = await ctx.post("/api/auth/callback/credentials", { form: { csrfToken, email, password, json: "true" } });
    const url = new URL(((await res.json()) as { url: string }).url);
    const signedIn = (await ctx.storageState()).cookies.some((c) => c.name.endsWith("next-auth.session-token"));
    await ctx.dispose();
    return { signedIn, error: url.searchParams.get("error") };
  };
  for (let i = 0; i < 5; i++) expect((await attempt(BASE_URL, "wrong-password-1")).signedIn).toBe(false);
  const onB = await attempt(webB.url, PASSWORD);
  expect(onB.signedIn).toBe(false);
  expect(onB.error).toBe("Too many failed sign-ins for this account; try again in 15 minutes");
});

test("the hosts page lists the live workers, and a host whose owning worker is offline says so", async ({ browser }) => {
  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  const api = page.request;
  // A local host (registered offline: no order lands on it) owned by a worker that never beat.
  const name = `owned-${Date.now() % 100000}`;
  const made = await api.post("/api/v1/hosts", { data: { name, kind: "qemu", address: "local" }, headers: { Origin: BASE_URL } });
  expect(made.status(), await made.text()).toBe(201);
  const hostId = (await made.json()).id as string;
  const owned = await api.patch(`/api/v1/hosts/${hostId}`, { data: { ownerWorker: "gone-box" }, headers: { Origin: BASE_URL } });
  expect(owned.status(), await owned.text()).toBe(200);
  expect((await owned.json()).ownerWorker).toBe("gone-box");
  const workers = (await (await api.get("/api/v1/workers")).json()).workers as { id: string; live: boolean }[];
  const live = workers.filter((w) => w.live);
  expect(live.length).toBeGreaterThan(0);

  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`/admin/hosts?page=${1}`);
    const panel = page.getByRole("region", { name: /Workers/ });
    await expect(panel.getByRole("heading")).toHaveText(`Workers (${live.length} live)`);
    await expect(panel.getByTestId("worker-row").filter({ hasText: live[0].id }).getByTestId("worker-live")).toHaveText("live");
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  }
  // The host card may be on a later page of hosts: the API says where it is; its card says the owner is offline.
  for (let p = 1; ; p++) {
    await page.goto(`/admin/hosts?page=${p}`);
    const card = page.getByRole("article", { name: `Host ${name}` });
    if (await card.count()) {
      await expect(card.getByTestId("host-owner")).toHaveText("worker gone-box · owner offline: its orders wait for it");
      await card.screenshot({ path: "test-results/admin-host-owner-offline.png" });
      break;
    }
    expect(p).toBeLessThan(20);
  }
  await page.screenshot({ path: "test-results/admin-hosts-workers.png", fullPage: true });
  expect((await api.delete(`/api/v1/hosts/${hostId}`, { headers: { Origin: BASE_URL } })).status()).toBe(200);
  await context.close();
});
