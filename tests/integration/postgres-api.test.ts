/**
 * The database recipe through the API on simulated hosts (the real guest is
 * tests/integration/qemu-postgres.test.ts): an admin makes a catalog item with the recipe; an
 * order with a reserved name is refused with the field; a delivered one says how to connect
 * (host, port, database, user) and shows the recipe's outputs; a new password is refused,
 * with the reason and nothing changed, to whoever may not ask, for an environment whose
 * recipe has no password, and on a host kind that cannot reach into its guests.
 */
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as credentialsRoute from "@/app/api/v1/environments/[id]/credentials/route";
import { environmentActions, orders, orderSecrets } from "@/lib/db/schema";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitForOrder } from "../helpers/portal";

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let token: string;
let customerId: string;
let otherToken: string;
let approverToken: string;
let adminToken: string;
const dbImage = unique("pg-sim");
const webImage = unique("web-sim");

async function deliver(body: Record<string, unknown>) {
  const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { flavor: "small", name: unique("db"), ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await waitForOrder(db, res.body.id, ["ready", "failed"], 60_000);
  const view = (await invoke(orderRoute.GET, "GET", `/api/v1/orders/${res.body.id}`, { token, params: { id: res.body.id } })).body;
  expect(view.status).toBe("ready");
  return view;
}

const rotate = (envId: string, as: string) => invoke(credentialsRoute.POST, "POST", `/api/v1/environments/${envId}/credentials`, { token: as, params: { id: envId } });

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  const customer = await makeUser(db, "customer", group.slug);
  customerId = customer.id;
  token = await tokenFor(db, customer);
  otherToken = await tokenFor(db, await makeUser(db, "customer", (await makeGroup(db, { autoApprove: true })).slug));
  approverToken = await tokenFor(db, await makeUser(db, "approver", group.slug));
  adminToken = await tokenFor(db, admin);
  for (const [slug, recipeSlug, purpose] of [[dbImage, "postgres", "database"], [webImage, "web", "web"]]) {
    const made = await invoke(imagesRoute.POST, "POST", "/api/v1/images", {
      token: adminToken,
      body: { slug, name: `${slug} (simulated)`, os: "linux", version: "1", hostKinds: ["sim"], source: "clone", purpose, sizeMb: 100, recipeSlug },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  }
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

describe("the database recipe through the API", () => {
  it("refuses reserved and malformed names with the field, and makes no order", async () => {
    const ordersOf = async () => (await db.select({ n: count() }).from(orders).where(eq(orders.userId, customerId)))[0]!.n;
    const before = await ordersOf();
    for (const [recipe, field, message] of [
      [{ database: "postgres", owner: "app" }, "recipe.database", /every PostgreSQL server has/],
      [{ database: "app", owner: "pg_app" }, "recipe.owner", /pg_ are reserved/],
      [{ database: "App-DB", owner: "app" }, "recipe.database", /lower-case/],
      [{ database: "app" }, "recipe.owner", /./],
    ] as const) {
      const res = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token, body: { image: dbImage, flavor: "small", name: unique("bad"), recipe } });
      expect(res.status, JSON.stringify(recipe)).toBe(422);
      expect(res.body.fields?.[field]?.[0], JSON.stringify(res.body)).toMatch(message);
    }
    expect(await ordersOf()).toBe(before);
  });

  it("a delivered database says how to connect and names its database, user and port", async () => {
    const view = await deliver({ image: dbImage, recipe: { database: "ledger", owner: "ledger_app" } });
    const address = view.environment.connection.address;
    expect(view.environment.connection.database).toEqual({
      engine: "postgresql", host: address, port: 5432, database: "ledger", user: "ledger_app",
      command: `psql "host=${address} port=5432 dbname=ledger user=ledger_app"`,
    });
    expect(Object.fromEntries(view.recipe.outputs.map((o: { name: string; value: string | null }) => [o.name, o.value]))).toEqual({ database: "ledger", user: "ledger_app", port: "5432", password: null });
    expect(view.recipe.outputs.find((o: { name: string }) => o.name === "password").secret).toMatchObject({ available: true });
  });

  it("a new password is refused with the reason, and nothing changes: to others, without a password, on a host kind that cannot set it", async () => {
    const view = await deliver({ image: dbImage, recipe: { database: "stock", owner: "stock_app" } });
    const envId = view.environment.id as string;
    const [before] = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, view.id));

    expect((await rotate(envId, otherToken)).status).toBe(404);
    const approver = await rotate(envId, approverToken);
    expect(approver.status).toBe(403);
    expect(approver.body.error).toMatch(/Only the customer who ordered it or an admin/);
    const simulated = await rotate(envId, token);
    expect(simulated.status).toBe(409);
    expect(simulated.body.error).toBe("Passwords of environments on sim hosts cannot be changed from the portal in this version");
    const byAdmin = await rotate(envId, adminToken);
    expect(byAdmin.status).toBe(409);

    const web = await deliver({ image: webImage });
    const noPassword = await rotate(web.environment.id, token);
    expect(noPassword.status).toBe(409);
    expect(noPassword.body.error).toBe("This environment has no password the portal can change");

    const [after] = await db.select().from(orderSecrets).where(eq(orderSecrets.orderId, view.id));
    expect(after).toEqual(before);
    expect(await db.select().from(environmentActions).where(and(eq(environmentActions.environmentId, envId), eq(environmentActions.action, "credentials")))).toEqual([]);
  });
});
