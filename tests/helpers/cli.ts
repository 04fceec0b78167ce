/**
 * Someone using the command-line client (scripts/bin/portal.mjs): a home folder of their own
 * (so their config folder too), and the client run as a process with arguments as an array.
 * Nothing here imports lib/.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export type CliRun = { code: number | null; stdout: string; stderr: string };

export type CliUser = {
  home: string;
  configFile: string;
  /** Runs `portal <args>` with `input` on stdin; killed after 45 s. */
  portal(args: string[], input?: string): Promise<CliRun>;
  /** Runs `portal <args> --json` and parses stdout; throws with stderr unless it exits 0. */
  json(args: string[]): Promise<any>;
  remove(): void;
};

export function cliUser(): CliUser {
  const home = mkdtempSync(path.join(os.tmpdir(), "portal-cli-"));
  const env = { NODE_ENV: "production", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") } as const;
  const portal = (args: string[], input = ""): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(root, "scripts/bin/portal.mjs"), ...args], { cwd: home, env, stdio: "pipe" });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
      child.once("error", reject);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  return {
    home,
    configFile: path.join(home, ".config", "environment-portal", "config.json"),
    portal,
    async json(args) {
      const r = await portal([...args, "--json"]);
      if (r.code !== 0) throw new Error(`portal ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}
