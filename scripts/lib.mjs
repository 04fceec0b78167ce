// Shared helpers of the launchers (start, test, bench): probing services, finding programs,
// running commands with arguments (never a shell string).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/** True when something accepts TCP connections at host:port within `timeoutMs`. */
export function portOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Sends PING to a Redis server and resolves true on +PONG (or an auth error: it is Redis). */
export function redisAnswers(url, timeoutMs = 1500) {
  return new Promise((resolve) => {
    let u;
    try {
      u = new URL(url);
    } catch {
      resolve(false);
      return;
    }
    const socket = net.connect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
    let data = "";
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\r\n")) done(data.startsWith("+PONG") || data.includes("NOAUTH"));
    });
    socket.once("error", () => done(false));
  });
}

/** Full path of a program on PATH (or in /usr/sbin, /sbin), or null. */
export function which(program) {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a program to completion with inherited output; resolves its exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "inherit", ...opts });
    child.once("error", (err) => {
      console.error(`could not run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Runs a program and returns its stdout, or null if it failed. */
export function capture(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout : null;
}

export async function waitFor(check, { timeoutMs, intervalMs = 250 }) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

/** The next CLI, run with this Node (no shell, no npx). */
export function nextBin(root) {
  return path.join(root, "node_modules", "next", "dist", "bin", "next");
}

/**
 * How long an idle keep-alive connection stays open: longer than the idle time of clients and
 * proxies in front (nginx keeps 60 s), so a client never sends a request on a connection the
 * server is closing at that moment (which it sees as "socket hang up"). Node's default is 5 s.
 */
export const KEEP_ALIVE_MS = 65_000;

/** Arguments for `node <args>` that run `next start` on a port (and host, when given). */
export function nextStartArgs(root, port, host) {
  return [nextBin(root), "start", "-p", String(port), ...(host ? ["-H", host] : []), "--keepAliveTimeout", String(KEEP_ALIVE_MS)];
}

/** Newest modification time under the given paths (files and folders, recursively). */
function newest(root, paths) {
  let latest = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    latest = Math.max(latest, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
  };
  for (const p of paths) visit(path.join(root, p));
  return latest;
}

/** Runs `next build` when there is no build or a source is newer than it; false if it failed. */
export async function ensureBuild(root) {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const sources = ["app", "components", "lib", "workers", "public", "drizzle", "instrumentation.ts", "proxy.ts", "next.config.js", "postcss.config.mjs", "package-lock.json", "tsconfig.json"];
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newest(root, sources)) return true;
  console.log("[build] building the portal (no build yet, or the sources changed) ...");
  const code = await run(process.execPath, [nextBin(root), "build"], { cwd: root, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  return code === 0;
}

/**
 * Signs in through next-auth's credentials flow (csrf token, then the callback) the way the
 * login page does: a local account by default, or a directory account with
 * `{ provider: "ldap" }` (the login is then a user name or e-mail). Returns the Cookie header
 * of the session, or throws with the portal's reason.
 */
export async function signIn(base, login, password, { provider = "credentials" } = {}) {
  const jar = new Map();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const csrfRes = await fetch(`${base}/api/auth/csrf`);
  keep(csrfRes);
  const { csrfToken } = await csrfRes.json();
  const field = provider === "credentials" ? "email" : "login";
  const res = await fetch(`${base}/api/auth/callback/${provider}`, {
    method: "POST",
    body: new URLSearchParams({ csrfToken, [field]: login, password, json: "true" }),
    headers: { cookie: cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
    redirect: "manual",
  });
  keep(res);
  if (![...jar.keys()].some((k) => k.endsWith("next-auth.session-token"))) {
    // next-auth answers { url: ".../login?error=<code or the portal's message>" }.
    const error = await res.json().then((b) => new URL(b.url).searchParams.get("error"), () => null);
    const reason = !error || error === "CredentialsSignin" ? "wrong user name, e-mail or password" : error;
    throw new Error(`sign-in of ${login} failed: ${reason} (HTTP ${res.status})`);
  }
  return cookieHeader();
}

/** Creates a personal API token with a session cookie; returns the token (shown once). */
export async function createApiToken(base, cookie, name) {
  const res = await fetch(`${base}/api/v1/tokens`, {
    method: "POST",
    headers: { cookie, origin: base, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`could not create an API token: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/**
 * The embedded database belongs to one process: `npm start` holds DATA_DIR/portal.pid while it
 * runs. Returns the pid of a live holder, or null (a stale file from a crash does not count).
 */
export function dataDirHolder(dataDir) {
  const file = path.join(dataDir, "portal.pid");
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return err && err.code === "EPERM" ? pid : null;
  }
}

/** Takes DATA_DIR/portal.pid for this process; removes it at exit. */
export function holdDataDir(dataDir) {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "portal.pid");
  writeFileSync(file, String(process.pid));
  process.once("exit", () => {
    try {
      if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  });
}

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withPgAdmin(adminUrl, fn) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: adminUrl });
  // A server restarting under it (the fault drill) fails the query in progress, not the process.
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops database `name` (even with connections still open) and creates it empty; returns its URL. */
export async function freshDatabase(adminUrl, name) {
  await withPgAdmin(adminUrl, async (c) => {
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.query(`create database "${name}"`);
  });
  return databaseUrl(adminUrl, name);
}

/** Drops database `name` even if a pool or a killed process still holds connections. */
export async function dropDatabase(adminUrl, name) {
  await withPgAdmin(adminUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
}

/** Deletes every Redis key under `prefix:`; returns how many. */
export async function deleteRedisKeys(redisUrl, prefix) {
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The QEMU processes whose command line names a path under `dir` (a launcher's guests). */
function qemuPidsUnder(dir) {
  return (spawnSync("ps", ["-ww", "-eo", "pid=,args="], { encoding: "utf8" }).stdout ?? "")
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m) => m && m[2].includes("qemu-system") && m[2].includes(`${dir}/`))
    .map((m) => Number(m[1]));
}

/**
 * What local QEMU hosts left behind under `dir`: their guests are killed, then each host's
 * network namespace and cgroups are removed (named from the host's name and work folder as
 * lib/drivers/qemu/netns.ts and cgroup.ts name them). `hosts`: { name, workDir } of each host.
 */
export async function removeLocalQemu(dir, hosts) {
  for (const pid of qemuPidsUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await waitFor(async () => qemuPidsUnder(dir).length === 0, { timeoutMs: 10_000, intervalMs: 200 });
  for (const host of hosts) {
    const key = `${host.name}-${createHash("sha256").update(path.resolve(host.workDir)).digest("hex").slice(0, 6)}`;
    spawnSync("ip", ["netns", "del", `portal-${key}`], { stdio: "ignore" });
    for (const cgroups of ["/sys/fs/cgroup/portal-qemu", "/sys/fs/cgroup/cpu/portal-qemu"]) {
      for (const group of existsSync(cgroups) ? readdirSync(cgroups).filter((g) => g.startsWith(`${key}-`)) : []) {
        try {
          rmdirSync(path.join(cgroups, group));
        } catch {
          // still in use or gone
        }
      }
    }
  }
}
