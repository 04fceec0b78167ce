import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";

test.describe("admin", () => {
  test.use({ storageState: authFile("admin") });

  test("sees the exact commands a capped zone order would run on a Solaris host, labelled as not run on a real host", async ({ page, request }) => {
    // A Solaris host registered but offline (never tested), so no other test's order lands on it.
    const hostName = uniqueName("sol").toLowerCase().replace(/[^a-z0-9-]/g, "-");
    const res = await request.post("/api/v1/hosts", { data: { name: hostName, kind: "zones", address: "local" }, headers: { Origin: BASE_URL } });
    expect(res.status(), await res.text()).toBe(201);

    const name = uniqueName("dryzone").toLowerCase().replace(/[^a-z0-9-]/g, "-");
    await page.goto("/orders/new");
    await page.getByLabel("Image").selectOption("solaris10-whole-capped");
    await page.getByLabel("Size").selectOption("capped-2cpu-4g");
    await page.getByLabel("Name (hostname)").fill(name);
    await page.getByLabel("Plan on host").selectOption(hostName);
    await page.getByRole("button", { name: "Show commands" }).click();

    const result = page.getByTestId("plan-result");
    await expect(result.getByRole("note")).toContainText("Not run on a real Solaris host");
    await expect(result).toContainText(`${hostName} (zones): ${hostName}: chosen for this dry run`);
    const storage = result.getByTestId("plan-step-storage");
    await expect(storage).toContainText(`$ zonecfg -z ${name} -f /var/tmp/portal/${name}.zonecfg`);
    await expect(storage).toContainText("add capped-cpu\nset ncpus=2\nend");
    await expect(result.getByTestId("plan-step-unpack")).toContainText(`$ zoneadm -z ${name} clone golden-solaris10-whole-capped`);
    await expect(result.getByTestId("plan-step-glue")).toContainText("root_password=<crypt(3) hash, not shown>");
    await expect(result.getByTestId("plan-step-wait_ready")).toContainText(`$ zlogin ${name} svcs -H -o state ssh`);

    // Changing the order marks the shown plan as out of date; nothing was ordered.
    await page.getByLabel("Size").selectOption("small");
    await expect(page.getByText("The form has changed since: press Show commands again for the current order.")).toBeVisible();
    const orders = await (await request.get("/api/v1/orders")).json();
    expect(orders.orders.map((o: { name: string }) => o.name)).not.toContain(name);
  });
});

test.describe("customer", () => {
  test.use({ storageState: authFile("customer") });

  test("does not see the commands", async ({ page }) => {
    await page.goto("/orders/new");
    await expect(page.getByLabel("Image")).toBeVisible();
    await expect(page.getByRole("button", { name: "Show commands" })).toHaveCount(0);
  });
});
