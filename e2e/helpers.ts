import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { BASE_URL } from "./users";

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
