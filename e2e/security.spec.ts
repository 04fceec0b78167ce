import { expect, request as playwrightRequest, test, type APIRequestContext, type Page, type Response } from "@playwright/test";
import { orderViaApi } from "./helpers";
import { BASE_URL, PASSWORD, authFile, uniqueName, users, type RoleName } from "./users";

/**
 * Security headers and the Content-Security-Policy in force: every page, for every role whose
 * pages differ (a teacher is an approver of a course), loads without a single CSP violation,
 * with its scripts running (so the nonce reached them).
 */

const sameOrigin = { Origin: BASE_URL };
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

function apiAs(role: RoleName): Promise<APIRequestContext> {
  return playwrightRequest.newContext({ baseURL: BASE_URL, storageState: authFile(role) });
}

/** What a response must carry, page or API, success or error. */
function expectSecurityHeaders(res: Response | { headers(): Record<string, string> }, what: string) {
  const h = res.headers();
  expect(h["content-security-policy"], what).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(h["content-security-policy"], what).toContain("frame-ancestors 'none'");
  expect(h["content-security-policy"], what).not.toContain("unsafe-eval");
  expect(h["x-frame-options"], what).toBe("DENY");
  expect(h["x-content-type-options"], what).toBe("nosniff");
  expect(h["referrer-policy"], what).toBe("strict-origin-when-cross-origin");
  expect(h["permissions-policy"], what).toContain("camera=()");
  // The e2e portal is served over http: no HSTS.
  expect(h["strict-transport-security"], what).toBeUndefined();
}

/** Collects CSP violations a page reports, from the console and from securitypolicyviolation events. */
async function watchCsp(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(msg.text())) violations.push(`console: ${msg.text()}`);
  });
  await page.exposeFunction("__reportCspViolation", (text: string) => violations.push(`event: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCspViolation: (t: string) => void }).__reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return violations;
}

let orderId = "";
let courseId = "";
let invitePath = "";

test.beforeAll(async () => {
  const customer = await apiAs("customer");
  orderId = (await orderViaApi(customer, { image: "linux-test", flavor: "small", name: uniqueName("csp") })).id;
  await customer.dispose();

  // A course taught by the approver, with the student on its roster and one invitee.
  const teacher = await apiAs("approver");
  const slug = `csp${Date.now().toString(36).slice(-6)}`;
  const created = await teacher.post("/api/v1/courses", {
    data: { name: `CSP course ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: day(0), endsOn: day(7), capacity: 1 },
    headers: sameOrigin,
  });
  expect(created.status(), await created.text()).toBe(201);
  courseId = ((await created.json()) as { id: string }).id;
  const roster = await teacher.post(`/api/v1/courses/${courseId}/roster`, {
    data: `email,name\n${users.student.email},Sam Student\n${slug}-new@uni.test,Nia New\n`,
    headers: { ...sameOrigin, "Content-Type": "text/csv" },
  });
  expect(roster.status(), await roster.text()).toBe(200);
  const { invitations } = (await roster.json()) as { invitations: { link: string }[] };
  invitePath = new URL(invitations[0].link).pathname;
  await teacher.dispose();
});

const pagesOfEveryone = () => [
  "/",
  "/catalog",
  "/orders",
  "/orders/new",
  `/orders/${orderId}`,
  "/approvals",
  "/courses",
  `/courses/${courseId}`,
  "/notifications",
  "/account",
  "/admin",
  "/admin/users",
  "/admin/networks",
  "/admin/images",
  "/admin/campaigns",
  "/admin/dashboard",
  "/admin/hosts",
  "/admin/groups",
  "/admin/policies",
  "/admin/audit",
  "/admin/sign-in",
  "/login",
  "/no-such-page",
];

async function visitAll(page: Page, paths: string[], violations: string[]) {
  for (const path of paths) {
    const res = await page.goto(path);
    expect(res, path).not.toBeNull();
    expectSecurityHeaders(res!, path);
    // The page's scripts ran: Next.js's bootstrap script carries the nonce and loads the rest.
    await page.waitForFunction(() => Boolean((window as unknown as { next?: { version?: string } }).next?.version), undefined, { timeout: 10_000 });
    await page.waitForLoadState("load");
    expect(violations, `CSP violations on ${path}`).toEqual([]);
  }
}

for (const role of ["admin", "approver", "customer", "student"] as const) {
  test.describe(`as ${role}`, () => {
    test.use({ storageState: authFile(role) });
    test(`every page loads with the CSP in force and no violation`, async ({ page }) => {
      await visitAll(page, pagesOfEveryone(), await watchCsp(page));
    });
  });
}

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });
  test("the sign-in page, an invitation and an invalid one load with no violation; signing in works under the CSP", async ({ page }) => {
    const violations = await watchCsp(page);
    await visitAll(page, ["/login", invitePath, "/invite/this-link-is-not-a-valid-invitation", "/orders"], violations);
    await page.goto("/login");
    await page.getByLabel("E-mail").fill(users.customer.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("nav-user-email")).toHaveText(users.customer.email);
    expect(violations).toEqual([]);
  });
});

test("the headers are on API answers too: data, errors, sign-in routes and static files", async ({ page }) => {
  const admin = await apiAs("admin");
  const anonymous = await playwrightRequest.newContext({ baseURL: BASE_URL });
  const checks: [string, Promise<{ status(): number; headers(): Record<string, string> }>, number][] = [
    ["GET /api/v1/orders", admin.get("/api/v1/orders"), 200],
    ["GET /api/v1/orders/<missing>", admin.get("/api/v1/orders/00000000-0000-4000-8000-000000000000"), 404],
    ["POST /api/v1/groups (invalid)", admin.post("/api/v1/groups", { data: { name: "" }, headers: sameOrigin }), 422],
    ["GET /api/v1/orders (signed out)", anonymous.get("/api/v1/orders"), 401],
    ["GET /api/auth/session", anonymous.get("/api/auth/session"), 200],
    ["GET /api/auth/csrf", anonymous.get("/api/auth/csrf"), 200],
    ["GET /api/health", anonymous.get("/api/health"), 200],
    ["GET /api/v1/openapi.json", anonymous.get("/api/v1/openapi.json"), 200],
  ];
  for (const [what, pending, status] of checks) {
    const res = await pending;
    expect(res.status(), what).toBe(status);
    expectSecurityHeaders(res, what);
  }
  // A stylesheet or script of the build is no exception.
  await page.goto("/login");
  const asset = await page.locator('link[rel="stylesheet"]').first().getAttribute("href");
  expect(asset).toMatch(/^\/_next\/static\//);
  expectSecurityHeaders(await anonymous.get(asset!), asset!);
  // Each response has its own nonce.
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) nonces.add(/'nonce-([^']+)'/.exec((await anonymous.get("/login")).headers()["content-security-policy"])![1]);
  expect(nonces.size).toBe(3);
  await admin.dispose();
  await anonymous.dispose();
});

test("one address trying a password on many accounts is stopped, with a message that says why", async ({ page }) => {
  // The e2e server trusts itself as a proxy (TRUSTED_PROXIES=127.0.0.1), so X-Forwarded-For
  // names the client: this test comes from an address of its own and locks out nobody else.
  const address = `203.0.113.${10 + (Date.now() % 200)}`;
  const attacker = await playwrightRequest.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { "X-Forwarded-For": address } });
  const { csrfToken } = (await (await attacker.get("/api/auth/csrf")).json()) as { csrfToken: string };
  // The e2e server allows 12 failed sign-ins per address (LOGIN_MAX_ATTEMPTS_PER_ADDRESS).
  for (let i = 0; i < 12; i++) {
    const res = await attacker.post("/api/auth/callback/credentials", { form: { csrfToken, email: `sprayed-${i}@e2e.test`, password: "Winter2026!", json: "true" } });
    expect(res.status()).toBeLessThan(500);
  }
  await attacker.dispose();

  await page.setExtraHTTPHeaders({ "X-Forwarded-For": address });
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(users.customer.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Too many failed sign-ins from your network address; try again in 15 minutes");
  await page.screenshot({ path: "test-results/login-address-limited.png" });

  // The account itself is not locked: from another address the right password works.
  await page.setExtraHTTPHeaders({ "X-Forwarded-For": "198.51.100.23" });
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("nav-user-email")).toHaveText(users.customer.email);

  // The admin finds the refusal in the audit log, with the address it came from.
  const admin = await apiAs("admin");
  const audit = (await (await admin.get(`/api/v1/audit?action=auth.sign_in_blocked&perPage=5`)).json()) as { events: { sourceIp: string | null; data: unknown }[] };
  expect(audit.events[0]).toMatchObject({ sourceIp: address, data: { method: "local", account: users.customer.email, limit: "address" } });
  await admin.dispose();
});
