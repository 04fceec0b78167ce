import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";

/** Mutations with a cookie must come from the portal's own origin, like the pages send them. */
const sameOrigin = { Origin: BASE_URL };

export async function orderViaApi(
  request: APIRequestContext,
  input: { image: string; flavor: string; name: string; purpose?: string },
): Promise<{ id: string; status: string; reason: string | null }> {
  const res = await request.post("/api/v1/orders", { data: input, headers: sameOrigin });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}

export async function patchHostsViaApi(request: APIRequestContext, body: Record<string, unknown>) {
  const res = await request.get("/api/v1/hosts");
  expect(res.ok()).toBeTruthy();
  const { hosts } = (await res.json()) as { hosts: { id: string; kind: string }[] };
  for (const h of hosts.filter((x) => x.kind === "sim")) {
    const r = await request.patch(`/api/v1/hosts/${h.id}`, { data: body, headers: sameOrigin });
    expect(r.status(), await r.text()).toBe(200);
  }
}

/** The status badge in the order page's header. */
export function orderStatus(page: Page) {
  return page.getByTestId("order-status");
}

/**
 * A catalog item of `recipeSlug`'s recipe on simulated hosts, added by the admin before the
 * file's tests and hidden again after them, so that the catalog other tests count is as seeded.
 * Its slug (`<prefix>-<unique>`) is set once the file's tests run.
 */
export function recipeItemForFile(item: { prefix: string; name: string; version: string; purpose: string; recipeSlug: string }): { slug: string } {
  const made = { slug: "", id: "" };
  const asAdmin = () => request.newContext({ baseURL: BASE_URL, storageState: authFile("admin"), extraHTTPHeaders: sameOrigin });
  test.beforeAll(async () => {
    const admin = await asAdmin();
    made.slug = uniqueName(item.prefix);
    const res = await admin.post("/api/v1/images", {
      data: { slug: made.slug, name: `${item.name} ${made.slug}`, os: "linux", version: item.version, hostKinds: ["sim"], source: "clone", purpose: item.purpose, sizeMb: 64, recipeSlug: item.recipeSlug },
    });
    expect(res.status(), await res.text()).toBe(201);
    made.id = ((await res.json()) as { id: string }).id;
    await admin.dispose();
  });
  test.afterAll(async () => {
    const admin = await asAdmin();
    await admin.patch(`/api/v1/images/${made.id}`, { data: { active: false } });
    await admin.dispose();
  });
  return made;
}

/**
 * Submits the order form on `page` and has the approver accept the order (the customer's group
 * holds orders for an approver); the order's id, with `page` on the order's page.
 */
export async function submitAndApprove(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").at(-1)!;
  const approver = await request.newContext({ baseURL: BASE_URL, storageState: authFile("approver"), extraHTTPHeaders: sameOrigin });
  expect((await approver.post(`/api/v1/orders/${id}/approve`, { data: {} })).status()).toBe(200);
  await approver.dispose();
  return id;
}
