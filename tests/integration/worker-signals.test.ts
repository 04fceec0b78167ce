/**
 * The worker is one process: `npm run worker`'s command starts no second node process, so a
 * SIGTERM sent to the pid a process manager knows reaches the worker itself, which stops and
 * leaves nothing behind. Also through `npm run worker`: npm passes the signal to its shell,
 * which has become the worker (`exec`), instead of dying and orphaning it.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/portal";

const root = path.resolve(import.meta.dirname, "../..");
const scripts = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>;
const started: number[] = [];

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
});

/** The pids of every live process in process group `pgid`. */
function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: fields after it are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
  );
}

function isNode(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === process.execPath;
  } catch {
    return false;
  }
}

function start(command: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key === "NODE_OPTIONS") delete env[key];
  const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child.pid!);
  let log = "";
  child.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const ready = () => waitFor(async () => log, (out) => out.includes("[worker] processing") || gone, { timeoutMs: 45_000, what: "the worker to take jobs" });
  return { pid: child.pid!, output: () => log, exited, ready };
}

describe("the worker process and signals", () => {
  it("the worker script is the worker itself: no child process, SIGTERM to its pid stops it with nothing left", async () => {
    // `exec`: the shell npm starts becomes the worker, so npm's signals reach it.
    const [exec, command, ...args] = scripts.worker.split(" ");
    expect([exec, command], "npm run worker execs node itself, not a launcher").toEqual(["exec", "node"]);
    const worker = start(process.execPath, args);
    await worker.ready();
    expect(worker.output()).toContain("[worker] processing");
    expect(readFileSync(`/proc/${worker.pid}/cmdline`, "utf8").split("\0")).toContain("workers/index.ts");
    // No second node process (tsx's esbuild service may run beside it while it compiles).
    expect(childrenOf(worker.pid).filter(isNode)).toEqual([]);

    process.kill(worker.pid, "SIGTERM");
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain("[worker] SIGTERM");
    await waitFor(async () => processGroup(worker.pid), (pids) => pids.length === 0, { timeoutMs: 15_000, what: "every process of the worker to exit" });
  });

  it("`npm run worker` passes SIGTERM on: the worker exits and no process of it is left", async () => {
    const npm = start("npm", ["run", "--silent", "worker"]);
    await npm.ready();
    expect(processGroup(npm.pid).length).toBeGreaterThan(1);

    process.kill(npm.pid, "SIGTERM");
    await npm.exited;
    await waitFor(async () => processGroup(npm.pid).map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`), (pids) => pids.length === 0, { timeoutMs: 15_000, what: "every process of npm run worker to exit" });
    expect(npm.output()).toContain("[worker] SIGTERM");
  });
});
