/**
 * The command-line client's day-2 commands as a user runs them (spawned processes against the
 * app's route handlers on port 3541, a worker in this process, sim hosts): snapshots, backups,
 * backup policy, restore in place and as a new environment, resize, reinstall, and the console
 * against the sim guest's shell: in a terminal (a pseudo-terminal) and driven by a script
 * (--send/--until). Each waits where asked and
 * says in its exit code how it ended; refusals and wrong arguments give clear messages.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootPortal, makeGroup, makeUser, unique, waitFor } from "../helpers/portal";
import type { CliUser } from "../helpers/cli";
import { startCliPortal, type CliPortal } from "../helpers/cli-portal";

const PORT = 3541;
const { db } = await bootPortal();
const group = await makeGroup(db, { autoApprove: true });
const customer = await makeUser(db, "customer", group.slug);
let cli: CliPortal;
let u: CliUser;
let orderId: string;
let hostname: string;

beforeAll(async () => {
  cli = await startCliPortal(db, PORT);
  u = await cli.loggedIn(customer);
  hostname = unique("day2");
  const ordered = await u.json(["order", "--image", "linux-test", "--flavor", "small", "--name", hostname, "--wait"]);
  expect(ordered.status).toBe("ready");
  orderId = ordered.id;
}, 60_000);

afterAll(async () => {
  await cli?.stop();
});

describe("portal snapshots", () => {
  it("takes one and waits for it, lists it, reverts to it by name (only with --yes) and deletes it", async () => {
    const taken = await u.portal(["snapshots", "take", orderId, "--name", "before upgrade", "--wait"]);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toContain(`${hostname}: snapshot "before upgrade" taken`);
    const listed = await u.portal(["snapshots", "list", orderId]);
    expect(listed.stdout).toMatch(/^NAME\s+STATUS\s+MEMORY\s+TAKEN\s+ID$/m);
    expect(listed.stdout).toMatch(/^before upgrade\s+ready\s+/m);
    const [snap] = (await u.json(["snapshots", "list", orderId])).snapshots;
    expect(snap).toMatchObject({ name: "before upgrade", status: "ready" });

    const unconfirmed = await u.portal(["snapshots", "revert", orderId, "before upgrade"]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("what changed since the snapshot is lost: add --yes");
    const back = await u.portal(["snapshots", "revert", orderId, "before upgrade", "--yes", "--wait"]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`${hostname}: back at snapshot "before upgrade"`);

    const gone = await u.json(["snapshots", "delete", orderId, snap.id, "--wait"]);
    expect(gone).toMatchObject({ action: "delete_snapshot", status: "succeeded" });
    expect((await u.portal(["snapshots", "list", orderId])).stdout).toContain("No snapshots.");
    const missing = await u.portal(["snapshots", "delete", orderId, "before upgrade"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('portal: HTTP 404 Not Found: no snapshot "before upgrade"');
  });

  it("says what a group command needs, and what it does not have", async () => {
    const none = await u.portal(["snapshots"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("portal: snapshots needs one of: list, take, revert, delete (portal help snapshots)");
    const wrong = await u.portal(["snapshots", "rollback", orderId]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('portal: snapshots has no "rollback"; it has list, take, revert, delete');
    const noName = await u.portal(["snapshots", "take", orderId]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("name the snapshot: --name <name>");
    const help = await u.portal(["help", "snapshots"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("portal snapshots revert <order id> <snapshot id or name> --yes [--wait [--timeout <s>]]");
    const top = await u.portal(["help"]);
    for (const c of ["snapshots", "backups", "backup-policy", "restore", "resize", "reinstall", "console"]) expect(top.stdout).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
  });
});

describe("portal backups, backup-policy and restore", () => {
  let backupId: string;

  it("takes a backup and waits for it: checksummed and verified; lists it; verifies it again", async () => {
    const taken = await u.json(["backups", "take", orderId, "--wait"]);
    expect(taken).toMatchObject({ status: "succeeded", verified: true });
    expect(taken.sha256).toMatch(/^[0-9a-f]{64}$/);
    backupId = taken.id;
    const listed = await u.portal(["backups", "list", orderId]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${backupId}\\s+.+sha256 ${taken.sha256.slice(0, 12)}, verified: booted and read back at`, "m"));
    const verified = await u.portal(["backups", "verify", orderId, backupId, "--wait"]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`${hostname}: backup ${backupId} `);
    expect(verified.stdout).toContain("verified: booted and read back at");
  });

  it("sets a backup policy and shows it with its next run; a schedule the portal cannot read is refused with the field", async () => {
    const none = await u.portal(["backup-policy", "show", orderId]);
    expect(none.stdout).toContain(`${hostname}: no backup policy`);
    const set = await u.portal(["backup-policy", "set", orderId, "--schedule", "daily", "--keep-last", "5"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`${hostname}: backs up daily ("0 3 * * *", UTC), keeps the last 5; next `);
    const shown = await u.json(["backup-policy", "show", orderId]);
    expect(shown.policy).toMatchObject({ schedule: "daily", pattern: "0 3 * * *", keepLast: 5 });
    expect(new Date(shown.policy.nextRunAt).getUTCHours()).toBe(3);
    const bad = await u.portal(["backup-policy", "set", orderId, "--schedule", "hourly", "--keep-last", "5"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^portal: HTTP 422 Unprocessable Content: /m);
    expect(bad.stderr).toMatch(/^ {2}schedule: schedule is "daily", "weekly" or a cron pattern/m);
    const usage = await u.portal(["backup-policy", "set", orderId, "--schedule", "daily"]);
    expect(usage.code).toBe(2);
  });

  it("restores in place and waits until the environment runs again; a new environment needs a name", async () => {
    const back = await u.portal(["restore", orderId, "--backup", backupId, "--wait"]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`${hostname}: restored from backup ${backupId}, running`);
    const unnamed = await u.portal(["restore", orderId, "--backup", backupId, "--mode", "new"]);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain("a restore as a new environment needs its name: --name <hostname>");
    const sideways = await u.portal(["restore", orderId, "--backup", backupId, "--mode", "sideways"]);
    expect(sideways.code).toBe(2);
  });

  it("restores as a new environment: a new order, followed until it is delivered", async () => {
    const name = unique("copy");
    const r = await u.portal(["restore", orderId, "--backup", backupId, "--mode", "new", "--name", name, "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${name}: ready on .+; the worker puts backup ${backupId} on it next$`, "m"));
  });
});

describe("portal resize and reinstall", () => {
  it("resizes to a bigger size and waits; an unknown size is refused with the portal's reason", async () => {
    const r = await u.portal(["resize", orderId, "--flavor", "medium", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${hostname}: resized to medium`);
    expect((await u.json(["show", orderId])).flavor.slug).toBe("medium");
    const unknown = await u.portal(["resize", orderId, "--flavor", "gigantic"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^portal: HTTP 4\d\d /m);
  });

  it("reinstalls only with --yes, keeping the data when asked, and follows the delivery to ready", async () => {
    const unconfirmed = await u.portal(["reinstall", orderId]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("a reinstall removes the snapshots and the files on the disk: add --yes");
    const r = await u.portal(["reinstall", orderId, "--yes", "--keep-data", "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${hostname}: ready`);
  });
});

describe("portal console", () => {
  it("a script types a command and reads the guest's answer up to a pattern", async () => {
    const r = await u.portal(["console", orderId, "--send", "uname -a\\n", "--until", "GNU/Linux", "--timeout", "20"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Linux ${hostname} 6.1.0-sim`);
    const json = await u.json(["console", orderId, "--send", "stty size\\n", "--until", "\\d+ \\d+\\r\\n", "--timeout", "20"]);
    expect(json).toMatchObject({ matched: true });
    expect(json.output).toMatch(/24 80/);
  });

  it("in a terminal: what is typed goes to the guest, its answer comes back, Ctrl-] leaves", async () => {
    // A terminal for the client: Python's pty module runs it on a pseudo-terminal and passes our keystrokes in.
    const cli = path.resolve(import.meta.dirname, "../../scripts/bin/portal.mjs");
    const child = spawn("python3", ["-c", "import pty, sys; pty.spawn(sys.argv[1:])", process.execPath, cli, "console", orderId], {
      cwd: u.home,
      env: { NODE_ENV: "production", PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: u.home, XDG_CONFIG_HOME: path.join(u.home, ".config") },
      stdio: "pipe",
    });
    let screen = "";
    child.stdout.on("data", (c: Buffer) => (screen += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor(async () => screen, (s) => s.includes("Escape character is '^]'."), { what: "the client to connect", timeoutMs: 20_000 });
      expect(screen).toContain(`Connected to the console of ${hostname}.`);
      child.stdin.write("hostname\r");
      // The guest's answer on a line of its own (the shell echoes the command before it; the
      // terminal turns each line end into \r\n, so \r\n arrives as \r\r\n).
      await waitFor(async () => screen, (s) => new RegExp(`\n${hostname}\r`).test(s), { what: "the guest's answer", timeoutMs: 20_000 });
      child.stdin.write("\x1d");
      expect(await exited).toBe(0);
      expect(screen).toContain("Connection closed.");
    } finally {
      child.kill();
    }
  });

  it("says when the answer does not come, and that an interactive console needs a terminal", async () => {
    const r = await u.portal(["console", orderId, "--send", "echo hello\\n", "--until", "never printed", "--timeout", "2"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("hello");
    expect(r.stderr).toContain("portal: the console did not show /never printed/ within 2 s");
    const noTty = await u.portal(["console", orderId]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain("standard input is not a terminal: for scripts, use --send <text> [--until <pattern>]");
    const stray = await u.portal(["console", orderId, "--until", "x"]);
    expect(stray.code).toBe(2);
  });
});
