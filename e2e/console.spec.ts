import { expect, test, type Page } from "@playwright/test";
import { authFile, uniqueName } from "./users";
import { orderStatus, orderViaApi } from "./helpers";

/**
 * The Console card: a command typed in the browser's terminal is answered by the guest (the
 * sim host's simulated shell); a second page on the same environment sees the same session;
 * the terminal works under the portal's CSP and fits a 390 px wide phone.
 */

test.use({ storageState: authFile("admin") });

function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(msg.text())) seen.push(msg.text());
  });
  return seen;
}

/** What the terminal shows, row by row (xterm.js renders rows as DOM text). */
const screen = (page: Page) => page.getByTestId("console-terminal").locator(".xterm-rows");

test("types hostname in the terminal and sees the environment's hostname; a second page sees the same session", async ({ page, context }) => {
  const violations = cspViolations(page);
  const name = uniqueName("con");
  const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name });
  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  const hostname = ((await (await page.request.get(`/api/v1/orders/${created.id}`)).json()) as { environment: { hostname: string } }).environment.hostname;

  const card = page.getByTestId("console");
  await card.getByRole("button", { name: "Open console" }).click();
  await expect(card.getByTestId("console-status")).toHaveText("Connected");
  await expect(screen(page)).toContainText(`root@${hostname}:~#`);

  const second = await context.newPage();
  const secondViolations = cspViolations(second);
  await second.goto(`/orders/${created.id}`);
  await second.getByTestId("console").getByRole("button", { name: "Open console" }).click();
  await expect(second.getByTestId("console-status")).toHaveText("Connected");

  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("hostname");
  await page.keyboard.press("Enter");
  // The answer is on a row of its own, after the command; both pages show it.
  await expect(screen(page).locator("div", { hasText: new RegExp(`^${hostname}\\s*$`) })).toHaveCount(1);
  await expect(screen(second).locator("div", { hasText: new RegExp(`^${hostname}\\s*$`) })).toHaveCount(1);

  // What the second page types, the first sees.
  await second.getByTestId("console-terminal").click();
  await second.keyboard.type("echo typed-on-the-second-page");
  await second.keyboard.press("Enter");
  await expect(screen(page).locator("div", { hasText: /^typed-on-the-second-page\s*$/ })).toHaveCount(1);
  await page.screenshot({ path: "/work/shots/console/console-desktop.png" });

  expect(violations).toEqual([]);
  expect(secondViolations).toEqual([]);
});

test("the console fits a 390 px wide phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name: uniqueName("conph") });
  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  await page.getByTestId("console").getByRole("button", { name: "Open console" }).click();
  await expect(page.getByTestId("console-status")).toHaveText("Connected");
  await expect(screen(page)).toContainText("root@");
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
  await page.getByTestId("console").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "/work/shots/console/console-390.png" });
});
