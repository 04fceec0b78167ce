/**
 * `portal host` and `portal campaign` as an admin runs them (spawned processes against the
 * app's route handlers on port 3634, a worker in this process, sim hosts): hosts listed, one
 * evacuated with --wait to the end (offline and empty, exit 0), its moves shown, stop-evacuation
 * refused once it has ended; then a patch campaign created with --wait to completion, listed,
 * and pause refused once it is over. A customer is refused with the HTTP status and exit code 1.
 */
import { eq, inArray, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hosts, images } from "@/lib/db/schema";
import * as versionsRoute from "@/app/api/v1/images/[id]/versions/route";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique } from "../helpers/portal";
import type { CliUser } from "../helpers/cli";
import { startCliPortal, type CliPortal } from "../helpers/cli-portal";

const PORT = 3634;
const { db, admin } = await bootPortal();
const group = await makeGroup(db, { autoApprove: true });
const customer = await makeUser(db, "customer", group.slug);
let cli: CliPortal;
let a: CliUser;
let c: CliUser;
const tag = unique("clih");

type HostRow = typeof hosts.$inferSelect;
async function simHost(name: string): Promise<HostRow> {
  const [row] = await db
    .insert(hosts)
    .values({ name: `${tag}-${name}`, kind: "sim", address: `sim://${tag}-${name}`, cpuCapacity: 8, memoryMbCapacity: 16384, diskGbCapacity: 500, features: ["vms", "live-migration"], state: "offline" })
    .returning();
  return row!;
}
async function onlyActive(...active: HostRow[]) {
  await db.update(hosts).set({ state: "offline" }).where(ne(hosts.state, "offline"));
  await db.update(hosts).set({ state: "active" }).where(inArray(hosts.id, active.map((h) => h.id)));
}

let one: HostRow;
let two: HostRow;

beforeAll(async () => {
  cli = await startCliPortal(db, PORT);
  a = await cli.loggedIn(admin);
  c = await cli.loggedIn(customer);
  [one, two] = [await simHost("one"), await simHost("two")];
  await onlyActive(one);
  for (const n of [1, 2, 3]) {
    const ordered = await c.json(["order", "--image", "linux-test", "--flavor", "small", "--name", `${tag}-${n}`, "--wait"]);
    expect(ordered.status).toBe("ready");
  }
  await onlyActive(one, two);
}, 90_000);

afterAll(async () => {
  await cli?.stop();
});

describe("portal host", () => {
  it("lists the hosts, evacuates one to the end and shows each move", async () => {
    const listed = await a.portal(["host", "list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+KIND\s+STATE\s+ENVIRONMENTS\s+MEMORY USED$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${one.name}\\s+sim\\s+active\\s+3\\s+3072 of 16384 MiB$`, "m"));

    const evacuated = await a.portal(["host", "evacuate", one.name, "--parallel", "1", "--wait"]);
    expect(evacuated.code, evacuated.stderr).toBe(0);
    expect(evacuated.stdout).toContain(`${one.name}: evacuation completed (3 of 3 moved): ${one.name} is offline and holds no environment (3 environments moved)`);
    expect(evacuated.stdout).toMatch(/^ENVIRONMENT\s+FROM\s+TO\s+STATUS\s+MODE\s+DOWNTIME\s+REASON$/m);
    expect(evacuated.stdout.match(new RegExp(`\\s${one.name}\\s+${two.name}\\s+moved\\s+live\\s+\\d+ ms`, "g"))).toHaveLength(3);

    const shown = await a.json(["host", "evacuation", one.name]);
    expect(shown).toMatchObject({ status: "completed", counts: { total: 3, moved: 3 } });
    const nothing = await a.portal(["host", "stop-evacuation", one.name]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("HTTP 409 Conflict: The evacuation has ended (completed); there is nothing to stop");
  }, 60_000);

  it("refuses a customer and an unknown host, saying why", async () => {
    const refused = await c.portal(["host", "evacuate", two.name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("HTTP 403");
    const unknown = await a.portal(["host", "evacuation", "no-such-host"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no host "no-such-host"');
    expect((await a.portal(["host", "evacuate"])).code).toBe(2);
  });
});

describe("portal campaign", () => {
  it("creates a campaign over a group's environments and follows it to the end; lists it; refuses to pause it then", async () => {
    const [image] = await db.select({ id: images.id }).from(images).where(eq(images.slug, "linux-test"));
    const added = await invoke(versionsRoute.POST, "POST", `/api/v1/images/${image!.id}/versions`, { token: await tokenFor(db, admin), params: { id: image!.id }, body: { changelog: "openssl fix" } });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const start = new Date(Date.now() - 1000).toISOString();
    const end = new Date(Date.now() + 3600_000).toISOString();
    const name = unique("patch");
    const created = await a.portal(["campaign", "create", "--image", "linux-test", "--group", group.slug, "--wave-size", "2", "--max-failures", "0", "--start", start, "--end", end, "--name", name, "--wait"]);
    expect(created.code, created.stderr + created.stdout).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^[0-9a-f-]{36}: ${name} scheduled, 3 environment\\(s\\)$`, "m"));
    expect(created.stdout).toContain(`${name}: completed (Finished: 3 updated.); Linux test server to version ${added.body.number}, 2 a wave`);
    expect(created.stdout).toMatch(/^ENVIRONMENT\s+OWNER\s+WAVE\s+STATUS\s+FROM\s+NOW\s+NOTE$/m);
    expect(created.stdout.match(new RegExp(`^${tag}-\\d\\s+\\S+\\s+[12]\\s+done\\s+1\\s+${added.body.number}`, "gm"))).toHaveLength(3);

    const listed = await a.portal(["campaign", "list"]);
    expect(listed.stdout).toMatch(new RegExp(`\\s${name}\\s+completed\\s+linux-test\\s+3 done$`, "m"));
    const id = /^(\S+)\s/m.exec(listed.stdout.split("\n").find((l) => l.includes(name))!)![1]!;
    const paused = await a.portal(["campaign", "pause", id]);
    expect(paused.code).toBe(1);
    expect(paused.stderr).toContain("HTTP 409 Conflict");
    const refused = await c.portal(["campaign", "list"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("HTTP 403");
    expect((await a.portal(["campaign", "create", "--image", "linux-test"])).code).toBe(2);
  }, 90_000);
});
