import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { startSshd, type RunningSshd } from "../tests/helpers/sshd";
import { authFile, uniqueName } from "./users";

test.use({ storageState: authFile("admin") });

/** A real OpenSSH server on loopback stands in for the hypervisor host. */
let sshd: RunningSshd;
const SSHD_PORT = 2224;

test.beforeAll(async () => {
  sshd = await startSshd({ port: SSHD_PORT });
});

test.afterAll(async () => {
  await sshd?.stop();
});

test("an admin registers a host, tests the connection, sees its host key and capacity, and activates it", async ({ page }) => {
  const name = uniqueName("kvm").toLowerCase().replace(/[^a-z0-9-]/g, "-");
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Hosts" }).click();
  await expect(page).toHaveURL(/\/admin\/hosts$/);

  const form = page.getByRole("form", { name: "Register a host" });
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Kind").selectOption("qemu");
  // A shell fragment in the address is refused as you type, naming the characters.
  await form.getByLabel("Address").fill("127.0.0.1; reboot");
  await expect(form.getByText("A host address cannot contain ; space: use a host name like xen-01.example.org or an IP address")).toBeVisible();
  await form.getByLabel("Address").fill(sshd.host);
  await form.getByLabel("SSH port").fill(String(SSHD_PORT));
  await form.getByLabel("SSH user").fill(sshd.user);
  await form.getByLabel("Private key").fill(sshd.privateKey);
  await expect(form.locator(".field-error")).toHaveCount(0);
  await form.getByRole("button", { name: "Register host" }).click();
  await expect(form.getByRole("status")).toHaveText(`Registered ${name}. It stays offline until you run Test connection and activate it.`);
  // The key is gone from the form and not on the page.
  await expect(form.getByLabel("Private key")).toHaveValue("");
  const keyLines = sshd.privateKey.split("\n").filter((l) => l && !l.startsWith("-----"));
  const html = await page.content();
  for (const line of keyLines) expect(html).not.toContain(line);

  const card = page.getByRole("article", { name: `Host ${name}` });
  await expect(card.getByTestId("host-state")).toHaveText("offline");
  await expect(card.getByTestId("host-key-fingerprint")).toContainText("not pinned yet");
  await expect(card.getByTestId("host-capacity-summary")).toHaveText("unknown until Test connection");

  await card.getByRole("button", { name: `Test connection to ${name}` }).click();
  const result = card.getByTestId("test-result");
  await expect(result).toHaveAttribute("data-ok", "true", { timeout: 30_000 });
  await expect(card.getByTestId("host-key-fingerprint")).toContainText(sshd.hostKeyFingerprint);
  await expect(card.getByTestId("host-key-fingerprint")).toContainText("(pinned now)");
  const cpus = execFileSync("nproc", { encoding: "utf8" }).trim();
  await expect(result.getByTestId("capacity-vcpus")).toHaveText(cpus);
  await expect(result.getByTestId("capacity-memory")).toContainText("GiB");
  await expect(result).toContainText("QEMU emulator version");
  await expect(card.getByTestId("host-capacity-summary")).toContainText(`${cpus} CPUs`);

  await card.getByLabel(`State of ${name}`).selectOption("active");
  await expect(card.getByTestId("host-state")).toHaveText("active");
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "test-results/admin-hosts.png", fullPage: true });

  // Connection settings: a user name with a shell fragment is refused under its field; a new limit is saved.
  await card.getByText("Change connection settings").click();
  const settings = card.getByRole("form", { name: "Connection settings" });
  await settings.getByLabel("SSH user").fill("root;id");
  await expect(settings.getByText("A user name cannot contain ;: use lowercase letters, digits, _ and -")).toBeVisible();
  await settings.getByLabel("SSH user").fill(sshd.user);
  // Driver settings are checked with the kind's own rules; the server names the setting.
  await expect(settings.getByLabel("Driver settings (JSON)")).toHaveValue("{}");
  await settings.getByLabel("Driver settings (JSON)").fill('{"storageDir": "/var/lib/portal data"}');
  await settings.getByRole("button", { name: "Save settings" }).click();
  await expect(settings.getByText("storageDir: storageDir must be an absolute path of letters, digits and . _ + - (no spaces or ..)")).toBeVisible();
  await settings.getByLabel("Driver settings (JSON)").fill('{"storageDir": "/var"}');
  await settings.getByLabel("Commands at once").fill("3");
  await settings.getByRole("button", { name: "Save settings" }).click();
  await expect(card.getByRole("status").filter({ hasText: `Saved the connection settings of ${name}` })).toBeVisible();
  await expect(card).toContainText("3 commands");

  // The host comes back with another host key: the portal refuses it and shows both keys.
  const pinned = sshd.hostKeyFingerprint;
  await sshd.restart({ newHostKey: true });
  await card.getByRole("button", { name: `Test connection to ${name}` }).click();
  await expect(card.getByTestId("test-result")).toHaveAttribute("data-ok", "false", { timeout: 30_000 });
  await expect(card.getByTestId("test-result")).toContainText(`host key changed: pinned ${pinned}, the host presented ${sshd.hostKeyFingerprint}`);
  await expect(card.getByTestId("host-key-fingerprint")).toHaveText(pinned);
  const changed = card.getByTestId("changed-host-key");
  await expect(changed).toContainText(sshd.hostKeyFingerprint);
  await page.screenshot({ path: "test-results/admin-hosts-changed-key.png", fullPage: true });
  // The admin compared it on the host's console and pins it; the next test connects.
  page.once("dialog", (d) => void d.accept());
  await changed.getByRole("button", { name: "Pin the new key" }).click();
  await expect(card.getByTestId("host-key-fingerprint")).toHaveText(sshd.hostKeyFingerprint);
  await card.getByRole("button", { name: `Test connection to ${name}` }).click();
  await expect(card.getByTestId("test-result")).toHaveAttribute("data-ok", "true", { timeout: 30_000 });

  // The host is drained again so that no other test's orders land on the loopback host.
  await card.getByLabel(`State of ${name}`).selectOption("draining");
  await expect(card.getByTestId("host-state")).toHaveText("draining");
});
