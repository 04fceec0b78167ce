import { beforeAll, describe, expect, it } from "vitest";
import * as usersRoute from "@/app/api/v1/users/route";
import * as groupsRoute from "@/app/api/v1/groups/route";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as networksRoute from "@/app/api/v1/networks/route";
import { networks } from "@/lib/db/schema";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, tokenFor, unique } from "../helpers/portal";

/**
 * The lists that were whole before (users, groups, hosts, networks) answer a page of `limit` (100 by
 * default, 500 at most) with nextCursor and a Link header to the next page: following them
 * gives every item once.
 */
const { db, admin } = await bootPortal();
const token: Record<"admin" | "customer", string> = {} as never;

beforeAll(async () => {
  const group = await makeGroup(db, { autoApprove: true });
  for (let i = 0; i < 6; i++) await makeGroup(db, { autoApprove: i % 2 === 0 });
  for (let i = 0; i < 6; i++) await makeUser(db, "customer", group.slug);
  token.admin = await tokenFor(db, admin);
  token.customer = await tokenFor(db, await makeUser(db, "customer", group.slug));
  for (let i = 0; i < 6; i++) {
    const slug = unique("pagenet");
    await db.insert(networks).values({ slug, name: `Net ${slug}`, purpose: i % 2 ? "service" : "production", cidr: `10.231.${i}.0/28`, gateway: `10.231.${i}.1`, bridge: "br-page" });
    const res = await invoke(hostsRoute.POST, "POST", "/api/v1/hosts", { token: token.admin, body: { name: unique("page"), kind: "qemu", address: "local" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});

type Route = { GET: Parameters<typeof invoke>[0] };
const lists: [string, Route, string][] = [
  ["/api/v1/users", usersRoute as Route, "users"],
  ["/api/v1/groups", groupsRoute as Route, "groups"],
  ["/api/v1/hosts", hostsRoute as Route, "hosts"],
  ["/api/v1/networks", networksRoute as Route, "networks"],
];

describe.each(lists)("GET %s", (path, route, key) => {
  it("pages through every item once, in the order of the whole list, following the Link header", async () => {
    const whole = await invoke(route.GET, "GET", `${path}?limit=500`, { token: token.admin });
    expect(whole.status).toBe(200);
    expect(whole.body.nextCursor).toBeNull();
    expect(whole.headers.get("link")).toBeNull();
    const all = (whole.body[key] as { id: string }[]).map((x) => x.id);
    expect(all.length).toBeGreaterThanOrEqual(7);

    const seen: string[] = [];
    let next: string | null = `${path}?limit=3`;
    let pages = 0;
    while (next) {
      const res = await invoke(route.GET, "GET", next, { token: token.admin });
      expect(res.status).toBe(200);
      const items = res.body[key] as { id: string }[];
      expect(items.length).toBeLessThanOrEqual(3);
      seen.push(...items.map((x) => x.id));
      const link = res.headers.get("link");
      if (res.body.nextCursor === null) {
        expect(link).toBeNull();
        next = null;
      } else {
        expect(items).toHaveLength(3);
        const m = /^<([^>]+)>; rel="next"$/.exec(link ?? "");
        expect(m, `Link header ${link}`).not.toBeNull();
        const url = new URL(m![1], "http://portal.test");
        expect(url.pathname).toBe(path);
        expect(url.searchParams.get("limit")).toBe("3");
        expect(url.searchParams.get("cursor")).toBe(res.body.nextCursor);
        next = m![1];
      }
      pages++;
      expect(pages).toBeLessThan(50);
    }
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each(["0", "501", "2.5", "ten", ""])("refuses limit=%s with a message", async (limit) => {
    const res = await invoke(route.GET, "GET", `${path}?limit=${limit}`, { token: token.admin });
    expect(res.status).toBe(422);
    expect(res.body.fields.limit[0]).toMatch(/limit is at (least 1|most 500)|whole number|expected number/i);
  });

  it("refuses a cursor that is not one from a list", async () => {
    for (const cursor of ["nope", Buffer.from(JSON.stringify(["a", "not-a-uuid"])).toString("base64url"), Buffer.from("[1,2]").toString("base64url")]) {
      const res = await invoke(route.GET, "GET", `${path}?cursor=${cursor}`, { token: token.admin });
      expect(res.status, cursor).toBe(422);
      expect(res.body.fields.cursor[0]).toBe("Not a cursor from this list: start again without one");
    }
  });
});

it("a customer's groups stay one page", async () => {
  const res = await invoke(groupsRoute.GET, "GET", "/api/v1/groups", { token: token.customer });
  expect(res.status).toBe(200);
  expect(res.body.groups).toHaveLength(1);
  expect(res.body.nextCursor).toBeNull();
});

describe("a list longer than a page", () => {
  it("answers 100 by default, with a cursor and a Link header to the rest", async () => {
    await db.insert(networks).values(
      Array.from({ length: 101 }, (_, i) => {
        const slug = unique("bulknet");
        return { slug, name: `Net ${slug}`, purpose: "service" as const, cidr: `10.232.${i}.0/28`, gateway: `10.232.${i}.1`, bridge: "br-page" };
      }),
    );
    const res = await invoke(networksRoute.GET, "GET", "/api/v1/networks", { token: token.admin });
    expect(res.status).toBe(200);
    expect(res.body.networks).toHaveLength(100);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    expect(res.headers.get("link")).toMatch(/rel="next"$/);
  });
});
