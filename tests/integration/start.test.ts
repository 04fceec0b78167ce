/**
 * `npm start` as a newcomer runs it: the embedded database (PGlite, no DATABASE_URL), the worker
 * in the web process, a first admin with a password printed once. Signs in with that password,
 * orders through the API, and sees the order delivered; a restart keeps everything and prints
 * no new password; a second portal on the same data is refused; a stopped portal's admin
 * password can be reset. Without Redis, start stops with one clear message.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApiToken, signIn } from "../../scripts/lib.mjs";
import { deleteRedisPrefix, randomSuffix } from "../helpers/infra";
import { waitFor } from "../helpers/portal";

const root = path.resolve(import.meta.dirname, "../..");
const port = Number(process.env.START_TEST_PORT || 3231);
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "portal-start-"));
const prefix = `it_start_${randomSuffix()}`;
const running: ChildProcess[] = [];

/** The environment of a fresh shell: none of the integration set-up's database settings. */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["DATABASE_URL", "REDIS_URL", "ADMIN_PASSWORD", "ADMIN_EMAIL", "AUTH_SECRET", "PORTAL_EMBEDDED_WORKER", "NEXTAUTH_URL"]) delete env[key];
  return { ...env, PORT: String(port), DATA_DIR: dataDir, REDIS_PREFIX: prefix, SIM_STEP_MS: "20", ...extra };
}

/** Runs a script of the portal as a newcomer's shell would, collecting what it prints. */
function spawnScript(args: string[], extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: shellEnv(extra), stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  const output = { text: "" };
  child.stdout!.on("data", (c: Buffer) => (output.text += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output.text += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output, exited };
}

const start = (extra: Record<string, string> = {}) => spawnScript(["scripts/start.mjs"], extra);
const resetPassword = () => spawnScript(["--import", "tsx", "scripts/reset-password.ts"]);

async function stop(run: ReturnType<typeof start>) {
  run.child.kill("SIGTERM");
  return run.exited;
}

afterAll(async () => {
  for (const c of running) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
  await deleteRedisPrefix(prefix);
});

describe("npm start on the embedded default", () => {
  it("prints the address and a one-time admin password; that admin orders and the order is delivered; a restart keeps it", async () => {
    const first = start();
    await waitFor(async () => first.output.text, (t) => t.includes("Environment Portal is running") || first.child.exitCode !== null, {
      timeoutMs: 240_000, // includes a build when there is none yet
      intervalMs: 200,
      what: "the start-up banner",
    });
    const out = first.output.text;
    expect(out).toContain(`http://localhost:${port}`);
    expect(out).toContain("embedded PGlite");
    const password = /Admin password:\s+(\S+)/.exec(out)?.[1];
    expect(password, out).toMatch(/^\S{12,}$/);

    const cookie = await signIn(base, "admin@portal.local", password!);
    const token = await createApiToken(base, cookie, "start-test");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await fetch(`${base}/api/v1/orders`, { method: "POST", headers, body: JSON.stringify({ image: "linux-test", flavor: "small", name: "first-box" }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const ready = await waitFor(
      async () => (await (await fetch(`${base}/api/v1/orders/${id}`, { headers })).json()) as { status: string; environment?: { addresses: { ip: string; mac: string }[] } },
      (o) => o.status === "ready" || o.status === "failed",
      { timeoutMs: 60_000, intervalMs: 200, what: "the order to be delivered" },
    );
    expect(ready.status).toBe("ready");
    expect(ready.environment?.addresses.map((a) => a.ip).sort()).toEqual(["10.20.0.2", "10.30.0.2"]);

    // A second portal on the same embedded database is refused, and so is a password reset.
    const twin = start({ PORT: String(port + 1) });
    expect(await twin.exited).toBe(1);
    expect(twin.output.text).toContain("The portal is already running on");
    const busyReset = resetPassword();
    expect(await busyReset.exited).toBe(1);
    expect(busyReset.output.text).toContain("stop it (Ctrl+C), then run this again");

    expect(await stop(first)).toBe(0);

    // Stopped: a reset gives a new password, printed once; the old one stops working.
    const reset = resetPassword();
    expect(await reset.exited).toBe(0);
    const newPassword = /New password for admin@portal\.local \(admin\): (\S+)/.exec(reset.output.text)?.[1];
    expect(newPassword, reset.output.text).toBeTruthy();

    const second = start();
    await waitFor(async () => second.output.text, (t) => t.includes("Environment Portal is running") || second.child.exitCode !== null, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: "the second start-up banner",
    });
    expect(second.output.text).not.toContain("Admin password:");
    expect(second.output.text).not.toContain("building the portal");
    await expect(signIn(base, "admin@portal.local", password!)).rejects.toThrow(/sign-in of admin@portal.local failed/);
    const again = await signIn(base, "admin@portal.local", newPassword!);
    const list = (await (await fetch(`${base}/api/v1/orders`, { headers: { cookie: again } })).json()) as { orders: { id: string; status: string }[] };
    expect(list.orders.find((o) => o.id === id)?.status).toBe("ready");
    expect(await stop(second)).toBe(0);
  }, 420_000);

  it("without Redis it stops with one clear message, not a stack trace", async () => {
    const run = start({ REDIS_URL: "redis://127.0.0.1:1" });
    expect(await run.exited).toBe(1);
    expect(run.output.text).toContain("Redis does not answer at REDIS_URL (redis://127.0.0.1:1)");
    expect(run.output.text).not.toMatch(/\n\s+at /);
  });
});
