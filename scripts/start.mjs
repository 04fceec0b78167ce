// `npm start`: the whole portal in one process on the embedded default.
// - Database: DATABASE_URL if set, else PGlite under DATA_DIR (.data).
// - Redis: REDIS_URL if set, else 127.0.0.1:6379, else a redis-server from PATH started here
//   with its data under DATA_DIR, else one clear message saying how to get Redis.
// - Builds the app when the build is missing or older than the sources, then runs
//   `next start` with the worker embedded (PORTAL_EMBEDDED_WORKER=1).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dataDirHolder, ensureBuild, holdDataDir, nextStartArgs, portOpen, redisAnswers, waitFor, which } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT || 3000);
const dataDir = path.resolve(root, process.env.DATA_DIR || ".data");
const children = [];

function fail(message) {
  console.error(`\n${message}\n`);
  for (const c of children) c.kill("SIGTERM");
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be a number from 1 to 65535 (got "${process.env.PORT}").`);

async function ensureRedis() {
  if (process.env.REDIS_URL) {
    if (await redisAnswers(process.env.REDIS_URL)) return process.env.REDIS_URL;
    fail(`Redis does not answer at REDIS_URL (${redactUrl(process.env.REDIS_URL)}). Start it, or unset REDIS_URL to use a local one.`);
  }
  const local = "redis://127.0.0.1:6379";
  if (await redisAnswers(local)) return local;
  const server = which("redis-server");
  if (!server) {
    fail(
      "The portal needs Redis (for its job queue) and none answers at 127.0.0.1:6379.\n" +
        "Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`) or point REDIS_URL at one, then run `npm start` again.",
    );
  }
  const redisPort = await freePort(6390);
  const dir = path.join(dataDir, "redis");
  mkdirSync(dir, { recursive: true });
  const child = spawn(server, ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", dir, "--save", "60", "1", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const url = `redis://127.0.0.1:${redisPort}`;
  if (!(await waitFor(() => redisAnswers(url), { timeoutMs: 10_000 }))) fail(`Started ${server} on port ${redisPort}, but it does not answer.`);
  console.log(`[start] started Redis on port ${redisPort} with its data in ${path.relative(root, dir)}`);
  return url;
}

async function freePort(from) {
  for (let p = from; p < from + 50; p++) if (!(await portOpen("127.0.0.1", p, 300))) return p;
  fail(`No free port for Redis between ${from} and ${from + 50}.`);
}

function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(not a URL)";
  }
}

async function main() {
  const holder = process.env.DATABASE_URL ? null : dataDirHolder(dataDir);
  if (holder) fail(`The portal is already running on ${path.relative(root, dataDir) || dataDir}/ (process ${holder}); its embedded database serves one process. Stop it first, or use another DATA_DIR.`);
  if (await portOpen("127.0.0.1", port, 500)) fail(`Port ${port} is already in use. Stop what runs there, or choose another: PORT=3001 npm start`);
  if (!process.env.DATABASE_URL) holdDataDir(dataDir);
  const redisUrl = await ensureRedis();
  if (!(await ensureBuild(root))) fail("The build failed; the messages above say why.");
  const address = `http://localhost:${port}`;
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    DATA_DIR: dataDir,
    PORT: String(port),
    PORTAL_EMBEDDED_WORKER: "1",
    // The portal handles SIGINT/SIGTERM itself: running steps finish before it exits.
    NEXT_MANUAL_SIG_HANDLE: "1",
    NEXTAUTH_URL: process.env.NEXTAUTH_URL || address,
    NEXT_TELEMETRY_DISABLED: "1",
  };
  const web = spawn(process.execPath, nextStartArgs(root, port), { cwd: root, env, stdio: "inherit" });
  children.push(web);
  const stop = (signal) => {
    for (const c of children) c.kill(signal);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  web.once("exit", (code) => {
    for (const c of children) if (c !== web) c.kill("SIGTERM");
    process.exit(code ?? 0);
  });
  const up = await waitFor(
    async () => {
      try {
        const res = await fetch(`${address}/api/health`);
        return res.status === 200;
      } catch {
        return false;
      }
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  if (!up) {
    console.error(`[start] the portal did not answer at ${address}/api/health within two minutes; see the messages above.`);
    return;
  }
  const adminEmail = process.env.ADMIN_EMAIL || "admin@portal.local";
  console.log(
    [
      "",
      "  Environment Portal is running.",
      `  Open:     ${address}`,
      `  Sign in:  ${adminEmail} with ${process.env.ADMIN_PASSWORD ? "the password in ADMIN_PASSWORD" : "the password printed above on first start"}`,
      `  Data:     ${process.env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : path.relative(root, dataDir) + "/ (embedded PGlite)"}; Redis at ${redactUrl(redisUrl)}`,
      "  Stop with Ctrl+C.",
      "",
    ].join("\n"),
  );
}

main().catch((err) => fail(`[start] ${err instanceof Error ? err.message : err}`));
