import { mkdirSync } from "node:fs";
import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { authFile, BASE_URL, uniqueName, users, type RoleName } from "./users";
import { orderViaApi } from "./helpers";
import { ALICE_KEY } from "../tests/fixtures/ssh-keys";

/**
 * The portal on phones: every page a role opens fits 390 px (and 360 and 414 for the key ones)
 * without scrolling sideways, and the top menu folds behind a button that opens and navigates.
 * A full-page screenshot of each page goes to test-results/phone/.
 */

const PHONE = { width: 390, height: 844 };
const SHOTS = "test-results/phone";

/** The admin's own pages; they are checked in a test of their own. */
const ADMIN_PAGES = ["/admin/users", "/admin/hosts", "/admin/hosts/rebalance", "/admin/networks", "/admin/images", "/admin/groups", "/admin/policies", "/admin/sign-in", "/admin/dashboard", "/admin/audit"];

const sameOrigin = { Origin: BASE_URL };
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** What the pages are shown with: orders in several states, a course with a roster and a lab machine. */
type Fixture = { ready: string; held: string; course: string; labMachine: string; invite: string };
let fixture: Fixture;

async function api(role: RoleName): Promise<APIRequestContext> {
  return request.newContext({ baseURL: BASE_URL, storageState: authFile(role), extraHTTPHeaders: sameOrigin });
}

async function orderReady(ctx: APIRequestContext, id: string) {
  await expect
    .poll(async () => ((await (await ctx.get(`/api/v1/orders/${id}`)).json()) as { status: string }).status, { timeout: 60_000 })
    .toBe("ready");
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  mkdirSync(SHOTS, { recursive: true });
  const customer = await api("customer");
  const approver = await api("approver");
  const student = await api("student");

  // A delivered order of the customer, approved by the approver, and one still held.
  const ready = await orderViaApi(customer, { image: "linux-test", flavor: "small", name: uniqueName("phone") });
  expect((await approver.post(`/api/v1/orders/${ready.id}/approve`, { data: {} })).status()).toBe(200);
  const held = await orderViaApi(customer, { image: "linux-web", flavor: "small", name: uniqueName("phoneheld") });

  // The account page with a key and a token on file.
  const key = ALICE_KEY;
  expect((await customer.put("/api/v1/me/ssh-key", { data: { sshPublicKey: key } })).status()).toBe(200);
  expect((await customer.post("/api/v1/tokens", { data: { name: "phone laptop" } })).status()).toBe(201);

  // A course with the student (told by a notification) and a newly invited one; the student's lab machine.
  const slug = `ph${Date.now().toString(36).slice(-6)}`;
  const created = await approver.post("/api/v1/courses", {
    data: { name: `Phone lab ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: day(0), endsOn: day(14) },
  });
  expect(created.status(), await created.text()).toBe(201);
  const course = ((await created.json()) as { id: string }).id;
  const roster = await approver.post(`/api/v1/courses/${course}/roster`, {
    data: `email,name\n${users.student.email},Sam Student\n${slug}-new@uni.test,Nia New\n`,
    headers: { "Content-Type": "text/csv" },
  });
  expect(roster.status(), await roster.text()).toBe(200);
  const invite = ((await roster.json()) as { invitations: { link: string }[] }).invitations[0].link;
  const machine = await student.post(`/api/v1/courses/${course}/machine`);
  expect(machine.status(), await machine.text()).toBe(201);
  const labMachine = ((await machine.json()) as { orderId: string }).orderId;

  await orderReady(customer, ready.id);
  await orderReady(student, labMachine);
  // A lease extension beyond the limit waits for the approver: on the order page and under Approvals.
  const env = ((await (await customer.get(`/api/v1/orders/${ready.id}`)).json()) as { environment: { id: string } }).environment.id;
  const extend = await customer.post(`/api/v1/leases/${env}/extend`, { data: { days: 100, reason: "the thesis runs until summer" } });
  expect(extend.status(), await extend.text()).toBe(202);

  fixture = { ready: ready.id, held: held.id, course, labMachine, invite: new URL(invite, BASE_URL).pathname };
  await Promise.all([customer.dispose(), approver.dispose(), student.dispose()]);
});

/** A page to visit: a name for its screenshot, and its address. */
type Visit = [name: string, path: string];

/** The pages each role opens (the admin's own pages are in ADMIN_PAGES). */
function pagesOf(role: RoleName | "anonymous"): Visit[] {
  const own: Visit[] = [
    ["catalog", "/catalog"],
    ["orders", "/orders"],
    ["order-form", "/orders/new?image=linux-test"],
    ["account", "/account"],
    ["notifications", "/notifications"],
    ["service-ips", "/service-ips"],
    ["not-found", "/orders/00000000-0000-4000-8000-000000000000"],
  ];
  const orders: Visit[] = [["order-ready", `/orders/${fixture.ready}`], ["order-held", `/orders/${fixture.held}`]];
  const courses: Visit[] = [["courses", "/courses"], ["course", `/courses/${fixture.course}`]];
  switch (role) {
    case "customer":
      return [...own, ...orders, ["forbidden", "/approvals"]];
    case "approver":
      return [...own, ["approvals", "/approvals"], ...courses, ...orders];
    case "student":
      return [...own, ...courses, ["order-lab-machine", `/orders/${fixture.labMachine}`]];
    case "admin":
      return [...own, ["orders-all", "/orders?scope=all"], ["approvals", "/approvals"], ...courses, ...orders];
    default:
      return [["login", "/login"], ["invite", fixture.invite], ["invite-invalid", "/invite/not-a-valid-invitation-token"]];
  }
}

/**
 * How far the page is wider than the window, and the elements that stick out past its right
 * edge (outermost first, widest first), each as tag.class "text" and its right edge, so that a
 * failure says what to fix. Content inside a box that scrolls or clips sideways is that box's
 * business and is not listed.
 */
async function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const innerWidth = window.innerWidth;
    const clips = (el: Element) => getComputedStyle(el).overflowX !== "visible";
    const sticksOut = (el: Element) => {
      const r = el.getBoundingClientRect();
      return (r.width > 0 || r.height > 0) && r.right > innerWidth + 0.5;
    };
    // What an element is laid out in: an absolutely positioned one escapes every box up to its positioned ancestor.
    const containerOf = (el: Element) => {
      let a = el.parentElement;
      if (getComputedStyle(el).position === "absolute") while (a && getComputedStyle(a).position === "static" && getComputedStyle(a).transform === "none") a = a.parentElement;
      return a;
    };
    const inClippingBox = (el: Element) => {
      if (getComputedStyle(el).position === "fixed") return true;
      for (let a = containerOf(el); a && a !== document.body; a = containerOf(a)) if (clips(a)) return true;
      return false;
    };
    const found = [...document.body.querySelectorAll("*")].filter((el) => sticksOut(el) && !inClippingBox(el));
    // The outermost offender is the one to fix; what it contains sticks out because of it.
    const roots = found.filter((el) => !found.includes(el.parentElement as Element));
    const describe = (el: Element) => {
      const r = el.getBoundingClientRect();
      const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
      const text = (el.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 60);
      return `${el.tagName.toLowerCase()}${cls} "${text}" right edge ${Math.round(r.right)} px, ${Math.round(r.width)} px wide`;
    };
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth,
      culprits: roots.sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right).slice(0, 5).map(describe),
    };
  });
}

async function expectFits(page: Page, what: string, soft = false) {
  const o = await overflow(page);
  (soft ? expect.soft : expect)(
    o.scrollWidth,
    `${what} is ${o.scrollWidth} px wide in a ${o.innerWidth} px window; sticking out:\n  ${o.culprits.join("\n  ") || "(nothing found outside scrolling boxes)"}`,
  ).toBeLessThanOrEqual(o.innerWidth);
}

/**
 * Opens each page, waits until it has drawn its heading, takes a screenshot and checks that it
 * fits; a page that does not fit fails the test softly, so one run lists every such page.
 */
async function visitAll(page: Page, role: string, visits: Visit[]) {
  const width = page.viewportSize()!.width;
  for (const [name, path] of visits) {
    await test.step(path, async () => {
      const res = await page.goto(path);
      expect(res!.status(), `${path} answered HTTP ${res!.status()}`).toBeLessThan(500);
      await expect(page.locator("main h1").first()).toBeVisible();
      await page.screenshot({ path: `${SHOTS}/${role}-${name}-${width}.png`, fullPage: true });
      await expectFits(page, `${path} for ${role} at ${width} px`, true);
    });
  }
}

test.describe("at 390 px", () => {
  for (const role of ["customer", "approver", "student", "admin"] as const) {
    test(`every page fits for the ${role}`, async ({ browser }) => {
      const context = await browser.newContext({ storageState: authFile(role), viewport: PHONE });
      const page = await context.newPage();
      await visitAll(page, role, pagesOf(role));
      await context.close();
    });
  }

  test("the sign-in and invitation pages fit", async ({ browser }) => {
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await visitAll(page, "anonymous", pagesOf("anonymous"));
    await context.close();
  });

  test("open panels fit: the dry run's commands, a step log, the destroy confirmation, a pending lease extension", async ({ browser }) => {
    const context = await browser.newContext({ storageState: authFile("admin"), viewport: PHONE });
    const page = await context.newPage();
    // A Solaris host, offline so that no order lands on it, gives a plan with long commands and files.
    const host = uniqueName("phonesol");
    const registered = await page.request.post("/api/v1/hosts", { data: { name: host, kind: "zones", address: "local" }, headers: sameOrigin });
    expect(registered.status(), await registered.text()).toBe(201);
    await page.goto("/orders/new?image=solaris10-whole-capped");
    await page.getByLabel("Size").selectOption("capped-2cpu-4g");
    await page.getByLabel("Name (hostname)").fill(uniqueName("phoneplan"));
    await page.getByLabel("Plan on host").selectOption(host);
    await page.getByRole("button", { name: "Show commands" }).click();
    await expect(page.getByTestId("plan-step-storage")).toContainText("zonecfg");
    await page.screenshot({ path: `${SHOTS}/admin-show-commands-390.png`, fullPage: true });
    await expectFits(page, "the order form with its commands");

    const customer = await browser.newContext({ storageState: authFile("customer"), viewport: PHONE });
    const own = await customer.newPage();
    await own.goto(`/orders/${fixture.ready}`);
    await own.getByRole("button", { name: /^Show log/ }).first().click();
    await own.getByRole("button", { name: "Destroy environment" }).click();
    await expect(own.getByRole("alertdialog", { name: "Confirm destroy" })).toBeVisible();
    await expect(own.getByTestId("lease-panel")).toContainText("Waiting for an approver of the group.");
    await own.screenshot({ path: `${SHOTS}/customer-order-open-panels-390.png`, fullPage: true });
    await expectFits(own, "the order page with a log and the destroy confirmation open");
    // Full-width actions on a phone: the confirmation's button spans its box, Stop and Start share the row.
    const dialog = (await own.getByRole("alertdialog", { name: "Confirm destroy" }).boundingBox())!;
    expect((await own.getByRole("button", { name: "Yes, destroy it" }).boundingBox())!.width).toBeGreaterThan(dialog.width * 0.8);
    const card = (await own.getByTestId("power-panel").boundingBox())!;
    const stop = (await own.getByRole("button", { name: "Stop", exact: true }).boundingBox())!;
    const start = (await own.getByRole("button", { name: "Start", exact: true }).boundingBox())!;
    expect(stop.width + start.width).toBeGreaterThan(card.width * 0.7);
    expect(stop.x + stop.width).toBeLessThanOrEqual(card.x + card.width);
    await customer.close();
    await context.close();
  });

  test("the menu button opens the navigation, a link navigates and closes it, Escape closes it", async ({ browser }) => {
    const context = await browser.newContext({ storageState: authFile("admin"), viewport: PHONE });
    const page = await context.newPage();
    await page.goto("/catalog");
    const header = page.getByRole("banner");
    const menu = page.getByRole("button", { name: "Menu" });
    const nav = page.locator("#main-menu");
    // The dark bar spans the window; the bell and sign out are in it and readable.
    expect((await header.boundingBox())!.width).toBe(PHONE.width);
    for (const control of [page.getByTestId("nav-bell"), page.getByRole("button", { name: "Sign out" }), menu]) {
      await expect(control).toBeInViewport({ ratio: 1 });
    }
    await expect(nav).toBeHidden();
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(menu).toHaveAttribute("aria-controls", "main-menu");

    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    const main = page.getByRole("navigation", { name: "Main" });
    await expect(main.getByRole("link")).toHaveText(["Catalog", "My orders", "Service IPs", "Approvals", "Courses", "Admin", "Account"]);
    await expect(main.getByRole("link", { name: "Catalog" })).toHaveAttribute("aria-current", "page");
    await expect(main).toContainText("Signed in as admin@portal.local (admin)");
    await page.screenshot({ path: `${SHOTS}/admin-menu-open-390.png` });
    await expectFits(page, "the catalog with the menu open");

    await main.getByRole("link", { name: "My orders" }).click();
    await expect(page).toHaveURL(/\/orders$/);
    await expect(page.getByRole("heading", { name: "My orders" })).toBeVisible();
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(nav).toBeHidden();

    // Every admin page lights up "Admin".
    await menu.click();
    await main.getByRole("link", { name: "Admin" }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(nav).toBeHidden();
    await page.goto("/admin/audit");
    await menu.click();
    await expect(main.getByRole("link", { name: "Admin" })).toHaveAttribute("aria-current", "page");
    await page.keyboard.press("Escape");
    await expect(nav).toBeHidden();
    await expect(menu).toBeFocused();
    await expect(menu).toHaveAttribute("aria-expanded", "false");

    // A tap outside the bar closes it too (at the foot of a short page, where nothing else reacts).
    await page.goto("/notifications");
    await menu.click();
    await expect(nav).toBeVisible();
    await page.mouse.click(PHONE.width / 2, PHONE.height - 10);
    await expect(nav).toBeHidden();
    await expect(page).toHaveURL(/\/notifications$/);
    await context.close();
  });
});

test("from 1024 px the links sit in the bar and there is no menu button", async ({ browser }) => {
  for (const width of [1024, 1360]) {
    const context = await browser.newContext({ storageState: authFile("admin"), viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto("/admin/dashboard");
    await expect(page.getByRole("button", { name: "Menu" })).toBeHidden();
    const main = page.getByRole("navigation", { name: "Main" });
    await expect(main.getByRole("link")).toHaveText(["Catalog", "My orders", "Service IPs", "Approvals", "Courses", "Admin", "Account"]);
    await expect(main.getByRole("link", { name: "Admin" })).toHaveAttribute("aria-current", "page");
    for (const control of [main, page.getByTestId("nav-bell"), page.getByRole("button", { name: "Sign out" })]) await expect(control).toBeInViewport({ ratio: 1 });
    // The bar stays one line high.
    expect((await page.getByRole("banner").boundingBox())!.height).toBeLessThan(60);
    await page.screenshot({ path: `${SHOTS}/admin-top-bar-${width}.png`, clip: { x: 0, y: 0, width, height: 120 } });
    await context.close();
  }
});

test.describe("at 360 and 414 px", () => {
  for (const width of [360, 414]) {
    test(`key pages fit at ${width} px`, async ({ browser }) => {
      for (const role of ["customer", "approver"] as const) {
        const context = await browser.newContext({ storageState: authFile(role), viewport: { width, height: 800 } });
        const page = await context.newPage();
        const names = role === "customer" ? ["catalog", "orders", "order-ready", "order-form", "account"] : ["approvals", "course"];
        await visitAll(page, role, pagesOf(role).filter(([name]) => names.includes(name)));
        await context.close();
      }
    });
  }
});

test.describe("admin pages at 390 px", () => {
  test("every admin page fits", async ({ browser }) => {
    const context = await browser.newContext({ storageState: authFile("admin"), viewport: PHONE });
    const page = await context.newPage();
    // A host's page with its usage charts (the sim host the fixture's orders run on).
    const hostList = (await (await context.request.get("/api/v1/hosts")).json()) as { hosts: { id: string; kind: string }[] };
    const sim = hostList.hosts.find((h) => h.kind === "sim");
    expect(sim, "a sim host").toBeTruthy();
    const hostPage = [`/admin/hosts/${sim!.id}`];
    await visitAll(page, "admin", [...ADMIN_PAGES, ...hostPage].map((path): Visit => [path.slice(1).replace(/\//g, "-"), path]));
    await context.close();
  });
});
