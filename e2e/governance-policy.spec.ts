import { expect, test, type APIRequestContext } from "@playwright/test";
import { authFile, BASE_URL, PASSWORD, uniqueName, users } from "./users";
import { orderStatus } from "./helpers";

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

  // On the admin pages: the group's quota, and a rule for long leases with its explanation.
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Groups" }).click();
  // One group's editor at a time: its row's Edit opens it below the list.
  await page.getByRole("link", { name: `Edit ${group.name}` }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/groups\\?group=${slug}#group-editor$`));
  const card = page.locator(`[data-testid="group-card"][data-group="${slug}"]`);
  await expect(card).toContainText(customerEmail);
  await card.getByLabel("Environments").fill("3");
  await card.getByLabel("Licensed cores").fill("-1");
  await expect(card.getByText("Licensed cores is 0 or more")).toBeVisible();
  await card.getByLabel("Licensed cores").fill("2");
  await card.getByRole("button", { name: "Save quota" }).click();
  await expect(card.getByText("Quota saved")).toBeVisible();
  await page.reload();
  await expect(card.getByLabel("Licensed cores")).toHaveValue("2");
  await card.screenshot({ path: "test-results/governance-group.png" });

  // A user's own quota: found by e-mail (any case), not picked from every user.
  const finder = page.getByRole("search", { name: "Find a user's quota" });
  await finder.getByLabel("User's e-mail").fill(`nobody-${slug}@e2e.test`);
  await finder.getByRole("button", { name: "Show quota" }).click();
  await expect(page.getByRole("alert").filter({ hasText: `No user with e-mail nobody-${slug}@e2e.test.` })).toBeVisible();
  await finder.getByLabel("User's e-mail").fill(customerEmail.toUpperCase());
  await finder.getByRole("button", { name: "Show quota" }).click();
  const userQuota = page.getByRole("form", { name: "Quota of a user" });
  await expect(userQuota.getByLabel("User")).toHaveValue(/.+/);
  await expect(userQuota.getByLabel("User").locator("option")).toHaveText([customerEmail]);
  // The group's editor stays open meanwhile.
  await expect(card).toContainText(customerEmail);

  await page.goto("/admin/policies");
  const form = page.getByRole("form", { name: "Add a rule" });
  await form.getByLabel("Name").fill("Long leases");
  await form.getByLabel("Then").selectOption("hold");
  await form.getByRole("group", { name: "Group" }).getByLabel(group.name).check();
  await form.getByLabel("Lease (days) over").fill("20");
  await expect(form.getByTestId("rule-preview")).toHaveText(`held: leases over 20 days need approval in group ${group.name}`);
  await form.getByRole("button", { name: "Add rule" }).click();
  const row = page.locator('[data-testid="rule-row"][data-rule="Long leases"]');
  await expect(row.getByTestId("rule-explanation")).toHaveText(`held: leases over 20 days need approval in group ${group.name}`);
  // Second thoughts: 30 days, edited in place.
  await row.getByRole("button", { name: "Edit Long leases" }).click();
  const edit = row.getByRole("form", { name: "Edit rule Long leases" });
  await expect(edit.getByLabel("Lease (days) over")).toHaveValue("20");
  await edit.getByLabel("Lease (days) over").fill("30");
  const explanation = `held: leases over 30 days need approval in group ${group.name}`;
  await expect(edit.getByTestId("rule-preview")).toHaveText(explanation);
  await edit.getByRole("button", { name: "Save rule" }).click();
  await expect(row.getByTestId("rule-explanation")).toHaveText(explanation);
  await expect(edit).toHaveCount(0);
  await page.screenshot({ path: "test-results/governance-policies.png", fullPage: true });
  const rule = ((await (await request.get("/api/v1/policies")).json()) as { rules: { id: string; name: string }[] }).rules.find((r) => r.name === "Long leases")!;

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
    // The outcome and the rule said once, then why.
    const sentence = `Held for approval by rule "Long leases": leases over 30 days need approval in group ${group.name}`;
    await expect(customer.getByTestId("order-reason")).toHaveText(`Waiting for approval${sentence}`);
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
      await expect(item.getByTestId("approval-reason")).toHaveText(sentence);
      await expect(item.getByTestId("preflight")).toHaveAttribute("data-ok", "true");
      await expect(item.getByTestId("preflight")).toContainText("would succeed");
      await expect(item.locator('[data-testid="preflight-check"][data-check="quota"]')).toContainText("Within quota");
      await expect(item.locator('[data-testid="preflight-check"][data-check="capacity"]')).toContainText(/would go to sim-[12]/);
      await approver.screenshot({ path: "test-results/governance-approvals-preflight.png", fullPage: true });
      await item.getByRole("button", { name: `Approve ${first}` }).click();
      await expect(item.getByTestId("decision-done")).toHaveText(`Approved: ${first} is queued for delivery.`);

      // A held order that fails pre-flight: the admin lowered the group's vCPUs to what the
      // approved order uses. The approver must override, with a reason.
      const secondName = uniqueName("lt");
      const second = await call(customerContext.request, "post", "/api/v1/orders", { image: "linux-test", flavor: "small", name: secondName, leaseDays: 45 });
      expect(second.status).toBe("pending_approval");
      await call(request, "put", `/api/v1/quotas/groups/${group.id}`, { environments: 3, licensedCores: 2, vcpus: 4, memoryGb: null, diskGb: null });
      await approver.goto(`/orders/${second.id}`);
      await expect(approver.getByTestId("preflight")).toHaveAttribute("data-ok", "false");
      await expect(approver.locator('[data-testid="preflight-check"][data-check="quota"]')).toContainText(`needs 1 vCPU, 0 of 4 left in group ${group.name}`);
      await expect(approver.locator('[data-testid="preflight-check"][data-check="capacity"]')).toHaveAttribute("data-ok", "true");
      await expect(approver.getByRole("button", { name: `Approve ${secondName}` })).toBeDisabled();
      await approver.getByLabel("Approve despite the failed pre-flight checks").check();
      await approver.getByLabel("Why approve anyway").fill("end-of-term exception, agreed with the group lead");
      await approver.screenshot({ path: "test-results/governance-override.png", fullPage: true });
      await approver.getByRole("button", { name: `Approve ${secondName} with override` }).click();
      await expect(orderStatus(approver)).toHaveText(/queued|provisioning|ready/);
      await expect(orderStatus(approver)).toHaveText("ready", { timeout: 60_000 });
    } finally {
      await approverContext.close();
    }

    // The customer's first order went through after approval.
    await customer.goto(heldUrl);
    await expect(orderStatus(customer)).toHaveText(/queued|provisioning|ready/);

    // The admin sees every decision with the rule that made it, the refusal included.
    await page.goto("/admin/policies");
    const decisions = page.getByTestId("decision-row").filter({ hasText: customerEmail });
    await expect(decisions.filter({ hasText: "(not created)" })).toContainText(`refused: needs 2 licensed cores, 0 of 2 left in group ${group.name}`);
    await expect(decisions.filter({ hasText: first })).toContainText(explanation);
    await expect(decisions.filter({ hasText: first })).toContainText("Long leases");
    await page.getByRole("heading", { name: "Recent decisions" }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: "test-results/governance-decisions.png" });
  } finally {
    await customerContext.close();
    await call(request, "delete", `/api/v1/policies/${rule.id}`);
  }
});
