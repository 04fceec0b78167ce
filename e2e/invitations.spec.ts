import { expect, test, type Browser, type Page } from "@playwright/test";
import { authFile, BASE_URL, PASSWORD, users } from "./users";

const sameOrigin = { Origin: BASE_URL };
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const shots = "test-results";
/** A browser with nobody signed in (contexts otherwise start with the test's storage state). */
const signedOut = { storageState: { cookies: [], origins: [] } };

test.describe("teachers and invitations", () => {
  test.use({ storageState: authFile("approver") });

  test("a lost invitation is replaced: the old link is void, the new one sets the password and signs the student in on Courses; then a new link for all who have not signed in", async ({ page, browser }) => {
    const slug = `inv${Date.now().toString(36).slice(-6)}`;
    const ann = `${slug}-ann@uni.test`;
    const bob = `${slug}-bob@uni.test`;
    const created = await page.request.post("/api/v1/courses", {
      data: { name: `Networks ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: day(0), endsOn: day(14) },
      headers: sameOrigin,
    });
    expect(created.status(), await created.text()).toBe(201);
    const { id } = await created.json();
    const uploaded = await page.request.post(`/api/v1/courses/${id}/roster`, { data: { csv: `${ann},Ann Lost\n${bob},Bob Late\n` }, headers: sameOrigin });
    expect(uploaded.status()).toBe(200);
    const first = new Map(((await uploaded.json()).invitations as { email: string; link: string }[]).map((i) => [i.email, i.link]));

    await page.goto(`/courses/${id}`);
    // The e2e portal runs without PORTAL_URL: links point to NEXTAUTH_URL, and the page says so.
    await expect(page.getByTestId("portal-url-warning")).toContainText(`PORTAL_URL is not set, so invitation links and links in e-mails point to ${BASE_URL}`);

    // Uploading Ann again says she never set a password, and offers her a new link.
    const upload = page.getByRole("form", { name: "Upload the roster" });
    await upload.getByLabel("…or paste it").fill(`${ann}\n`);
    await upload.getByRole("button", { name: "Upload roster" }).click();
    const result = page.getByTestId("roster-result");
    await expect(result).toContainText("Added 0 of 1 student; 1 already on the roster.");
    await expect(result.getByTestId("roster-not-signed-in")).toContainText(`1 student has an account but never set a password (${ann})`);
    await result.getByRole("button", { name: "Send a new link" }).click();
    const renewed = result.getByTestId("new-invitations");
    await expect(renewed).toContainText("New link made; earlier links no longer work.");
    await expect(renewed).toContainText("No mail server is configured: hand out the links yourself.");
    const annLink = (await renewed.getByTestId("invitation-link").textContent())!.trim();
    expect(annLink).toMatch(new RegExp(`^${BASE_URL}/invite/[A-Za-z0-9_-]{40,}$`));
    expect(annLink).not.toBe(first.get(ann));
    await expect(renewed.getByRole("button", { name: `Copy the link for ${ann}` })).toBeVisible();
    await page.screenshot({ path: `${shots}/invitation-renewed.png`, fullPage: true });

    // One student's new link from the roster table.
    const bobRow = page.getByTestId("roster-row").filter({ hasText: bob });
    await bobRow.getByRole("button", { name: `New link for ${bob}` }).click();
    await expect(bobRow.getByTestId("new-invitations")).toContainText("New link made");
    const bobSecond = (await bobRow.getByTestId("invitation-link").textContent())!.trim();
    await bobRow.getByRole("button", { name: `Copy the link for ${bob}` }).click();
    await expect(bobRow.getByRole("button", { name: `Copy the link for ${bob}` })).toHaveText("Copied");

    // Ann's lost link no longer works; the new one sets her password and signs her in.
    const anon = await browser.newContext(signedOut);
    const student = await anon.newPage();
    await student.goto(first.get(ann)!);
    await expect(student.getByText("This invitation link is not valid. Ask your teacher for a new one.")).toBeVisible();
    await student.screenshot({ path: `${shots}/invitation-invalid.png`, fullPage: true });
    await student.goto(annLink);
    await expect(student.getByText(`Choose a password for ${ann}`)).toBeVisible();
    await student.getByLabel("New password").fill("ann-lab-password");
    await student.getByRole("button", { name: "Set password and sign in" }).click();
    await expect(student).toHaveURL(/\/courses$/);
    await expect(student.getByTestId("nav-user-email")).toHaveText(ann);
    await expect(student.getByTestId("attending-course").filter({ hasText: `Networks ${slug}` }).getByRole("button", { name: "Get my lab machine" })).toBeVisible();
    await student.screenshot({ path: `${shots}/invitation-signed-in.png`, fullPage: true });
    // Her only group is the course: the catalog sends her to Courses instead of offering orders that fail.
    await student.goto("/catalog");
    await expect(student.getByTestId("catalog-no-group")).toContainText("Your lab machines come from your courses");
    await expect(student.getByRole("link", { name: /^Order / })).toHaveCount(0);
    await anon.close();

    // New links for all who have not signed in: only Bob, and his previous link stops working.
    await page.reload();
    const waiting = page.getByTestId("not-signed-in");
    await expect(waiting).toContainText("1 student has not set a password yet.");
    await expect(page.getByTestId("roster-row").filter({ hasText: ann })).toContainText("active");
    await waiting.getByRole("button", { name: "New links for all who have not signed in (1)" }).click();
    await expect(waiting.getByTestId("invitation")).toHaveCount(1);
    await expect(waiting.getByTestId("invitation")).toHaveAttribute("data-email", bob);
    const bobThird = (await waiting.getByTestId("invitation-link").textContent())!.trim();
    await page.screenshot({ path: `${shots}/invitation-all.png`, fullPage: true });
    const check = await browser.newContext(signedOut);
    const visitor = await check.newPage();
    await visitor.goto(bobSecond);
    await expect(visitor.getByText("This invitation link is not valid. Ask your teacher for a new one.")).toBeVisible();
    await visitor.goto(bobThird);
    await expect(visitor.getByText(`Choose a password for ${bob}`)).toBeVisible();
    await check.close();

    // On a phone the links wrap and the buttons fill the width: the page's content (the top bar
    // aside) needs no sideways scrolling; the roster table scrolls in its own box.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.getByRole("button", { name: "New links for all who have not signed in (1)" }).click();
    await expect(page.getByTestId("not-signed-in").getByTestId("invitation")).toHaveCount(1);
    expect(await page.locator("main").evaluate((main) => main.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${shots}/invitation-phone.png`, fullPage: true });
  });

  test("creating a course opens it; date fields take 2026-12-06 and refuse 06/12/2026 with a clear message", async ({ page }) => {
    const slug = `dt${Date.now().toString(36).slice(-6)}`;
    await page.goto("/courses");
    const form = page.getByRole("form", { name: "Create a course" });
    await form.getByLabel("Course name").fill(`Dates ${slug}`);
    await form.getByLabel("Short name").fill(slug);
    const start = form.getByLabel("Starts on");
    const end = form.getByLabel("Ends on (machines are retired after this day)");
    await expect(start).toHaveAttribute("placeholder", "YYYY-MM-DD");
    await start.fill("2026-12-06");
    await end.fill("06/12/2026");
    await expect(form.getByText("Enter the date as YYYY-MM-DD, e.g. 2026-12-06")).toBeVisible();
    await expect(end).toHaveAttribute("aria-invalid", "true");
    await end.fill("2026-02-30");
    await expect(form.getByText("2026-02-30 is not a day of the calendar")).toBeVisible();
    await form.getByRole("button", { name: "Create course" }).click();
    await expect(page).toHaveURL(/\/courses$/);
    await page.screenshot({ path: `${shots}/course-date-error.png`, fullPage: true });
    await end.fill(day(21));
    await form.getByRole("button", { name: "Create course" }).click();
    await expect(page).toHaveURL(/\/courses\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { name: `Dates ${slug}` })).toBeVisible();
    await expect(page.getByText(`2026-12-06 to ${day(21)}`)).toBeVisible();

    // The last day on the course page: the same form, the same messages.
    const settings = page.getByRole("form", { name: "Course settings" });
    await expect(settings.getByLabel("Last day")).toHaveValue(day(21));
    await settings.getByLabel("Last day").fill("06/12/2026");
    await settings.getByRole("button", { name: "Save" }).click();
    await expect(settings.getByText("Enter the date as YYYY-MM-DD, e.g. 2026-12-06")).toBeVisible();
    await settings.getByLabel("Last day").fill(day(28));
    await settings.getByRole("button", { name: "Save" }).click();
    await expect(settings.getByRole("status")).toHaveText("Saved");
    await expect(page.getByText(`2026-12-06 to ${day(28)}`)).toBeVisible();
  });

  test("without JavaScript the course forms still work and the server names the bad date", async ({ browser }) => {
    const context = await browser.newContext({ storageState: authFile("approver"), javaScriptEnabled: false });
    const page = await context.newPage();
    const slug = `nj${Date.now().toString(36).slice(-6)}`;
    await page.goto("/courses");
    const form = page.getByRole("form", { name: "Create a course" });
    await form.getByLabel("Course name").fill(`No script ${slug}`);
    await form.getByLabel("Short name").fill(slug);
    await form.getByLabel("Starts on").fill("2026-12-06");
    await form.getByLabel("Ends on (machines are retired after this day)").fill("06/12/2026");
    await form.getByRole("button", { name: "Create course" }).click();
    await expect(form.getByText("Enter the date as YYYY-MM-DD, e.g. 2026-12-06")).toBeVisible();
    await expect(form.getByRole("alert")).toHaveText("Not created: see the marked fields");
    // What was typed is kept.
    await expect(form.getByLabel("Course name")).toHaveValue(`No script ${slug}`);
    await expect(form.getByLabel("Ends on (machines are retired after this day)")).toHaveValue("06/12/2026");
    await page.screenshot({ path: `${shots}/course-date-error-nojs.png`, fullPage: true });
    await form.getByLabel("Ends on (machines are retired after this day)").fill(day(30));
    await form.getByRole("button", { name: "Create course" }).click();
    await expect(page).toHaveURL(/\/courses\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { name: `No script ${slug}` })).toBeVisible();

    const settings = page.getByRole("form", { name: "Course settings" });
    await settings.getByLabel("Last day").fill("2026-13-01");
    await settings.getByRole("button", { name: "Save" }).click();
    await expect(settings.getByText("2026-13-01 is not a day of the calendar")).toBeVisible();
    await settings.getByLabel("Lab machines").fill("4");
    await settings.getByLabel("Last day").fill(day(31));
    await settings.getByRole("button", { name: "Save" }).click();
    await expect(settings.getByRole("status")).toHaveText("Saved");
    await expect(page.getByText(`0 of 4 lab machines in use`)).toBeVisible();
    await context.close();
  });
});

async function signInThroughPage(browser: Browser, email: string, password: string): Promise<Page> {
  const context = await browser.newContext(signedOut);
  const page = await context.newPage();
  await page.goto("/");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

test("a student signing in lands on Courses, a customer on the catalog", async ({ browser }) => {
  const student = await signInThroughPage(browser, users.student.email, PASSWORD);
  await expect(student).toHaveURL(/\/courses$/);
  await expect(student.getByRole("heading", { name: "Courses", exact: true })).toBeVisible();
  await student.context().close();
  const customer = await signInThroughPage(browser, users.customer.email, PASSWORD);
  await expect(customer).toHaveURL(/\/catalog$/);
  await customer.context().close();
});

test.describe("the catalog", () => {
  test.use({ storageState: authFile("customer") });

  test("customers see no Simulated host kind; admins do", async ({ page, browser }) => {
    await page.goto("/catalog");
    const database = page.getByTestId("catalog-image").filter({ hasText: "Linux database server" });
    await expect(database).toContainText("Xen");
    await expect(page.getByText("Simulated")).toHaveCount(0);
    await expect(page.getByLabel("Hypervisor").locator("option")).toHaveText(["Any", "QEMU/KVM", "Xen", "Solaris zones"]);
    await page.screenshot({ path: `${shots}/catalog-customer.png`, fullPage: true });
    await page.goto("/orders/new?image=linux-db");
    await expect(page.getByRole("complementary")).toContainText("Linux database server");
    await expect(page.getByText("Simulated")).toHaveCount(0);

    const adminContext = await browser.newContext({ storageState: authFile("admin") });
    const admin = await adminContext.newPage();
    await admin.goto("/catalog");
    await expect(admin.getByTestId("catalog-image").filter({ hasText: "Linux database server" })).toContainText("Simulated");
    await expect(admin.getByLabel("Hypervisor").locator("option")).toContainText(["Simulated"]);
    await adminContext.close();
  });

  test("a filter applies as soon as it is chosen", async ({ page }) => {
    await page.goto("/catalog");
    const images = page.getByTestId("catalog-image");
    const all = await images.count();
    await expect(page.getByRole("button", { name: "Apply filters" })).toHaveCount(0);
    await page.getByLabel("Operating system").selectOption("solaris");
    await expect(page).toHaveURL(/\/catalog\?os=solaris&kind=$/);
    await expect(images).toHaveCount(2);
    await expect(page.getByLabel("Operating system")).toHaveValue("solaris");
    await page.getByLabel("Hypervisor").selectOption("zones");
    await expect(page).toHaveURL(/\/catalog\?os=solaris&kind=zones$/);
    await expect(images).toHaveCount(2);
    await page.getByLabel("Operating system").selectOption("linux");
    await expect(page.getByText("No image matches these filters.")).toBeVisible();
    await page.getByRole("link", { name: "Clear filters" }).click();
    await expect(images).toHaveCount(all);
  });
});
