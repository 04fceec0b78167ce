/**
 * A second portal for the end-to-end tests that need another configuration than the shared
 * one from e2e/server.mjs (single sign-on and a directory, e2e/sso.spec.ts): `next start` on
 * the same build, on its own port, database `portal_e2e_<port>` and Redis prefix, web only.
 * The build is the one e2e/server.mjs made (Playwright starts that server first).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { deleteRedisKeys, freshDatabase, nextStartArgs, portOpen, waitFor } from "../scripts/lib.mjs";

const root = path.resolve(import.meta.dirname, "..");
const ADMIN_URL = process.env.E2E_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export type PortalInstance = { url: string; admin: { email: string; password: string }; log(): string; stop(): Promise<void> };

/**
 * `join`: a second web process of an existing portal (its database and Redis prefix, nothing
 * emptied), as another machine behind the same proxy would be.
 */
export async function startPortalInstance(port: number, env: Record<string, string>, opts: { join?: { databaseUrl: string; prefix: string } } = {}): Promise<PortalInstance> {
  if (await portOpen("127.0.0.1", port)) throw new Error(`port ${port} is taken: the second portal cannot listen there`);
  const url = `http://127.0.0.1:${port}`;
  const prefix = opts.join?.prefix ?? `e2e_${port}`;
  const admin = { email: "admin@portal.local", password: `admin-password-${port}` };
  const databaseUrl = opts.join?.databaseUrl ?? (await freshDatabase(ADMIN_URL, `portal_e2e_${port}`));
  if (!opts.join) await deleteRedisKeys(REDIS_URL, prefix);
  const dataDir = path.join("/tmp", `portal-e2e-${port}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(path.join(dataDir, "images"), { recursive: true });
  let log = "";
  const child: ChildProcess = spawn(process.execPath, nextStartArgs(root, port, "127.0.0.1"), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      DATA_DIR: dataDir,
      IMAGE_STORE_DIR: path.join(dataDir, "images"),
      PORTAL_EMBEDDED_WORKER: "0",
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      NEXTAUTH_URL: url,
      AUTH_SECRET: `e2e-second-portal-secret-${port}-0123456789`,
      LOGIN_MAX_ATTEMPTS: "5",
      ...env,
    },
  });
  for (const s of [child.stdout!, child.stderr!]) s.on("data", (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const healthy = await waitFor(
    async () => child.exitCode === null && (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  if (!healthy) {
    await stop();
    throw new Error(`the second portal on ${url} did not become healthy within 60 s:\n${log.slice(-4000)}`);
  }
  return { url, admin, log: () => log, stop };
}
