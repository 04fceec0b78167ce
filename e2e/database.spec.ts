import { expect, test } from "@playwright/test";
import { authFile, uniqueName } from "./users";
import { orderStatus, recipeItemForFile, submitAndApprove } from "./helpers";

/**
 * A catalog item with the PostgreSQL database recipe (on simulated hosts; the real guest is
 * tests/integration/qemu-postgres.test.ts): the order form asks for the database's and its
 * owner's names and refuses a reserved one under its field; the delivered order's "How to
 * connect" names host, port, database and user with a psql line; asking for a new password
 * on a host kind that cannot set one says so.
 */

const item = recipeItemForFile({ prefix: "pg-e2e", name: "PostgreSQL", version: "PostgreSQL 15", purpose: "database", recipeSlug: "postgres" });

test.use({ storageState: authFile("customer") });

test("a database is ordered by name and owner; its page says how to connect", async ({ page }) => {
  await page.goto(`/orders/new?image=${item.slug}`);
  await expect(page.getByTestId("recipe-fields")).toBeVisible();
  await page.getByLabel("Database name").fill("template1");
  await expect(page.getByTestId("recipe-database-error")).toHaveText("Database name: template1 is a database every PostgreSQL server has; choose another name");
  await page.getByLabel("Database name").fill("inventory");
  await expect(page.getByTestId("recipe-database-error")).toBeHidden();
  await page.getByLabel("Owner (login role)").fill("inv_app");
  await page.getByLabel("Name (hostname)").fill(uniqueName("pgdb"));
  await page.getByLabel("Size", { exact: true }).selectOption("small");
  await submitAndApprove(page);

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
