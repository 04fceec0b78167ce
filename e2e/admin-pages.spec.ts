import { expect, test, type Page } from "@playwright/test";
import { ADMIN, authFile, BASE_URL, uniqueName } from "./users";

test.use({ storageState: authFile("admin") });

const sameOrigin = { Origin: BASE_URL };

/** Every admin page: its tab in the sub-menu, its address and its heading. */
const adminPages = [
  { tab: "Users", path: "/admin/users", heading: "Users" },
  { tab: "Hosts", path: "/admin/hosts", heading: "Hypervisor hosts" },
  { tab: "Networks", path: "/admin/networks", heading: "Networks" },
  { tab: "Images", path: "/admin/images", heading: "Images" },
  { tab: "Campaigns", path: "/admin/campaigns", heading: "Patch campaigns" },
  { tab: "Groups", path: "/admin/groups", heading: "Groups and quotas" },
  { tab: "Rules", path: "/admin/policies", heading: "Approval rules" },
  { tab: "Sign-in", path: "/admin/sign-in", heading: "Sign-in" },
  { tab: "Delivery", path: "/admin/dashboard", heading: "Delivery within the hour" },
  { tab: "Audit", path: "/admin/audit", heading: "Audit log" },
];

const subMenu = (page: Page) => page.getByRole("navigation", { name: "Administration" });

/**
 * The page scrolls only up and down: nothing in it is wider than the window (wide tables scroll
 * in their own box).
 */
async function expectNoSidewaysScroll(page: Page, what: string) {
  const widths = await page.evaluate(() => ({ content: document.documentElement.scrollWidth, window: window.innerWidth }));
  expect(widths.content, `${what} is wider than the window`).toBeLessThanOrEqual(widths.window);
}

test("the sub-menu leads to every admin page and marks the one shown; /admin opens the users", async ({ page }) => {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(subMenu(page).getByRole("link")).toHaveText(adminPages.map((p) => p.tab));
  // The e2e portal runs without PORTAL_URL: every admin page says where links will point.
  await expect(page.getByTestId("portal-url-warning")).toContainText(`PORTAL_URL is not set, so invitation links and links in e-mails point to ${BASE_URL}`);
  for (const p of adminPages) {
    await subMenu(page).getByRole("link", { name: p.tab, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${p.path}$`));
    await expect(page.getByRole("heading", { level: 1, name: p.heading })).toBeVisible();
    await expect(subMenu(page).getByRole("link", { name: p.tab, exact: true })).toHaveAttribute("aria-current", "page");
    await expect(subMenu(page).locator('[aria-current="page"]')).toHaveCount(1);
  }
});

test("a wrong admin address gets a 404 that says so plainly and leads home", async ({ page }) => {
  const res = await page.goto("/admin/xyz");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "There is no page at this address" })).toBeVisible();
  await expect(page.getByRole("main").getByText(/order/i)).toHaveCount(0);
  await page.getByRole("link", { name: "Go to the start page" }).click();
  await expect(page).toHaveURL(/\/catalog$/);
});

test("an admin edits an image, hides it from the customers' catalog, and retires it once no environment uses it", async ({ page, browser }) => {
  const slug = uniqueName("img").toLowerCase();
  const created = await page.request.post("/api/v1/images", {
    data: { slug, name: "Linux build box", os: "linux", version: "Debian 12", hostKinds: ["sim"], source: "clone", purpose: "development", sizeMb: 1024 },
    headers: sameOrigin,
  });
  expect(created.status(), await created.text()).toBe(201);
  const customer = await (await browser.newContext({ storageState: authFile("customer") })).newPage();

  await page.goto("/admin/images");
  const row = page.getByTestId("image-row").filter({ has: page.locator(`code:text-is("${slug}")`) });
  await expect(row.getByTestId("image-state")).toHaveText("in catalog");
  // Edit: the name and size change; the slug stays.
  await row.getByRole("button", { name: "Edit Linux build box" }).click();
  const form = row.getByRole("form", { name: "Edit Linux build box" });
  await form.getByLabel("Name").fill("Linux build server");
  await form.getByLabel("Size (MB)").fill("0");
  await expect(form.getByText("Size must be more than 0 MB")).toBeVisible();
  await form.getByLabel("Size (MB)").fill("1536");
  await form.getByLabel("Solaris zones").check();
  await expect(form.getByText("Linux images do not run on Solaris zones")).toBeVisible();
  await form.getByLabel("Solaris zones").uncheck();
  await form.getByRole("button", { name: "Save image" }).click();
  // The form is named after the image, so once the page has the new name it is "Edit Linux build server".
  await expect(row.getByRole("form").getByRole("status")).toHaveText("Saved Linux build server");
  await expect(row.getByRole("heading")).toContainText("Linux build server");
  await expect(row).toContainText("1.5 GB");

  await customer.goto("/catalog");
  await expect(customer.locator(`[data-testid="catalog-image"][data-slug="${slug}"]`)).toContainText("Linux build server");

  // Hidden: gone from the customer's catalog.
  await row.getByRole("button", { name: "Hide from catalog" }).click();
  await expect(row.getByRole("status")).toContainText("is hidden: customers no longer see or order it");
  await expect(row.getByTestId("image-state")).toHaveText("hidden");
  await customer.reload();
  await expect(customer.getByTestId("catalog-image").first()).toBeVisible();
  await expect(customer.locator(`[data-testid="catalog-image"][data-slug="${slug}"]`)).toHaveCount(0);
  await row.getByRole("button", { name: "List in catalog" }).click();
  await expect(row.getByTestId("image-state")).toHaveText("in catalog");
  await customer.close();

  // An environment of it: retiring is refused, naming the order.
  const name = uniqueName("bld");
  const ordered = await page.request.post("/api/v1/orders", { data: { image: slug, flavor: "small", name }, headers: sameOrigin });
  expect(ordered.status(), await ordered.text()).toBe(201);
  const orderId = (await ordered.json()).id as string;
  await expect.poll(async () => (await (await page.request.get(`/api/v1/orders/${orderId}`)).json()).status, { timeout: 30_000 }).toBe("ready");
  await row.getByRole("button", { name: "Retire…" }).click();
  await row.getByRole("button", { name: "Retire image" }).click();
  await expect(row.getByRole("alert")).toHaveText(
    `Linux build server cannot be retired: order ${name} still uses it. Retire or cancel that order first; hide the image to stop new orders meanwhile.`,
  );
  await row.screenshot({ path: "test-results/admin-image-retire-refused.png" });

  // Once the environment is destroyed, the image retires and leaves the list for the retired ones.
  const destroyed = await page.request.post(`/api/v1/orders/${orderId}/destroy`, { headers: sameOrigin });
  expect(destroyed.status(), await destroyed.text()).toBeLessThan(300);
  await expect.poll(async () => (await (await page.request.get(`/api/v1/orders/${orderId}`)).json()).status, { timeout: 30_000 }).toBe("retired");
  await row.getByRole("button", { name: "Retire image" }).click();
  await expect(page.getByTestId("image-row").filter({ has: page.locator(`code:text-is("${slug}")`) })).toHaveCount(0);
  const retired = page.getByTestId("retired-images");
  await retired.getByText(/^Retired images/).click();
  await expect(retired.getByRole("listitem").filter({ hasText: slug })).toContainText("Linux build server");
});

test("the audit log names who and what, with the ids on hover, and its dates are typed as the portal prints them", async ({ page }) => {
  const name = uniqueName("aud");
  const ordered = await page.request.post("/api/v1/orders", { data: { image: "linux-test", flavor: "small", name }, headers: sameOrigin });
  expect(ordered.status(), await ordered.text()).toBe(201);
  const orderId = (await ordered.json()).id as string;

  await page.goto(`/admin/audit?action=order.create&target=${orderId}`);
  const row = page.getByTestId("audit-row");
  await expect(row).toHaveCount(1);
  const who = row.getByText(ADMIN.email, { exact: true });
  await expect(who).toHaveAttribute("title", /^[0-9a-f-]{36}$/);
  const target = row.getByRole("link", { name });
  await expect(target).toHaveAttribute("title", orderId);
  await expect(target).toHaveAttribute("href", `/orders/${orderId}`);
  await expect(row).not.toContainText(orderId);

  // The date fields take the portal's own form, in UTC, and say what is wrong with another.
  const from = page.getByLabel("From (UTC)");
  await expect(from).toHaveAttribute("type", "text");
  await expect(from).toHaveAttribute("placeholder", "2026-12-06 11:59");
  await page.getByLabel("Action").fill("order.create");
  await page.getByLabel("Target").fill("");
  await from.fill("2020-01-01 00:00");
  await page.getByLabel("To (UTC)").fill("2020-01-02 23:59");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/from=2020-01-01\+00%3A00/);
  await expect(page.getByTestId("audit-count")).toHaveText("No entries match.");
  await expect(page.getByLabel("From (UTC)")).toHaveValue("2020-01-01 00:00");

  await page.getByLabel("From (UTC)").fill("12/06/2026, 11:59 AM");
  await page.getByLabel("To (UTC)").fill("2026-02-30 10:00");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("Use a date and time like 2026-12-06 11:59 (UTC), or a day like 2026-12-06").first()).toBeVisible();
  await expect(page.getByLabel("From (UTC)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("To (UTC)")).toHaveValue("2026-02-30 10:00");
  await expect(page.getByText("2026-02-30 is not a day of the calendar").first()).toBeVisible();
  // The dates are left out; the action filter still applies.
  await expect(page.getByTestId("audit-row").first()).toHaveAttribute("data-action", "order.create");

  // An old link with the T form still works, and shows the portal's form.
  await page.goto("/admin/audit?from=2020-01-01T00:00&to=2020-01-02T00:00");
  await expect(page.getByLabel("From (UTC)")).toHaveValue("2020-01-01 00:00");
  await expect(page.getByTestId("audit-count")).toHaveText("No entries match.");

  // The delivery dashboard's range likewise.
  await page.goto("/admin/dashboard");
  await expect(page.getByLabel("To (UTC)")).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await page.getByLabel("From (UTC)").fill("2026-12-06 11:59");
  await page.getByLabel("To (UTC)").fill("2026-12-06 12:59");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByText("Orders submitted 2026-12-06 11:59 UTC – 2026-12-06 12:59 UTC", { exact: false })).toBeVisible();
  await page.getByLabel("From (UTC)").fill("tomorrow");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "showing the last 7 days" })).toContainText("Use a date and time like 2026-12-06 11:59");
  await expect(page.getByLabel("From (UTC)")).toHaveValue("tomorrow");
  await expect(page.getByLabel("From (UTC)")).toHaveAttribute("aria-invalid", "true");
});

// Last: the orders of the tests above give the delivery dashboard and the audit log content.
test("every admin page fits a phone and a desktop window", async ({ page }) => {
  for (const [width, height] of [[1280, 900], [390, 844]] as const) {
    await page.setViewportSize({ width, height });
    // Each page, and the groups page with a group's editor open (its longest form).
    for (const p of [...adminPages, { path: "/admin/groups?group=default", heading: "Groups and quotas", shot: "group-editor" }]) {
      await page.goto(p.path);
      await expect(page.getByRole("heading", { level: 1, name: p.heading })).toBeVisible();
      await expectNoSidewaysScroll(page, `${p.path} at ${width} px`);
      // The whole page at the window's width (what the phone shows, scrolled down).
      const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
      const shot = "shot" in p ? p.shot : p.path.slice("/admin/".length);
      await page.screenshot({ path: `test-results/admin-pages/${shot}-${width}.png`, fullPage: true, clip: { x: 0, y: 0, width, height: pageHeight } });
    }
  }
});
