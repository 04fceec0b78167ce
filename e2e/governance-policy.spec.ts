import { expect, test, type APIRequestContext } from "@playwright/test";
import { authFile, BASE_URL, PASSWORD, uniqueName, users } from "./users";
import { orderStatus, patchHostsViaApi } from "./helpers";

/**
 * Governance as people meet it: a customer of a group with a licensed-core quota sees what
 * is left before submitting and why an order over it is refused; a rule holds long leases
 * and says so; an approver sees pre-flight results, approves, and needs an override (with a
 * reason) when pre-flight fails.
 */
test.use({ storageState: authFile("admin") });

const sameOrigin = { Origin: BASE_URL };

async function call(request: APIRequestContext, method: "post" | "put" | "patch" | "delete", path: string, data?: unknown) {
  const res = await request[method](path, { data, headers: sameOrigin });
  expect(res.ok(), `${method} ${path}: ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

test("a customer sees remaining quota and the refusal; an approver sees pre-flight, approves, and overrides a failed one", async ({ page, browser, request }) => {
  // The admin sets up a group with a quota, a member of each role and a rule for long leases.
  const slug = uniqueName("physics");
  const group = await call(request, "post", "/api/v1/groups", { slug, name: `Physics ${slug.slice(-4)}`, autoApprove: true });
  const customerEmail = `${slug}@e2e.test`;
  await call(request, "post", "/api/v1/users", { email: customerEmail, name: "Pat Physicist", role: "customer", group: slug, password: PASSWORD });
  await call(request, "put", `/api/v1/groups/${group.id}/members`, { email: users.approver.email, role: "approver" });
  await call(request, "put", `/api/v1/quotas/groups/${group.id}`, { environments: 3, licensedCores: 2 });
  const rule = await call(request, "post", "/api/v1/policies", { name: "Long leases", outcome: "hold", conditions: { leaseDaysOver: 30, groups: [group.id] } });
  expect(rule.explanation).toBe(`held: leases over 30 days need approval in group ${group.name}`);

  // The admin pages show the group and the rule.
  await page.goto("/admin");
  await page.getByRole("link", { name: "Groups and quotas" }).click();
  const card = page.locator(`[data-testid="group-card"][data-group="${slug}"]`);
  await expect(card).toContainText(customerEmail);
  await expect(card.getByLabel("Licensed cores")).toHaveValue("2");
  await card.screenshot({ path: "test-results/governance-group.png" });
  await page.goto("/admin/policies");
  await expect(page.locator('[data-testid="rule-row"][data-rule="Long leases"]')).toContainText(rule.explanation);
  await page.screenshot({ path: "test-results/governance-policies.png", fullPage: true });

  const customerContext = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const customer = await customerContext.newPage();
  try {
    await customer.goto("/login");
    await customer.getByLabel("E-mail").fill(customerEmail);
    await customer.getByLabel("Password").fill(PASSWORD);
    await customer.getByRole("button", { name: "Sign in" }).click();
    await expect(customer.getByTestId("nav-user-email")).toHaveText(customerEmail);

    // The order form shows what is left and what this order would use.
    await customer.goto("/orders/new?image=solaris10-whole-capped");
    await customer.getByLabel("Size", { exact: true }).selectOption("capped-2cpu-4g");
    const groupQuota = customer.locator(`[data-testid="quota-scope"][data-scope="Group ${group.name}"]`);
    await expect(groupQuota.getByTestId("quota-licensedCores")).toHaveText(/Licensed cores\s*2 of 2\s*2/);
    await expect(groupQuota.getByTestId("quota-environments")).toHaveText(/Environments\s*3 of 3\s*1/);
    await expect(customer.getByTestId("quota-over")).toHaveCount(0);
    const first = uniqueName("ora");
    await customer.getByLabel("Name (hostname)").fill(first);
    await customer.getByLabel("Lease (days)").fill("60");
    await customer.screenshot({ path: "test-results/governance-order-quota.png", fullPage: true });
    await customer.getByRole("button", { name: "Submit order" }).click();
    await expect(customer).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
    await expect(orderStatus(customer)).toHaveText("pending approval");
    await expect(customer.getByTestId("order-reason")).toHaveText(/held: leases over 30 days need approval in group Physics/);
    await expect(customer.getByTestId("order-policy")).toContainText("(rule: Long leases)");
    const heldUrl = customer.url();

    // A second licensed order would exceed the group's licensed cores: said before and on submit.
    await customer.goto("/orders/new?image=solaris10-whole-capped");
    await customer.getByLabel("Size", { exact: true }).selectOption("capped-2cpu-4g");
    await expect(groupQuota.getByTestId("quota-licensedCores")).toHaveText(/Licensed cores\s*0 of 2\s*2/);
    const refusal = `needs 2 licensed cores, 0 of 2 left in group ${group.name}`;
    await expect(customer.getByTestId("quota-over")).toHaveText(`Over quota: ${refusal}`);
    await customer.getByLabel("Name (hostname)").fill(uniqueName("ora"));
    await customer.getByRole("button", { name: "Submit order" }).click();
    await expect(customer.getByRole("alert").filter({ hasText: "Over quota:" }).first()).toBeVisible();
    await expect(customer.locator('form[aria-label="Order form"] [role="alert"]').first()).toHaveText(`Over quota: ${refusal}`);
    await expect(customer).toHaveURL(/\/orders\/new/);
    await customer.screenshot({ path: "test-results/governance-order-refused.png", fullPage: true });

    // The approver sees the held order with its pre-flight and approves it.
    const approverContext = await browser.newContext({ storageState: authFile("approver") });
    const approver = await approverContext.newPage();
    try {
      await approver.goto("/approvals");
      const item = approver.locator(`[data-testid="approval-item"][data-order-name="${first}"]`);
      await expect(item).toContainText("held: leases over 30 days need approval");
      await expect(item.getByTestId("preflight")).toHaveAttribute("data-ok", "true");
      await expect(item.getByTestId("preflight")).toContainText("would succeed");
      await expect(item.locator('[data-testid="preflight-check"][data-check="quota"]')).toContainText("Within quota");
      await expect(item.locator('[data-testid="preflight-check"][data-check="capacity"]')).toContainText(/would go to sim-[12]/);
      await approver.screenshot({ path: "test-results/governance-approvals-preflight.png", fullPage: true });
      await item.getByRole("button", { name: `Approve ${first}` }).click();
      await expect(item).toHaveCount(0);

      // A held order that would fail: every host is draining. The approver must override.
      const second = await call(customerContext.request, "post", "/api/v1/orders", { image: "linux-test", flavor: "small", name: uniqueName("lt"), leaseDays: 45 });
      expect(second.status).toBe("pending_approval");
      await patchHostsViaApi(request, { state: "draining" });
      try {
        await approver.goto(`/orders/${second.id}`);
        const preflight = approver.getByTestId("preflight");
        await expect(preflight).toHaveAttribute("data-ok", "false");
        await expect(approver.locator('[data-testid="preflight-check"][data-check="host-kind"]')).toContainText("needs an active sim host; there is none");
        const approve = approver.getByRole("button", { name: /^Approve/ });
        await expect(approve).toBeDisabled();
        await approver.getByLabel("Approve despite the failed pre-flight checks").check();
        await approver.getByLabel("Why approve anyway").fill("hosts come back from maintenance at noon");
        await approver.screenshot({ path: "test-results/governance-override.png", fullPage: true });
        await approver.getByRole("button", { name: "Approve with override" }).click();
        await expect(orderStatus(approver)).toHaveText("queued");
        await expect(approver.getByTestId("order-reason")).toContainText("despite failed pre-flight: hosts come back from maintenance at noon");
      } finally {
        await patchHostsViaApi(request, { state: "active" });
      }
      // Back to active hosts, the overridden order is delivered.
      await expect(orderStatus(approver)).toHaveText("ready", { timeout: 60_000 });
    } finally {
      await approverContext.close();
    }

    // The customer's first order went through after approval.
    await customer.goto(heldUrl);
    await expect(orderStatus(customer)).toHaveText(/queued|provisioning|ready/);
  } finally {
    await customerContext.close();
    await call(request, "delete", `/api/v1/policies/${rule.id}`);
  }
});
