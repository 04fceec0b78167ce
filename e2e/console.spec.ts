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

test("after the window is resized, Fit guest to window gives the guest's shell the terminal's rows and columns, only at an empty prompt", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  const created = await orderViaApi(page.request, { image: "linux-test", flavor: "small", name: uniqueName("confit") });
  await page.goto(`/orders/${created.id}`);
  await expect(orderStatus(page)).toHaveText("ready", { timeout: 60_000 });
  const card = page.getByTestId("console");
  await card.getByRole("button", { name: "Open console" }).click();
  await expect(card.getByTestId("console-status")).toHaveText("Connected");
  await expect(screen(page)).toContainText("root@");

  /** Types a line and waits for the answer on a row of its own. */
  const answer = async (command: string, pattern: RegExp) => {
    await page.getByTestId("console-terminal").click();
    await page.keyboard.type(command);
    await page.keyboard.press("Enter");
    const row = screen(page).locator("div", { hasText: pattern }).last();
    await expect(row).toBeVisible();
    return (await row.textContent())!.trim();
  };
  const terminalSize = async () => {
    const el = card.getByTestId("console-size");
    return { cols: Number(await el.getAttribute("data-cols")), rows: Number(await el.getAttribute("data-rows")) };
  };

  // A serial line: the guest's shell has 80x24, whatever the window.
  expect(await answer("stty size", /^\d+ \d+\s*$/)).toBe("24 80");
  const before = await terminalSize();

  // Half a command typed: fitting types nothing into it.
  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("echo half");
  await expect(screen(page)).toContainText("# echo half");
  await card.getByRole("button", { name: "Fit guest to window" }).click();
  await expect(card.getByTestId("console-fit")).toContainText("Not fitted: the cursor is not at an empty shell prompt");
  // The terminal has the focus again: Ctrl+C clears the line, the shell shows a fresh prompt.
  await page.keyboard.press("Control+C");
  await expect(screen(page)).toContainText("# echo half^C");

  await page.setViewportSize({ width: 640, height: 700 });
  await expect.poll(async () => (await terminalSize()).cols).toBeLessThan(before.cols);
  await expect.poll(async () => (await terminalSize()).rows).toBeLessThan(before.rows);
  const now = await terminalSize();
  await card.getByRole("button", { name: "Fit guest to window" }).click();
  await expect(card.getByTestId("console-fit")).toHaveText(`The guest's shell now has ${now.cols} columns and ${now.rows} rows.`);
  expect(await answer("stty size", new RegExp(`^${now.rows} ${now.cols}\\s*$`))).toBe(`${now.rows} ${now.cols}`);
  await page.screenshot({ path: "/work/shots/console/console-fit.png" });
});
