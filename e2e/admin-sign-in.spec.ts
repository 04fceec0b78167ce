import { expect, test } from "@playwright/test";
import { authFile, uniqueName } from "./users";

/**
 * The admin's sign-in page on the shared e2e portal, which has neither a directory nor single
 * sign-on configured (e2e/sso.spec.ts covers a portal with both): what is configured, the
 * local sign-in switch refused while nothing else is, and mapping rules added, checked,
 * changed and deleted.
 */
test.use({ storageState: authFile("admin") });

test("an admin sees the sign-in methods and manages mapping rules", async ({ page }) => {
  await page.goto("/admin/sign-in");
  await expect(page.getByRole("heading", { name: "Sign-in", exact: true })).toBeVisible();
  await expect(page.getByTestId("method-local")).toContainText("Everyone with a local account");
  await expect(page.getByTestId("method-ldap")).toContainText("Not configured");
  await expect(page.getByTestId("method-oidc")).toContainText("Not configured");
  // With nothing but local accounts, turning them off for non-admins would lock everyone out.
  await expect(page.getByLabel("Local accounts for administrators only")).toBeDisabled();
  await expect(page.getByText("Configure a directory (LDAP_URL) or single sign-on (OIDC_ISSUER) first")).toBeVisible();

  const match = uniqueName("lab-admins");
  const add = page.getByRole("form", { name: "Add a mapping rule" });
  await add.getByRole("button", { name: "Add rule" }).click();
  await expect(add.getByText("Enter the group as the directory or the identity provider names it")).toBeVisible();
  await add.getByLabel("Group at the directory or identity provider").fill(`  ${match.toUpperCase()} `);
  await add.getByLabel("Role in the portal").selectOption("admin");
  await add.getByRole("button", { name: "Add rule" }).click();
  await expect(add.getByRole("status")).toHaveText(`Added: ${match} → admin`);
  const row = page.locator(`[data-testid="sign-in-rule"][data-match="${match}"]`);
  await expect(row.getByTestId("sign-in-rule-grants")).toHaveText("→ admin");

  // The same rule again is refused, and says why.
  await add.getByLabel("Group at the directory or identity provider").fill(match);
  await add.getByLabel("Role in the portal").selectOption("admin");
  await add.getByRole("button", { name: "Add rule" }).click();
  await expect(add.getByText("A rule with this group, role and portal group exists already")).toBeVisible();
  await expect(page.locator(`[data-testid="sign-in-rule"][data-match="${match}"]`)).toHaveCount(1);

  await row.getByRole("button", { name: `Edit the rule for ${match}` }).click();
  const edit = page.getByRole("form", { name: `Change the rule for ${match}` });
  await edit.getByLabel("Role in the portal").selectOption("customer");
  await edit.getByLabel("Member of group").selectOption({ label: "Default pool" });
  await edit.getByRole("button", { name: "Save rule" }).click();
  await expect(row.getByTestId("sign-in-rule-grants")).toHaveText("→ customer in Default pool");

  // The page's own content fits a phone (the top bar's links are the layout's business).
  await page.setViewportSize({ width: 360, height: 780 });
  expect(await page.evaluate(() => document.querySelector("main")!.scrollWidth)).toBeLessThanOrEqual(360);
  await page.screenshot({ path: "test-results/admin-sign-in-narrow.png", fullPage: true });

  await row.getByRole("button", { name: `Delete the rule for ${match}` }).click();
  const rulesSection = page.getByRole("region", { name: /Mapping rules/ });
  await expect(rulesSection.getByRole("status")).toHaveText(`Deleted the rule for ${match}`);
  await expect(row).toHaveCount(0);
});

test.describe("a student", () => {
  test.use({ storageState: authFile("student") });

  test("gets no sign-in settings, on the page or from the API", async ({ page }) => {
    expect((await page.goto("/admin/sign-in"))?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: /You do not have access/ })).toBeVisible();
    expect((await page.request.get("/api/v1/sign-in/rules")).status()).toBe(403);
  });
});
