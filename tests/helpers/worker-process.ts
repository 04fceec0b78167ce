/**
 * Real worker processes (`workers/index.ts` under tsx), started with the test file's database
 * and Redis prefix. Each runs in its own process group so that a kill reaches the worker
 * itself and nothing survives the test file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "./portal";

const root = path.resolve(import.meta.dirname, "../..");

export type WorkerProcess = {
  child: ChildProcess;
  pid: number;
  /** Everything the process wrote so far (stdout and stderr). */
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to the worker's process group. */
  kill: (signal: NodeJS.Signals) => void;
};

const spawned = new Set<WorkerProcess>();

export function startWorkerProcess(extraEnv: Record<string, string>): WorkerProcess {
  return startTsProcess("workers/index.ts", extraEnv);
}

/**
 * The web side in a process of its own: the app's API route handlers behind a plain HTTP server
 * on `port` (tests/helpers/api-server.ts), for drills that need web and worker apart.
 */
export function startApiProcess(port: number, extraEnv: Record<string, string>): WorkerProcess {
  return startTsProcess("tests/helpers/api-server.ts", { ...extraEnv, PORT: String(port) });
}

function startTsProcess(script: string, extraEnv: Record<string, string>): WorkerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const key of Object.keys(env)) if (key.startsWith("VITEST") || key === "NODE_OPTIONS") delete env[key];
  // `node --import tsx` is what `npx tsx` runs, minus the wrapper processes: the pid is the worker.
  const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (b: Buffer) => (log += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const worker: WorkerProcess = {
    child,
    pid: child.pid!,
    output: () => log,
    exited,
    kill: (signal) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    },
  };
  spawned.add(worker);
  void exited.then(() => spawned.delete(worker));
  return worker;
}

/** Waits until the worker says it is taking jobs; fails early with its output if it dies. */
export async function untilReady(worker: WorkerProcess, timeoutMs = 30_000): Promise<void> {
  const ready = (out: string) => out.includes("[worker] processing");
  let gone = false;
  void worker.exited.then(() => (gone = true));
  await waitFor(async () => worker.output(), (out) => ready(out) || gone, { timeoutMs, intervalMs: 50, what: "the worker to take jobs" });
  if (!ready(worker.output())) throw new Error(`worker exited before it was ready:\n${worker.output()}`);
}

/** SIGKILLs every worker process still running (afterAll). */
export async function killAllWorkers(): Promise<void> {
  const alive = [...spawned];
  for (const w of alive) w.kill("SIGKILL");
  await Promise.all(alive.map((w) => w.exited));
}
