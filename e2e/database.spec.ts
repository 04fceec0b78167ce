import { expect, request, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";
import { orderStatus } from "./helpers";

/**
 * A catalog item with the PostgreSQL database recipe (on simulated hosts; the real guest is
 * tests/integration/qemu-postgres.test.ts): the order form asks for the database's and its
 * owner's names and refuses a reserved one under its field; the delivered order's "How to
 * connect" names host, port, database and user with a psql line; asking for a new password
 * on a host kind that cannot set one says so.
 */

const sameOrigin = { Origin: BASE_URL };
let slug: string;
let imageId: string;

test.beforeAll(async () => {
  const admin = await request.newContext({ baseURL: BASE_URL, storageState: authFile("admin"), extraHTTPHeaders: sameOrigin });
  slug = uniqueName("pg-e2e");
  const res = await admin.post("/api/v1/images", {
    data: { slug, name: `PostgreSQL ${slug}`, os: "linux", version: "PostgreSQL 15", hostKinds: ["sim"], source: "clone", purpose: "database", sizeMb: 64, recipeSlug: "postgres" },
  });
  expect(res.status(), await res.text()).toBe(201);
  imageId = ((await res.json()) as { id: string }).id;
  await admin.dispose();
});

test.afterAll(async () => {
  // Hidden again, so that the catalog other tests count is as seeded.
  const admin = await request.newContext({ baseURL: BASE_URL, storageState: authFile("admin"), extraHTTPHeaders: sameOrigin });
  await admin.patch(`/api/v1/images/${imageId}`, { data: { active: false } });
  await admin.dispose();
});

test.use({ storageState: authFile("customer") });

test("a database is ordered by name and owner; its page says how to connect", async ({ page }) => {
  await page.goto(`/orders/new?image=${slug}`);
  await expect(page.getByTestId("recipe-fields")).toBeVisible();
  await page.getByLabel("Database name").fill("template1");
  await expect(page.getByTestId("recipe-database-error")).toHaveText("Database name: template1 is a database every PostgreSQL server has; choose another name");
  await page.getByLabel("Database name").fill("inventory");
  await expect(page.getByTestId("recipe-database-error")).toBeHidden();
  await page.getByLabel("Owner (login role)").fill("inv_app");
  await page.getByLabel("Name (hostname)").fill(uniqueName("pgdb"));
  await page.getByLabel("Size", { exact: true }).selectOption("small");
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").at(-1)!;

  const approver = await request.newContext({ baseURL: BASE_URL, storageState: authFile("approver"), extraHTTPHeaders: sameOrigin });
  expect((await approver.post(`/api/v1/orders/${id}/approve`, { data: {} })).status()).toBe(200);
  await approver.dispose();

  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  for (const name of ["initdb", "start", "database", "check"]) await expect(page.locator(`[data-testid="recipe-step"][data-step="${name}"]`)).toHaveAttribute("data-status", "succeeded");
  const database = page.getByTestId("connection-database");
  const host = (await page.getByTestId("connection-panel").locator("dd").nth(1).textContent())!.trim();
  await expect(database.getByTestId("database-host")).toHaveText(host);
  await expect(database.getByTestId("database-port")).toHaveText("5432");
  await expect(database.getByTestId("database-name")).toHaveText("inventory");
  await expect(database.getByTestId("database-user")).toHaveText("inv_app");
  await expect(database.getByTestId("psql-command")).toHaveText(`psql "host=${host} port=5432 dbname=inventory user=inv_app"`);

  // A simulated host cannot reach into its guest: the page says so, and the password stays.
  await database.getByRole("button", { name: "New password…" }).click();
  await database.getByRole("button", { name: "Make a new password" }).click();
  await expect(database.getByRole("alert")).toHaveText("Passwords of environments on sim hosts cannot be changed from the portal in this version");
  await expect(database.getByTestId("new-database-password")).toHaveCount(0);
});
