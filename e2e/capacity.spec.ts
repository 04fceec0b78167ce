import { expect, test } from "@playwright/test";
import { authFile, BASE_URL, uniqueName } from "./users";

test.use({ storageState: authFile("admin") });

test("an admin widens a network in the form; a block over another network is refused with the reason", async ({ page }) => {
  const slug = uniqueName("grow").toLowerCase();
  // A service network of its own (a production one would be offered to other tests' orders).
  const created = await page.request.post("/api/v1/networks", {
    data: { slug, name: `Grows ${slug}`, purpose: "service", cidr: "10.20.1.0/26", gateway: "10.20.1.1", bridge: "xenbr4", macPrefix: "06:47:00" },
    headers: { Origin: BASE_URL },
  });
  expect(created.status(), await created.text()).toBe(201);

  await page.goto("/admin/networks");
  const form = page.getByRole("form", { name: "Change a network" });
  await form.getByLabel("Network").selectOption({ label: `Grows ${slug}` });
  await expect(form.getByLabel("CIDR")).toHaveValue("10.20.1.0/26");
  await form.getByLabel("CIDR").fill("10.20.1.1/24");
  await expect(form.getByText("10.20.1.1/24 is not the network address of its block: use 10.20.1.0/24")).toBeVisible();
  // Wider still, over the seeded service network: refused, the reason under the CIDR.
  await form.getByLabel("CIDR").fill("10.20.0.0/16");
  await form.getByRole("button", { name: "Save network" }).click();
  await expect(form.getByText("10.20.0.0/16 overlaps network Service network (service, 10.20.0.0/24)")).toBeVisible();
  await expect(form.getByRole("alert")).toHaveText("Not saved: see the marked fields");

  await form.getByLabel("Network").selectOption({ label: `Grows ${slug}` });
  await form.getByLabel("CIDR").fill("10.20.1.0/24");
  await form.getByLabel("Bridge or device").fill("xenbr5");
  await form.getByRole("button", { name: "Save network" }).click();
  await expect(form.getByRole("status")).toHaveText(`Grows ${slug} is now 10.20.1.0/24, gateway 10.20.1.1, bridge xenbr5`);
  const row = page.getByRole("table", { name: "Networks" }).getByRole("row").filter({ hasText: slug });
  await expect(row).toContainText("10.20.1.0/24");
  await expect(row).toContainText("xenbr5");
  await expect(row.getByTestId("network-free")).toHaveText("253");
});

test("an admin sets a host's memory by hand and hands it back to discovery", async ({ page }) => {
  await page.goto("/admin/hosts");
  const card = page.getByRole("article", { name: "Host sim-2" });
  const form = card.getByRole("form", { name: "Host capacity" });
  await form.getByLabel("Memory (MiB)").fill("0");
  await form.getByRole("button", { name: "Save capacity" }).click();
  await expect(form.getByText("Memory (MiB) is a whole number from 1 to 67108864")).toBeVisible();

  // The seeded figure, set by hand: nothing changes for the other tests' placements.
  await form.getByLabel("Memory (MiB)").fill("65536");
  await form.getByRole("button", { name: "Save capacity" }).click();
  await expect(form.getByRole("status")).toHaveText("sim-2: 16 CPUs, 65536 MiB, 2000 GiB");
  await expect(card.getByTestId("host-capacity-summary")).toContainText("(set by hand: memory)");

  const card2 = page.getByRole("article", { name: "Host sim-2" });
  await card2.getByRole("form", { name: "Host capacity" }).getByLabel("Memory (MiB)").fill("");
  await card2.getByRole("form", { name: "Host capacity" }).getByRole("button", { name: "Save capacity" }).click();
  await expect(card2.getByRole("form", { name: "Host capacity" }).getByRole("status")).toHaveText("sim-2: 16 CPUs, 65536 MiB, 2000 GiB");
  await expect(card2.getByTestId("host-capacity-summary")).not.toContainText("set by hand");
});
