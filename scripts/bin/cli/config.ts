import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** What `portal login` keeps: the portal's address and an API token (with its id, to revoke it at logout). */
export type Config = { url: string; token: string; tokenId?: string; email?: string };

/** $XDG_CONFIG_HOME/environment-portal/config.json, else ~/.config/environment-portal/config.json. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "environment-portal", "config.json");
}

export function readConfig(file = configFile()): Config | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const parsed = JSON.parse(text) as Partial<Config>;
  return typeof parsed.url === "string" && typeof parsed.token === "string" ? (parsed as Config) : null;
}

/** Written readable by its owner only (0600, in a 0700 folder): the token opens the portal as them. */
export function writeConfig(config: Config, file = configFile()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  // A file that existed keeps its old mode through writeFileSync: set it.
  chmodSync(file, 0o600);
}

export function removeConfig(file = configFile()): void {
  rmSync(file, { force: true });
}
