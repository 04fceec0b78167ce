/**
 * The portal as the command-line client meets it: the app's route handlers in a process of
 * their own on `port` (sim hosts), a worker in this process, and users of the client (homes of
 * their own, ./cli.ts) logged in with an API token. `stop()` ends both and removes the homes.
 */
import { expect } from "vitest";
import type { Db } from "@/lib/db/client";
import { startWorkers } from "@/workers/runtime";
import { cliUser, type CliUser } from "./cli";
import { tokenFor, waitFor, type Actor } from "./portal";
import { killAllWorkers, startApiProcess } from "./worker-process";

export async function startCliPortal(db: Db, port: number) {
  const url = `http://127.0.0.1:${port}`;
  startApiProcess(port, {});
  await waitFor(() => fetch(`${url}/api/health`).then((r) => r.status, () => 0), (s) => s === 200, { timeoutMs: 30_000, what: "the portal's API to answer" });
  const worker = await startWorkers();
  const users: CliUser[] = [];
  /** A user of the client, not logged in yet. */
  const user = (): CliUser => {
    const u = cliUser();
    users.push(u);
    return u;
  };
  return {
    url,
    user,
    /** A user of the client logged in as `actor` (`portal login --token-stdin`). */
    async loggedIn(actor: Actor): Promise<CliUser> {
      const u = user();
      const r = await u.portal(["login", "--url", url, "--token-stdin"], `${await tokenFor(db, actor)}\n`);
      expect(r.code, r.stderr).toBe(0);
      return u;
    },
    async stop() {
      await worker.stop();
      await killAllWorkers();
      for (const u of users) u.remove();
    },
  };
}

export type CliPortal = Awaited<ReturnType<typeof startCliPortal>>;
