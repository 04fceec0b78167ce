/**
 * The OpenAPI document tells the truth: real requests to the route handlers, on real
 * PostgreSQL, Redis and workers, answer only statuses the document lists for the operation,
 * with bodies that its schema for that status accepts. Covers every list route and the
 * statuses clients trip over (401 without a token, 403 for scope=all, 404, 409, 415, 422).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import * as healthRoute from "@/app/api/health/route";
import * as openApiRoute from "@/app/api/v1/openapi.json/route";
import * as catalogRoute from "@/app/api/v1/catalog/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import * as imagesRoute from "@/app/api/v1/images/route";
import * as imageRoute from "@/app/api/v1/images/[id]/route";
import * as retireImageRoute from "@/app/api/v1/images/[id]/retire/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import * as orderRoute from "@/app/api/v1/orders/[id]/route";
import * as estimateRoute from "@/app/api/v1/orders/[id]/estimate/route";
import * as preflightRoute from "@/app/api/v1/orders/[id]/preflight/route";
import * as cancelRoute from "@/app/api/v1/orders/[id]/cancel/route";
import * as usersRoute from "@/app/api/v1/users/route";
import * as tokensRoute from "@/app/api/v1/tokens/route";
import * as tokenRoute from "@/app/api/v1/tokens/[id]/route";
import * as sshKeyRoute from "@/app/api/v1/me/ssh-key/route";
import * as emailPreferencesRoute from "@/app/api/v1/me/email-preferences/route";
import * as groupsRoute from "@/app/api/v1/groups/route";
import * as groupRoute from "@/app/api/v1/groups/[id]/route";
import * as membersRoute from "@/app/api/v1/groups/[id]/members/route";
import * as quotasRoute from "@/app/api/v1/quotas/route";
import * as userQuotaRoute from "@/app/api/v1/quotas/users/[id]/route";
import * as policiesRoute from "@/app/api/v1/policies/route";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as workersRoute from "@/app/api/v1/workers/route";
import * as leasesRoute from "@/app/api/v1/leases/route";
import * as extendRoute from "@/app/api/v1/leases/[environmentId]/extend/route";
import * as leaseLimitsRoute from "@/app/api/v1/leases/limits/route";
import * as leaseRequestsRoute from "@/app/api/v1/leases/requests/route";
import * as notificationsRoute from "@/app/api/v1/notifications/route";
import * as unreadRoute from "@/app/api/v1/notifications/unread/route";
import * as coursesRoute from "@/app/api/v1/courses/route";
import * as courseRoute from "@/app/api/v1/courses/[id]/route";
import * as rosterRoute from "@/app/api/v1/courses/[id]/roster/route";
import * as machineRoute from "@/app/api/v1/courses/[id]/machine/route";
import * as invitationsRoute from "@/app/api/v1/courses/[id]/invitations/route";
import * as acceptRoute from "@/app/api/v1/invitations/accept/route";
import * as auditRoute from "@/app/api/v1/audit/route";
import * as deliveryRoute from "@/app/api/v1/delivery/route";
import * as meRoute from "@/app/api/v1/me/route";
import * as signInRulesRoute from "@/app/api/v1/sign-in/rules/route";
import * as signInRuleRoute from "@/app/api/v1/sign-in/rules/[id]/route";
import * as signInSettingsRoute from "@/app/api/v1/sign-in/settings/route";
import * as consoleRoute from "@/app/api/v1/environments/[id]/console/route";
import { openApiDocument } from "@/lib/api/openapi";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke, type Call } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";

type Handler = (req: Request, context: { params?: Promise<Record<string, string>> }) => Promise<Response>;
type Schema = Record<string, unknown>;
type DocResponse = { $ref?: string; description: string; content?: Record<string, { schema?: Schema }> };

const doc = openApiDocument() as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, DocResponse> }>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, DocResponse> };
};
/** zod reads local references from $defs only: the document's components are put there. */
const toDefs = (s: unknown) => JSON.parse(JSON.stringify(s).replaceAll("#/components/schemas/", "#/$defs/"));
const defs = toDefs(doc.components.schemas);
const validator = (schema: Schema) => z.fromJSONSchema({ ...toDefs(schema), $defs: defs } as never);

/**
 * Calls the handler and checks the answer against the document: its status is one the
 * operation lists, and its JSON body passes that response's schema. Returns the answer.
 */
async function documented(handler: Handler, method: string, template: string, url: string, call: Call = {}) {
  const res = await invoke(handler, method, url, call);
  const operation = doc.paths[template]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is not in the document`).toBeDefined();
  const listed = operation.responses[String(res.status)];
  expect(listed, `${method} ${url} answered ${res.status} (${JSON.stringify(res.body)}), which its operation does not list`).toBeDefined();
  const response = listed.$ref ? doc.components.responses[listed.$ref.split("/").pop()!] : listed;
  const schema = response.content?.["application/json"]?.schema;
  if (schema) {
    const parsed = validator(schema).safeParse(res.body);
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`), `${method} ${url} ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`).toEqual([]);
  }
  return res;
}

const { db, admin } = await bootPortal();
let worker: RunningWorkers;
let approver: Actor, customer: Actor;
const token = {} as Record<"admin" | "approver" | "customer", string>;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

beforeAll(async () => {
  const pool = await makeGroup(db, { autoApprove: true });
  approver = await makeUser(db, "approver", pool.slug);
  customer = await makeUser(db, "customer", pool.slug);
  token.admin = await tokenFor(db, admin);
  token.approver = await tokenFor(db, approver);
  token.customer = await tokenFor(db, customer);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
});

describe("answers as the OpenAPI document says", () => {
  it("health, the document itself, the catalog and networks", async () => {
    const health = await documented(() => healthRoute.GET(), "GET", "/api/health", "/api/health");
    expect(health.status).toBe(200);
    expect((await documented(() => Promise.resolve(openApiRoute.GET()), "GET", "/api/v1/openapi.json", "/api/v1/openapi.json")).status).toBe(200);
    const catalog = await documented(catalogRoute.GET, "GET", "/api/v1/catalog", "/api/v1/catalog?os=linux", { token: token.customer });
    expect(catalog.status).toBe(200);
    expect(catalog.body.images.length).toBeGreaterThan(0);
    expect((await documented(catalogRoute.GET, "GET", "/api/v1/catalog", "/api/v1/catalog?os=junk", { token: token.customer })).status).toBe(422);
    expect((await documented(networksRoute.GET, "GET", "/api/v1/networks", "/api/v1/networks", { token: token.customer })).status).toBe(200);
  });

  it("images: added, changed, hidden, retired, and refused once retired", async () => {
    const slug = unique("doc-img");
    const body = { slug, name: "Documented image", os: "linux", version: "Debian 12", hostKinds: ["sim"], source: "clone", purpose: "test", sizeMb: 512 };
    const created = await documented(imagesRoute.POST, "POST", "/api/v1/images", "/api/v1/images", { token: token.admin, body });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const url = `/api/v1/images/${id}`;
    const patch = (call: Call) => documented(imageRoute.PATCH, "PATCH", "/api/v1/images/{id}", url, { token: token.admin, params: { id }, ...call });
    expect((await patch({ body: { active: false, version: "Debian 12.8" } })).status).toBe(200);
    expect((await patch({ body: { hostKinds: ["zones"] } })).status).toBe(422);
    expect((await patch({ body: { name: "Mine" }, token: token.customer })).status).toBe(403);
    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await documented(imageRoute.PATCH, "PATCH", "/api/v1/images/{id}", `/api/v1/images/${missing}`, { token: token.admin, params: { id: missing }, body: { name: "Ghost" } })).status).toBe(404);
    const retire = () => documented(retireImageRoute.POST, "POST", "/api/v1/images/{id}/retire", `${url}/retire`, { token: token.admin, params: { id } });
    expect((await retire()).status).toBe(200);
    expect((await patch({ body: { active: true } })).status).toBe(409);
  });

  it("users, tokens, the SSH key and e-mail preferences, with 401 without a token", async () => {
    expect((await documented(tokensRoute.GET, "GET", "/api/v1/tokens", "/api/v1/tokens")).status).toBe(401);
    expect((await documented(usersRoute.GET, "GET", "/api/v1/users", "/api/v1/users", { token: token.admin })).status).toBe(200);
    expect((await documented(usersRoute.GET, "GET", "/api/v1/users", "/api/v1/users", { token: token.customer })).status).toBe(403);
    const email = `${unique("doc")}@portal.test`;
    const created = await documented(usersRoute.POST, "POST", "/api/v1/users", "/api/v1/users", {
      token: token.admin,
      body: { email, name: "Documented User", role: "customer", password: "password-for-tests" },
    });
    expect(created.status).toBe(201);
    expect((await documented(usersRoute.POST, "POST", "/api/v1/users", "/api/v1/users", { token: token.admin, body: { email, name: "Again", role: "customer", password: "password-for-tests" } })).status).toBe(409);

    const made = await documented(tokensRoute.POST, "POST", "/api/v1/tokens", "/api/v1/tokens", { token: token.customer, body: { name: "documented" } });
    expect(made.status).toBe(201);
    const list = await documented(tokensRoute.GET, "GET", "/api/v1/tokens", "/api/v1/tokens", { token: token.customer });
    expect(list.body.tokens.map((t: { id: string }) => t.id)).toContain(made.body.id);
    const url = `/api/v1/tokens/${made.body.id}`;
    expect((await documented(tokenRoute.DELETE, "DELETE", "/api/v1/tokens/{id}", url, { token: token.customer, params: { id: made.body.id } })).status).toBe(204);
    expect((await documented(tokenRoute.DELETE, "DELETE", "/api/v1/tokens/{id}", url, { token: token.customer, params: { id: made.body.id } })).status).toBe(404);
    expect((await documented(sshKeyRoute.GET, "GET", "/api/v1/me/ssh-key", "/api/v1/me/ssh-key", { token: token.customer })).status).toBe(200);

    const prefs = "/api/v1/me/email-preferences";
    expect((await documented(emailPreferencesRoute.GET, "GET", prefs, prefs, { token: token.customer })).body.email["order.ready"]).toBe(true);
    const saved = await documented(emailPreferencesRoute.PATCH, "PATCH", prefs, prefs, { token: token.customer, body: { email: { "order.ready": false } } });
    expect(saved.body.email).toMatchObject({ "order.ready": false, "order.failed": true });
    expect((await documented(emailPreferencesRoute.PATCH, "PATCH", prefs, prefs, { token: token.customer, body: { email: { "order.shipped": true } } })).status).toBe(422);
    expect((await documented(emailPreferencesRoute.PATCH, "PATCH", prefs, prefs)).status).toBe(401);
  });

  it("groups, quotas, policies and hosts, for admins and for others", async () => {
    const all = await documented(groupsRoute.GET, "GET", "/api/v1/groups", "/api/v1/groups", { token: token.admin });
    expect(all.status).toBe(200);
    const mine = await documented(groupsRoute.GET, "GET", "/api/v1/groups", "/api/v1/groups", { token: token.customer });
    expect(mine.body.groups).toHaveLength(1);
    const id = mine.body.groups[0].id as string;
    expect((await documented(groupRoute.GET, "GET", "/api/v1/groups/{id}", `/api/v1/groups/${id}`, { token: token.admin, params: { id } })).status).toBe(200);
    expect((await documented(groupRoute.GET, "GET", "/api/v1/groups/{id}", "/api/v1/groups/nope", { token: token.admin, params: { id: "nope" } })).status).toBe(404);
    expect((await documented(membersRoute.GET, "GET", "/api/v1/groups/{id}/members", `/api/v1/groups/${id}/members`, { token: token.admin, params: { id } })).status).toBe(200);
    expect((await documented(quotasRoute.GET, "GET", "/api/v1/quotas", "/api/v1/quotas", { token: token.customer })).status).toBe(200);
    const userQuota = `/api/v1/quotas/users/${customer.id}`;
    expect((await documented(userQuotaRoute.GET, "GET", "/api/v1/quotas/users/{id}", userQuota, { token: token.admin, params: { id: customer.id } })).status).toBe(200);
    expect((await documented(policiesRoute.GET, "GET", "/api/v1/policies", "/api/v1/policies", { token: token.approver })).status).toBe(200);
    expect((await documented(policiesRoute.GET, "GET", "/api/v1/policies", "/api/v1/policies", { token: token.customer })).status).toBe(403);
    expect((await documented(hostsRoute.GET, "GET", "/api/v1/hosts", "/api/v1/hosts", { token: token.admin })).status).toBe(200);
    // This file's worker runs in this process: it is listed, live.
    const workers = await documented(workersRoute.GET, "GET", "/api/v1/workers", "/api/v1/workers", { token: token.admin });
    expect(workers.status).toBe(200);
    expect(workers.body.workers.some((w: { live: boolean }) => w.live)).toBe(true);
    expect((await documented(workersRoute.GET, "GET", "/api/v1/workers", "/api/v1/workers", { token: token.approver })).status).toBe(403);
    expect((await documented(auditRoute.GET, "GET", "/api/v1/audit", "/api/v1/audit?perPage=5", { token: token.admin })).status).toBe(200);
    expect((await documented(auditRoute.GET, "GET", "/api/v1/audit", "/api/v1/audit?page=0", { token: token.admin })).status).toBe(422);
    expect((await documented(deliveryRoute.GET, "GET", "/api/v1/delivery", "/api/v1/delivery?range=30d", { token: token.admin })).status).toBe(200);
  });

  it("orders and leases: a delivered order, its lease, an extension request for the approver", async () => {
    expect((await documented(ordersRoute.GET, "GET", "/api/v1/orders", "/api/v1/orders?scope=all", { token: token.customer })).status).toBe(403);
    expect((await documented(ordersRoute.GET, "GET", "/api/v1/orders", "/api/v1/orders?page=x", { token: token.customer })).status).toBe(422);
    const created = await documented(ordersRoute.POST, "POST", "/api/v1/orders", "/api/v1/orders", { token: token.customer, body: { image: "linux-test", flavor: "small", name: unique("doc") } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const url = `/api/v1/orders/${id}`;
    const ready = await waitFor(
      () => documented(orderRoute.GET, "GET", "/api/v1/orders/{id}", url, { token: token.customer, params: { id } }),
      (r) => r.body.status === "ready" || r.body.status === "failed",
      { what: `order ${id} to be delivered`, timeoutMs: 30_000 },
    );
    expect(ready.body.status).toBe("ready");
    // Checked against the document above with what a delivered order carries: how to connect, its lease.
    expect(ready.body.environment.connection.command).toMatch(/^ssh root@10\.30\.0\.\d+$/);
    expect(ready.body.lease).toMatchObject({ status: "ready", extendable: true });
    const missing = crypto.randomUUID();
    expect((await documented(orderRoute.GET, "GET", "/api/v1/orders/{id}", `/api/v1/orders/${missing}`, { token: token.customer, params: { id: missing } })).status).toBe(404);
    expect((await documented(ordersRoute.GET, "GET", "/api/v1/orders", "/api/v1/orders", { token: token.customer })).body.orders.length).toBeGreaterThan(0);
    expect((await documented(estimateRoute.GET, "GET", "/api/v1/orders/{id}/estimate", `${url}/estimate`, { token: token.customer, params: { id } })).status).toBe(200);
    expect((await documented(preflightRoute.GET, "GET", "/api/v1/orders/{id}/preflight", `${url}/preflight`, { token: token.admin, params: { id } })).status).toBe(200);
    expect((await documented(preflightRoute.GET, "GET", "/api/v1/orders/{id}/preflight", `${url}/preflight`, { token: token.customer, params: { id } })).status).toBe(403);
    expect((await documented(cancelRoute.POST, "POST", "/api/v1/orders/{id}/cancel", `${url}/cancel`, { token: token.customer, params: { id } })).status).toBe(409);

    const leases = await documented(leasesRoute.GET, "GET", "/api/v1/leases", "/api/v1/leases", { token: token.customer });
    const environmentId = leases.body.leases.find((l: { orderId: string }) => l.orderId === id)?.environmentId as string;
    expect(environmentId).toBeDefined();
    expect((await documented(leasesRoute.GET, "GET", "/api/v1/leases", "/api/v1/leases?scope=all", { token: token.customer })).status).toBe(403);
    const extendUrl = `/api/v1/leases/${environmentId}/extend`;
    const extend = (body: unknown) => documented(extendRoute.POST, "POST", "/api/v1/leases/{environmentId}/extend", extendUrl, { token: token.customer, params: { environmentId }, body });
    expect((await extend({ days: 365, reason: "a long project" })).status).toBe(202);
    expect((await extend({ days: 1 })).status).toBe(409);
    expect((await extend({ days: 0 })).status).toBe(422);
    const notJson = await documented(extendRoute.POST, "POST", "/api/v1/leases/{environmentId}/extend", extendUrl, {
      token: token.customer, params: { environmentId }, body: "days=3", headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect([415, 422]).toContain(notJson.status);
    const requests = await documented(leaseRequestsRoute.GET, "GET", "/api/v1/leases/requests", "/api/v1/leases/requests", { token: token.approver });
    expect(requests.body.requests.map((r: { environmentId: string }) => r.environmentId)).toContain(environmentId);
    expect((await documented(leaseLimitsRoute.GET, "GET", "/api/v1/leases/limits", "/api/v1/leases/limits", { token: token.customer })).status).toBe(200);
    expect((await documented(leaseLimitsRoute.PUT, "PUT", "/api/v1/leases/limits", "/api/v1/leases/limits", { token: token.admin, body: { image: "linux-test", maxDays: 120 } })).status).toBe(200);
    const listed = await documented(notificationsRoute.GET, "GET", "/api/v1/notifications", "/api/v1/notifications", { token: token.customer });
    expect(listed.status).toBe(200);
    const count = await documented(unreadRoute.GET, "GET", "/api/v1/notifications/unread", "/api/v1/notifications/unread", { token: token.customer });
    expect(count.body).toEqual({ unread: listed.body.unread });
    expect((await documented(unreadRoute.GET, "GET", "/api/v1/notifications/unread", "/api/v1/notifications/unread")).status).toBe(401);
  });

  it("courses: the teacher's and the student's view, a roster, a lab machine, an invitation", async () => {
    const slug = `doc${Date.now().toString(36).slice(-5)}`;
    const course = { name: `Documented ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: isoDay(new Date()), endsOn: isoDay(new Date(Date.now() + 10 * 86_400_000)) };
    expect((await documented(coursesRoute.POST, "POST", "/api/v1/courses", "/api/v1/courses", { token: token.customer, body: course })).status).toBe(403);
    const created = await documented(coursesRoute.POST, "POST", "/api/v1/courses", "/api/v1/courses", { token: token.approver, body: course });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await documented(coursesRoute.POST, "POST", "/api/v1/courses", "/api/v1/courses", { token: token.approver, body: course })).status).toBe(409);
    const roster = await documented(rosterRoute.POST, "POST", "/api/v1/courses/{id}/roster", `/api/v1/courses/${id}/roster`, {
      token: token.approver, params: { id }, body: { csv: `${customer.email}\n${unique("new")}@uni.test,New Student` },
    });
    expect(roster.status).toBe(200);
    expect(roster.body.invitations).toHaveLength(1);
    const renewPath = ["POST", "/api/v1/courses/{id}/invitations", `/api/v1/courses/${id}/invitations`] as const;
    const renewed = await documented(invitationsRoute.POST, ...renewPath, { token: token.approver, params: { id }, body: { studentIds: [roster.body.invitations[0].studentId] } });
    expect(renewed.body.invitations).toHaveLength(1);
    expect((await documented(invitationsRoute.POST, ...renewPath, { token: token.approver, params: { id }, body: { all: true } })).status).toBe(200);
    expect((await documented(invitationsRoute.POST, ...renewPath, { token: token.approver, params: { id }, body: { studentIds: [customer.id] } })).status).toBe(409);
    expect((await documented(invitationsRoute.POST, ...renewPath, { token: token.approver, params: { id }, body: {} })).status).toBe(422);
    expect((await documented(invitationsRoute.POST, ...renewPath, { token: token.customer, params: { id }, body: { all: true } })).status).toBe(403);
    const machine = await documented(machineRoute.POST, "POST", "/api/v1/courses/{id}/machine", `/api/v1/courses/${id}/machine`, { token: token.customer, params: { id } });
    expect(machine.status).toBe(201);
    expect((await documented(machineRoute.POST, "POST", "/api/v1/courses/{id}/machine", `/api/v1/courses/${id}/machine`, { token: token.customer, params: { id } })).status).toBe(200);
    const teaching = await documented(coursesRoute.GET, "GET", "/api/v1/courses", "/api/v1/courses", { token: token.approver });
    expect(teaching.body.teaching.map((c: { id: string }) => c.id)).toContain(id);
    const attending = await documented(coursesRoute.GET, "GET", "/api/v1/courses", "/api/v1/courses", { token: token.customer });
    expect(attending.body.attending.find((c: { id: string }) => c.id === id)?.machine).not.toBeNull();
    expect((await documented(courseRoute.GET, "GET", "/api/v1/courses/{id}", `/api/v1/courses/${id}`, { token: token.approver, params: { id } })).body.roster).toHaveLength(2);
    expect((await documented(courseRoute.GET, "GET", "/api/v1/courses/{id}", `/api/v1/courses/${id}`, { token: token.customer, params: { id } })).body.machines).toHaveLength(1);
    expect((await documented(courseRoute.PATCH, "PATCH", "/api/v1/courses/{id}", `/api/v1/courses/${id}`, { token: token.approver, params: { id }, body: { capacity: 5 } })).status).toBe(200);
    const unknownInvitation = "x".repeat(40);
    expect((await documented(acceptRoute.POST, "POST", "/api/v1/invitations/accept", "/api/v1/invitations/accept", { body: { token: unknownInvitation, password: "long-enough-password" } })).status).toBe(422);
  });
  it("me, and sign-in mapping rules and settings: admins only, a duplicate, an unknown group, local sign-in with no directory", async () => {
    const me = await documented(meRoute.GET, "GET", "/api/v1/me", "/api/v1/me", { token: token.customer });
    expect(me.body).toMatchObject({ id: customer.id, email: customer.email, role: "customer", authSource: "local" });
    expect(me.body.groups).toContainEqual(expect.objectContaining({ as: "customer" }));
    expect((await documented(meRoute.GET, "GET", "/api/v1/me", "/api/v1/me")).status).toBe(401);

    const rules = "/api/v1/sign-in/rules";
    const pool = (await makeGroup(db, { autoApprove: false })).slug;
    expect((await documented(signInRulesRoute.GET, "GET", rules, rules, { token: token.customer })).status).toBe(403);
    const created = await documented(signInRulesRoute.POST, "POST", rules, rules, { token: token.admin, body: { match: "CN=Physics, OU=Groups,DC=lab", role: "customer", group: pool } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ match: "cn=physics,ou=groups,dc=lab", role: "customer", group: { slug: pool } });
    expect((await documented(signInRulesRoute.POST, "POST", rules, rules, { token: token.admin, body: { match: "cn=physics,ou=groups,dc=lab", role: "customer", group: pool } })).status).toBe(409);
    const unknownGroup = await documented(signInRulesRoute.POST, "POST", rules, rules, { token: token.admin, body: { match: "chemistry", role: "customer", group: "no-such-group" } });
    expect(unknownGroup).toMatchObject({ status: 422, body: { fields: { group: ["No such group"] } } });
    expect((await documented(signInRulesRoute.POST, "POST", rules, rules, { token: token.admin, body: { match: " ", role: "wizard" } })).body.fields).toHaveProperty("role");
    const lab = await documented(signInRulesRoute.POST, "POST", rules, rules, { token: token.admin, body: { match: "lab-admins", role: "admin" } });
    expect(lab.body.group).toBeNull();
    const list = await documented(signInRulesRoute.GET, "GET", rules, rules, { token: token.admin });
    expect(list.body.rules.map((r: { match: string }) => r.match)).toEqual(["cn=physics,ou=groups,dc=lab", "lab-admins"]);

    const id = created.body.id as string;
    const url = `${rules}/${id}`;
    const changed = await documented(signInRuleRoute.PATCH, "PATCH", "/api/v1/sign-in/rules/{id}", url, { token: token.admin, params: { id }, body: { role: "approver", group: null } });
    expect(changed.body).toMatchObject({ role: "approver", group: null });
    // Made the same as the other rule: refused, and nothing changed.
    expect((await documented(signInRuleRoute.PATCH, "PATCH", "/api/v1/sign-in/rules/{id}", url, { token: token.admin, params: { id }, body: { match: "lab-admins", role: "admin" } })).status).toBe(409);
    expect((await documented(signInRulesRoute.GET, "GET", rules, rules, { token: token.admin })).body.rules).toHaveLength(2);
    expect((await documented(signInRuleRoute.DELETE, "DELETE", "/api/v1/sign-in/rules/{id}", url, { token: token.admin, params: { id } })).status).toBe(204);
    expect((await documented(signInRuleRoute.DELETE, "DELETE", "/api/v1/sign-in/rules/{id}", url, { token: token.admin, params: { id } })).status).toBe(404);
    expect((await documented(signInRuleRoute.PATCH, "PATCH", "/api/v1/sign-in/rules/{id}", url, { token: token.admin, params: { id }, body: { role: "admin" } })).status).toBe(404);
    const labId = lab.body.id as string;
    expect((await documented(signInRuleRoute.DELETE, "DELETE", "/api/v1/sign-in/rules/{id}", `${rules}/${labId}`, { token: token.customer, params: { id: labId } })).status).toBe(403);

    const settings = "/api/v1/sign-in/settings";
    const current = await documented(signInSettingsRoute.GET, "GET", settings, settings, { token: token.admin });
    expect(current.body).toEqual({ localAdminsOnly: false, methods: { local: true, oidc: null, ldap: null } });
    const refused = await documented(signInSettingsRoute.PUT, "PUT", settings, settings, { token: token.admin, body: { localAdminsOnly: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/No directory .* or single sign-on .* is configured/);
    expect((await documented(signInSettingsRoute.PUT, "PUT", settings, settings, { token: token.admin, body: { localAdminsOnly: "yes" } })).status).toBe(422);
    expect((await documented(signInSettingsRoute.PUT, "PUT", settings, settings, { token: token.customer, body: { localAdminsOnly: false } })).status).toBe(403);
    expect((await documented(signInSettingsRoute.PUT, "PUT", settings, settings, { token: token.admin, body: { localAdminsOnly: false } })).body.localAdminsOnly).toBe(false);
  });

  it("the console: keystrokes accepted, refused to others, too long, without a token; the stream's refusals", async () => {
    const view = await waitForOrder(db, (await order(db, customer)).id);
    const id = view.environment!.id;
    const path = "/api/v1/environments/{id}/console";
    const url = `/api/v1/environments/${id}/console`;
    const type = (call: Call) => documented(consoleRoute.POST, "POST", path, url, { params: { id }, ...call });
    expect((await type({ token: token.customer, body: { data: "help\r" } })).status).toBe(202);
    expect((await type({ token: token.approver, body: { data: "help\r" } })).status).toBe(403);
    expect((await type({ token: token.customer, body: { data: "x".repeat(5000) } })).status).toBe(422);
    expect((await type({ body: { data: "help\r" } })).status).toBe(401);
    const missing = "00000000-0000-4000-8000-000000000000";
    expect((await documented(consoleRoute.POST, "POST", path, `/api/v1/environments/${missing}/console`, { token: token.customer, params: { id: missing }, body: { data: "x" } })).status).toBe(404);
    expect((await documented(consoleRoute.GET, "GET", path, url, { token: token.approver, params: { id } })).status).toBe(403);
    expect((await documented(consoleRoute.GET, "GET", path, url, { params: { id } })).status).toBe(401);
  });
});
