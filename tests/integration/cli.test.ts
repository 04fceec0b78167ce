/**
 * The command-line client (`npx portal`, scripts/bin/portal.mjs) as a user runs it: spawned as
 * a process, against a running portal (the app's route handlers behind tests/helpers/api-server.ts
 * on port 3386, with a worker in this process delivering orders on the sim hosts), with its
 * config in a folder of its own.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  // Steps that take a moment, so that --wait shows them start and end.
  process.env.SIM_STEP_MS = "60";
});

import { bootPortal, injectFailures, makeGroup, makeUser, tokenFor, unique, type Actor } from "../helpers/portal";
import { startCliPortal, type CliPortal } from "../helpers/cli-portal";

const PORT = 3386;
const URL = `http://127.0.0.1:${PORT}`;
const { db } = await bootPortal();
const held = await makeGroup(db, { autoApprove: false });
const auto = await makeGroup(db, { autoApprove: true });
const customer = await makeUser(db, "customer", auto.slug);
const heldCustomer = await makeUser(db, "customer", held.slug);
const approver = await makeUser(db, "approver", held.slug);
let cli: CliPortal;

beforeAll(async () => {
  cli = await startCliPortal(db, PORT);
});

afterAll(async () => {
  await cli?.stop();
});

/** A user of the client, whose home is removed after the file. */
const user = () => cli.user();
const loggedIn = (actor: Actor) => cli.loggedIn(actor);

describe("portal login", () => {
  it("checks the token, keeps it in the user's config folder readable by them only, and says who they are", async () => {
    const u = user();
    const token = await tokenFor(db, customer);
    const r = await u.portal(["login", "--url", URL, "--token-stdin"], `${token}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Signed in to ${URL} as ${customer.email} (customer)`);
    expect(statSync(u.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(u.configFile)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(u.configFile, "utf8"))).toEqual({ url: URL, token, email: customer.email });
    expect(await u.json(["whoami"])).toMatchObject({ email: customer.email, role: "customer", authSource: "local", groups: [{ slug: auto.slug, as: "customer" }] });

    const out = await u.portal(["logout"]);
    expect(out.stdout).toContain(`Signed out of ${URL}`);
    expect(() => statSync(u.configFile)).toThrow();
    const after = await u.portal(["whoami"]);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain("not signed in: run portal login --url <portal> first");
  });

  it("refuses a token the portal does not know, with the HTTP status, and keeps nothing", async () => {
    const u = user();
    const r = await u.portal(["login", "--url", URL, "--token-stdin"], "ptk_not-a-real-token\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("portal: HTTP 401 Unauthorized: Sign in or send an API token");
    expect(() => statSync(u.configFile)).toThrow();
    const unreachable = await u.portal(["login", "--url", "http://127.0.0.1:3387", "--token-stdin", "--json"], "ptk_whatever\n");
    expect(unreachable.code).toBe(1);
    expect(JSON.parse(unreachable.stderr)).toMatchObject({ error: expect.stringContaining("could not be reached (ECONNREFUSED)") });
  });
});

describe("ordering from the command line", () => {
  it("shows the catalog, as text and as JSON", async () => {
    const u = await loggedIn(customer);
    const text = await u.portal(["catalog"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^linux-test\s+linux\s+Linux test server$/m);
    expect(text.stdout).toMatch(/^small\s+1\s+1 GiB/m);
    const c = await u.json(["catalog"]);
    expect(c.images.map((i: { slug: string }) => i.slug)).toContain("linux-test");
  });

  it("orders with --wait: the steps live, then the host and addresses, exit code 0 once ready; show and orders find it", async () => {
    const u = await loggedIn(customer);
    const name = unique("cli");
    const r = await u.portal(["order", "--image", "linux-test", "--flavor", "small", "--name", name, "--wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Ordered ${name}: [0-9a-f-]{36}$`, "m"));
    expect(r.stdout).toMatch(/^ {2}… .+$/m);
    expect(r.stdout).toMatch(/^ {2}✓ .+ \((\d+ ms|\d+\.\d s)\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^Ready: ${name} on sim-\\d$`, "m"));
    expect(r.stdout).toMatch(/^ {2}10\.\d+\.\d+\.\d+ \(\w[\w-]*, MAC 02:00:00:[0-9a-f:]+\)$/m);
    const id = /^Ordered .+: ([0-9a-f-]{36})$/m.exec(r.stdout)![1];

    const shown = await u.portal(["show", id]);
    expect(shown.stdout).toContain(`${name}  ${id}`);
    expect(shown.stdout).toMatch(/status: {3}ready/);
    expect((await u.json(["show", id])).environment.hostname).toBe(name);
    const list = await u.json(["orders"]);
    expect(list.orders.map((o: { id: string }) => o.id)).toContain(id);
    expect((await u.portal(["orders"])).stdout).toMatch(new RegExp(`^${id}\\s+${name}\\s+ready`, "m"));
  });

  it("--json gives the delivered order on stdout and the progress on stderr; a failed delivery exits 1 with the failed step", async () => {
    const u = await loggedIn(customer);
    const ready = await u.portal(["order", "--image", "linux-test", "--flavor", "small", "--name", unique("cli"), "--wait", "--json"]);
    expect(ready.code, ready.stderr).toBe(0);
    expect(JSON.parse(ready.stdout)).toMatchObject({ status: "ready", environment: { state: "running" } });
    expect(ready.stderr).toContain("✓");

    await injectFailures(db, { glue: 1 });
    try {
      const failed = await u.portal(["order", "--image", "linux-test", "--flavor", "small", "--name", unique("cli"), "--wait"]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/^ {2}✗ .+: sim-\d: injected failure in step glue/m);
      expect(failed.stdout).toMatch(/: failed \(Step ".+" failed: /);
    } finally {
      await injectFailures(db, {});
    }
  });

  it("says what the portal refused and why, with the HTTP status and the field", async () => {
    const u = await loggedIn(customer);
    const r = await u.portal(["order", "--image", "no-such-image", "--flavor", "small", "--name", unique("cli")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^portal: HTTP 422 Unprocessable Content: .+\n {2}image: .+/);
    const json = await u.portal(["order", "--image", "no-such-image", "--flavor", "small", "--name", unique("cli"), "--json"]);
    expect(JSON.parse(json.stderr)).toMatchObject({ status: 422, fields: { image: [expect.any(String)] } });
    const missing = await u.portal(["show", "00000000-0000-4000-8000-000000000000"]);
    expect(missing).toMatchObject({ code: 1, stderr: "portal: HTTP 404 Not Found: Order not found\n" });
    const usage = await u.portal(["order", "--image", "linux-test"]);
    expect(usage).toMatchObject({ code: 2, stderr: "portal: missing --flavor, --name\n" });
    expect((await u.portal(["order", "--colour", "blue"])).code).toBe(2);
  });
});

describe("approvals and the environment's life", () => {
  it("an approver lists held orders, approves one and rejects another with a reason the customer reads", async () => {
    const customerCli = await loggedIn(heldCustomer);
    const a = await customerCli.json(["order", "--image", "linux-test", "--flavor", "small", "--name", unique("held")]);
    const b = await customerCli.json(["order", "--image", "linux-test", "--flavor", "small", "--name", unique("held")]);
    expect([a.status, b.status]).toEqual(["pending_approval", "pending_approval"]);

    const approverCli = await loggedIn(approver);
    const queue = await approverCli.json(["orders", "--approvals"]);
    expect(queue.orders.map((o: { id: string }) => o.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect((await approverCli.portal(["approve", a.id])).stdout).toBe(`${a.id}: queued\n`);
    expect(await approverCli.portal(["reject", b.id])).toMatchObject({ code: 2, stderr: "portal: give the customer a reason: --reason <text>\n" });
    expect((await approverCli.json(["reject", b.id, "--reason", "Use the shared test server"])).status).toBe("rejected");
    const again = await approverCli.portal(["approve", b.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^portal: HTTP 409 Conflict: /);
    expect((await customerCli.json(["show", b.id])).reason).toContain("Use the shared test server");
    // A customer cannot decide on orders.
    expect((await customerCli.portal(["approve", a.id])).stderr).toMatch(/^portal: HTTP 403 Forbidden: /);
  });

  it("stops and starts the environment, then destroys it (only with --yes), each waiting for the result", async () => {
    const u = await loggedIn(customer);
    const name = unique("life");
    const ordered = await u.json(["order", "--image", "linux-test", "--flavor", "small", "--name", name, "--wait"]);
    expect((await u.portal(["stop", ordered.id, "--wait"])).stdout).toBe(`${name}: stopped\n`);
    const stopped = await u.portal(["stop", ordered.id]);
    expect(stopped).toMatchObject({ code: 1, stderr: "portal: HTTP 409 Conflict: The environment is already stopped\n" });
    expect((await u.json(["start", ordered.id, "--wait"])).environment.state).toBe("running");

    expect(await u.portal(["destroy", ordered.id])).toMatchObject({ code: 2, stderr: "portal: destroying cannot be undone: add --yes\n" });
    const destroyed = await u.portal(["destroy", ordered.id, "--yes", "--wait"]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stdout).toMatch(new RegExp(`^${name}: retired$`, "m"));
    expect((await u.json(["show", ordered.id])).status).toBe("retired");
  });
});
