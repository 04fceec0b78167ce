import { expect, test } from "@playwright/test";
import { authFile, uniqueName, users } from "./users";
import { orderStatus, orderViaApi, patchHostsViaApi } from "./helpers";

test.describe("an approver's own order (auto-approved)", () => {
  test.use({ storageState: authFile("approver") });

  test("fails at an injected step, is retried from that step, delivered, then destroyed", async ({ page, browser }) => {
    // An admin makes the glue step fail once on every sim host, on the admin page.
    const adminContext = await browser.newContext({ storageState: authFile("admin") });
    const admin = await adminContext.newPage();
    try {
      await admin.goto("/admin/hosts");
      for (const host of ["sim-1", "sim-2"]) {
        const injection = admin.getByRole("article", { name: `Host ${host}` }).getByRole("group", { name: "Failure injection (simulated host)" });
        await injection.getByLabel("Fail the next step at").selectOption("glue");
        await injection.getByLabel("Times").fill("1");
        await injection.getByRole("button", { name: "Inject failure" }).click();
        await expect(injection).toContainText("Failing: glue ×1");
      }

      const hostname = uniqueName("retry");
      const order = await orderViaApi(page.request, { image: "linux-web", flavor: "small", name: hostname });
      expect(order.status).toBe("queued");
      expect(order.reason).toContain("auto-approved");
      await page.goto(`/orders/${order.id}`);

      await expect(orderStatus(page)).toHaveText("failed", { timeout: 30_000 });
      await expect(page.getByTestId("order-reason")).toContainText('Step "Glue (hostname, users, keys)" failed');
      await expect(page.getByTestId("order-reason")).toContainText("injected failure in step glue");
      const glue = page.locator('[data-testid="pipeline-step"][data-step="glue"]');
      await expect(glue).toHaveAttribute("data-status", "failed");
      // The failed step's log is open.
      await expect(glue.getByRole("list", { name: "Log of Glue (hostname, users, keys)" })).toContainText("error:");
      await expect(page.locator('[data-testid="pipeline-step"][data-status="succeeded"]')).toHaveCount(7);
      // What the failed order keeps for a retry, and until when.
      await expect(page.getByTestId("order-hold")).toContainText("Holds its host and addresses until");
      await page.screenshot({ path: "test-results/order-failed.png", fullPage: true });

      await page.getByRole("button", { name: "Retry from failed step" }).click();
      await expect(orderStatus(page)).toHaveText("ready", { timeout: 30_000 });
      await expect(glue).toHaveAttribute("data-status", "succeeded");
      await expect(glue).toContainText("attempt 2");
      await expect(page.getByTestId("order-hold")).toHaveCount(0);
      // Steps before the failed one ran once.
      await expect(page.locator('[data-testid="pipeline-step"][data-step="storage"]')).toContainText("attempt 1");

      await page.getByRole("button", { name: "Destroy environment" }).click();
      await page.getByRole("button", { name: "Yes, destroy it" }).click();
      await expect(page.getByTestId("teardown")).toBeVisible({ timeout: 15_000 });
      await expect(orderStatus(page)).toHaveText("retired", { timeout: 30_000 });
      await expect(page.getByTestId("teardown").getByTestId("pipeline-step")).toHaveCount(3);
      await expect(page.getByTestId("teardown").locator('[data-testid="pipeline-step"][data-status="succeeded"]')).toHaveCount(3);
      await expect(page.getByRole("button", { name: "Destroy environment" })).toHaveCount(0);
      await page.screenshot({ path: "test-results/order-retired.png", fullPage: true });
    } finally {
      // The other host still holds its injected failure: clear both for the next tests.
      await patchHostsViaApi(admin.request, { failSteps: {} });
      await adminContext.close();
    }
  });
});

test.describe("a customer", () => {
  test.use({ storageState: authFile("customer") });

  test("cancels an order that waits for approval", async ({ page }) => {
    const hostname = uniqueName("cancel");
    const order = await orderViaApi(page.request, { image: "solaris10-sparse", flavor: "small", name: hostname });
    await page.goto(`/orders/${order.id}`);
    await expect(orderStatus(page)).toHaveText("pending approval");
    await page.getByRole("button", { name: "Cancel order" }).click();
    await expect(orderStatus(page)).toHaveText("cancelled");
    await expect(page.getByTestId("order-reason")).toContainText(`cancelled by ${users.customer.email}`);
    await expect(page.getByRole("button", { name: "Cancel order" })).toHaveCount(0);
    await expect(page.getByTestId("stream-mode")).toHaveAttribute("data-mode", "closed");
  });
});
