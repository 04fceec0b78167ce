import { expect, test } from "@playwright/test";
import { authFile, uniqueName } from "./users";

test.use({ storageState: authFile("admin") });

test("an admin adds a service network in the form after fixing a CIDR that is not a network address", async ({ page }) => {
  await page.goto("/admin/networks");
  const form = page.getByRole("form", { name: "Add a network" });
  const slug = uniqueName("lab").toLowerCase();

  await form.getByLabel("Name").fill("Lab services");
  await form.getByLabel("Slug").fill(slug);
  // A service network: a new production network would be offered to the orders of the other
  // tests, which expect the seeded production network's addresses.
  await form.getByLabel("Purpose").selectOption("service");
  await form.getByLabel("Bridge or device").fill("xenbr2");
  await form.getByLabel("CIDR").fill("10.45.0.5/24");
  await expect(form.getByText("10.45.0.5/24 is not the network address of its block: use 10.45.0.0/24")).toBeVisible();
  await expect(form.getByLabel("CIDR")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("CIDR").fill("10.45.0.0/24");
  await form.getByLabel("Gateway").fill("10.46.0.1");
  await expect(form.getByText("Gateway must be inside 10.45.0.0/24")).toBeVisible();
  await form.getByLabel("Gateway").fill("10.45.0.1");
  await form.getByLabel("MAC prefix").fill("06:45:00");
  await expect(form.locator(".field-error")).toHaveCount(0);

  await form.getByRole("button", { name: "Add network" }).click();
  await expect(form.getByRole("status")).toHaveText("Added Lab services (10.45.0.0/24)");
  const row = page.getByRole("table", { name: "Networks" }).getByRole("row").filter({ hasText: slug });
  await expect(row).toContainText("10.45.0.0/24");
  await expect(row).toContainText("06:45:00");
  await expect(row.getByTestId("network-free")).toHaveText("253");
  // The form is empty again, ready for the next network.
  await expect(form.getByLabel("Slug")).toHaveValue("");
  await page.getByRole("heading", { name: /^Networks/ }).first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: "test-results/admin-network.png" });

  // A block that overlaps it: the server's message shows under the CIDR.
  await form.getByLabel("Name").fill("Overlapping");
  await form.getByLabel("Slug").fill(`${slug}-b`);
  await form.getByLabel("Bridge or device").fill("xenbr3");
  await form.getByLabel("CIDR").fill("10.45.0.128/25");
  await form.getByLabel("Gateway").fill("10.45.0.129");
  await form.getByRole("button", { name: "Add network" }).click();
  await expect(form.getByText(`10.45.0.128/25 overlaps network Lab services (${slug}, 10.45.0.0/24)`)).toBeVisible();
  await expect(form.getByRole("alert")).toHaveText("Not added: see the marked fields");
  await expect(page.getByRole("table", { name: "Networks" }).getByRole("row").filter({ hasText: `${slug}-b` })).toHaveCount(0);
});

test("the image form checks OS and hypervisors as you type and shows a taken slug under the slug", async ({ page }) => {
  await page.goto("/admin/images");
  const form = page.getByRole("form", { name: "Add an image" });
  await form.getByLabel("Name").fill("Another test server");
  await form.getByLabel("Slug").fill("linux-test");
  await form.getByLabel("Operating system").selectOption("solaris");
  // Switching to Solaris keeps only the hypervisors that run it and asks for a zone root.
  await expect(form.getByLabel("Simulated")).toBeChecked();
  await expect(form.getByLabel("Solaris zones")).toBeChecked();
  await expect(form.getByLabel("QEMU/KVM")).not.toBeChecked();
  await expect(form.getByLabel("Zone root")).toHaveValue("sparse");
  await form.getByLabel("QEMU/KVM").check();
  await expect(form.getByText("Solaris images run only on zones or sim hosts, not on qemu")).toBeVisible();
  await form.getByLabel("QEMU/KVM").uncheck();
  await expect(form.getByText(/Solaris images run only/)).toHaveCount(0);
  await form.getByLabel("Operating system").selectOption("linux");
  await expect(form.getByLabel("Solaris zones")).not.toBeChecked();
  await form.getByLabel("Version").fill("Debian 12");
  await form.getByLabel("Size (MB)").fill("0");
  await expect(form.getByText("Size must be more than 0 MB")).toBeVisible();
  await form.getByLabel("Size (MB)").fill("2048");
  await form.getByRole("button", { name: "Add image" }).click();
  await expect(form.getByText("An image with slug linux-test already exists (Linux test server)")).toBeVisible();
  await page.screenshot({ path: "test-results/admin-image.png" });
  await expect(form.getByLabel("Slug")).toHaveAttribute("aria-invalid", "true");
});
