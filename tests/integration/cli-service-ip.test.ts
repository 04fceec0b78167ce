/**
 * `portal service-ip` as a user runs it (spawned processes against the app's route handlers on
 * port 3633, a worker in this process, sim hosts): reserve, list, attach and move with --wait,
 * show the move, detach, release; a refusal says why with the HTTP status and exit code 1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootPortal, makeGroup, makeUser, unique } from "../helpers/portal";
import type { CliUser } from "../helpers/cli";
import { startCliPortal, type CliPortal } from "../helpers/cli-portal";

const PORT = 3633;
const { db } = await bootPortal();
const group = await makeGroup(db, { autoApprove: true });
const customer = await makeUser(db, "customer", group.slug);
let cli: CliPortal;
let u: CliUser;
const names = { a: unique("sipa"), b: unique("sipb"), ip: unique("web") };

beforeAll(async () => {
  cli = await startCliPortal(db, PORT);
  u = await cli.loggedIn(customer);
  for (const name of [names.a, names.b]) {
    const ordered = await u.json(["order", "--image", "linux-test", "--flavor", "small", "--name", name, "--wait"]);
    expect(ordered.status).toBe("ready");
  }
}, 90_000);

afterAll(async () => {
  await cli?.stop();
});

describe("portal service-ip", () => {
  it("reserves one, attaches it, moves it in one step and shows the move, detaches and releases it", async () => {
    const reserved = await u.portal(["service-ip", "reserve", names.ip, "--network", "service"]);
    expect(reserved.code, reserved.stderr).toBe(0);
    const ip = /: (10\.20\.0\.\d+) on Service network/.exec(reserved.stdout)?.[1];
    expect(ip, reserved.stdout).toBeTruthy();

    const attached = await u.portal(["service-ip", "attach", names.ip, "--environment", names.a, "--wait"]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(attached.stdout).toMatch(new RegExp(`^${names.ip} \\(${ip!.replace(/\./g, "\\.")}\\): attach ${names.a} in \\d+ ms$`, "m"));

    const moved = await u.portal(["service-ip", "attach", names.ip, "--environment", names.b, "--wait"]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`move ${names.a} -> ${names.b} in`);
    expect(moved.stdout).toContain("downtime not measured");

    const listed = await u.portal(["service-ip", "list"]);
    expect(listed.stdout).toMatch(/^NAME\s+ADDRESS\s+NETWORK\s+GROUP\s+POINTS TO\s+LAST CHANGE$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${names.ip}\\s+${ip!.replace(/\./g, "\\.")}\\s+service\\s+${group.slug}\\s+${names.b}\\s+move`, "m"));
    const shown = await u.json(["service-ip", "show", names.ip]);
    expect(shown.moves.map((m: { kind: string }) => m.kind)).toEqual(["move", "attach"]);

    const busy = await u.portal(["service-ip", "release", names.ip]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`HTTP 409 Conflict: Service IP ${names.ip} (${ip}) is attached to ${names.b}; detach it first`);
    expect((await u.portal(["service-ip", "detach", names.ip, "--wait"])).code).toBe(0);
    const released = await u.portal(["service-ip", "release", names.ip]);
    expect(released.code, released.stderr).toBe(0);
    expect((await u.portal(["service-ip", "show", names.ip])).code).toBe(1);
  }, 60_000);

  it("says why it refuses, with the field", async () => {
    const noNet = await u.portal(["service-ip", "reserve", unique("x"), "--network", "nowhere"]);
    expect(noNet.code).toBe(1);
    expect(noNet.stderr).toContain('network: No network "nowhere"');
    expect((await u.portal(["service-ip", "attach", "anything"])).code).toBe(2);
  });
});
