import { expect, request, test } from "@playwright/test";
import { BASE_URL, PASSWORD, users } from "./users";

test("a wrong password says so; the right one signs in; sign out ends the session", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("E-mail").fill(users.signout.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Wrong e-mail or password");

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/catalog$/);
  await expect(page.getByTestId("nav-user-email")).toHaveText(users.signout.email);
  // A customer sees no approver or admin links.
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link")).toHaveText(["Catalog", "My orders", "Service IPs", "Account"]);

  // A copy of the session cookie, as someone who took it before the sign-out would have it.
  const copied = await page.context().storageState();
  const before = await request.newContext({ baseURL: BASE_URL, storageState: copied });
  expect(await (await before.get("/api/auth/session")).json()).toMatchObject({ user: { email: users.signout.email } });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/orders");
  await expect(page).toHaveURL(/\/login\?next=/);

  // The copied cookie is worth nothing now: no session, no API, no page.
  const after = await request.newContext({ baseURL: BASE_URL, storageState: copied });
  expect(await (await after.get("/api/auth/session")).json()).toEqual({});
  expect((await after.get("/api/v1/orders")).status()).toBe(401);
  expect((await after.get("/orders", { maxRedirects: 0 })).headers()["location"]).toMatch(/^\/login\?next=/);
  await before.dispose();
  await after.dispose();
});

test("too many wrong passwords lock the account for a while, with a message that says so", async ({ page }) => {
  // The e2e server allows 5 failed sign-ins per account (LOGIN_MAX_ATTEMPTS).
  const email = "nobody-locked@e2e.test";
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(email);
  for (let i = 0; i < 5; i++) {
    await page.getByLabel("Password").fill(`wrong-${i}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("login-error")).toHaveText("Wrong e-mail or password");
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  }
  await page.getByLabel("Password").fill("wrong-again");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Too many failed sign-ins for this account; try again in 15 minutes");
  await page.screenshot({ path: "test-results/login-locked.png" });
});
