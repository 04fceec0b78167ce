/**
 * Signing in with the organisation's accounts, in the browser, against real servers: an
 * OpenID provider (the `oidc-provider` package, tests/helpers/oidc-provider.ts) on port 3371,
 * OpenLDAP's slapd (tests/helpers/slapd.ts) on 3373/3374, and a second portal configured for
 * both on 3372 (e2e/portal-instance.ts: the shared e2e portal has neither configured).
 */
import { readFileSync } from "node:fs";
import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";
import { startOidcProvider, type RunningOidcProvider } from "../tests/helpers/oidc-provider";
import { startSlapd, type RunningSlapd } from "../tests/helpers/slapd";
import { LAB_GROUPS, LAB_PEOPLE, LAB_SERVICE, LAB_SUFFIX, labDirectoryLdif, labGroupDn, labPeople } from "../tests/fixtures/lab-directory";
import { cliUser } from "../tests/helpers/cli";
import { startPortalInstance, type PortalInstance } from "./portal-instance";

const IDP_PORT = 3371;
const PORTAL_PORT = 3372;
const PORTAL = `http://127.0.0.1:${PORTAL_PORT}`;
const SSO_NAME = "Lab SSO";

const idpUsers = [
  { username: "ada", password: "ada-idp-password", email: "ada@lab.example", name: "Ada Lovelace", groups: ["physics"] },
  { username: "grace", password: "grace-idp-password", email: "grace@lab.example", name: "Grace Hopper", groups: ["marketing"] },
];

let idp: RunningOidcProvider;
let slapd: RunningSlapd;
let portal: PortalInstance;
let admin: APIRequestContext;

test.describe.configure({ mode: "serial", timeout: 120_000 });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  idp = await startOidcProvider({ port: IDP_PORT, portal: PORTAL, users: idpUsers });
  slapd = await startSlapd({ port: 3373, ldapsPort: 3374, suffix: LAB_SUFFIX, ldif: labDirectoryLdif() });
  portal = await startPortalInstance(PORTAL_PORT, {
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_NAME: SSO_NAME,
    OIDC_SCOPES: "openid email profile groups",
    LDAP_URL: slapd.url,
    LDAP_STARTTLS: "1",
    LDAP_TLS_CA_FILE: slapd.caFile,
    LDAP_BIND_DN: LAB_SERVICE.dn,
    LDAP_BIND_PASSWORD: LAB_SERVICE.password,
    LDAP_USER_BASE: LAB_PEOPLE,
    LDAP_GROUP_BASE: LAB_GROUPS,
    LDAP_NAME: "Lab account",
  });
  // The local admin sets the portal up: a Physics group, and what the groups give.
  admin = await request.newContext({ baseURL: PORTAL, extraHTTPHeaders: { Origin: PORTAL } });
  const { csrfToken } = (await (await admin.get("/api/auth/csrf")).json()) as { csrfToken: string };
  expect((await admin.post("/api/auth/callback/credentials", { form: { csrfToken, email: portal.admin.email, password: portal.admin.password, json: "true" } })).ok()).toBeTruthy();
  expect((await admin.post("/api/v1/groups", { data: { slug: "physics", name: "Physics" } })).status()).toBe(201);
  for (const rule of [
    { match: "physics", role: "customer", group: "physics" },
    { match: "lab-admins", role: "admin" },
    { match: labGroupDn("physics"), role: "customer", group: "physics" },
  ]) {
    const res = await admin.post("/api/v1/sign-in/rules", { data: rule });
    expect(res.status(), await res.text()).toBe(201);
  }
});

test.afterAll(async () => {
  await admin?.dispose();
  await portal?.stop();
  await slapd?.stop();
  await idp?.stop();
});

/** Through the identity provider's own sign-in page; the IdP answers on its own address. */
async function signInAtIdp(page: Page, username: string, password: string) {
  await expect(page).toHaveURL(new RegExp(`^${idp.issuer}/interaction/`));
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in to the identity provider" }).click();
}

async function signOutEverywhere(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  // The identity provider's end-session page, then back to the portal's sign-in page.
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page).toHaveURL(`${PORTAL}/login`);
}

async function lastAudit(action: string) {
  const res = await admin.get(`/api/v1/audit?action=${action}&perPage=1`);
  expect(res.ok()).toBeTruthy();
  return ((await res.json()) as { events: { data: Record<string, unknown> }[] }).events[0];
}

test("the sign-in page offers single sign-on, the directory and local accounts", async ({ page }) => {
  await page.goto(`${PORTAL}/login`);
  await expect(page.getByRole("button", { name: `Sign in with ${SSO_NAME}` })).toBeVisible();
  await expect(page.getByRole("tab", { name: "Lab account" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tab", { name: "Local account" })).toBeVisible();
  await expect(page.getByLabel("User name or e-mail")).toBeVisible();
  await page.screenshot({ path: "test-results/sso-login.png" });
  await page.setViewportSize({ width: 360, height: 780 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
});

test("single sign-on: a wrong password is refused at the identity provider; the user is created with their groups' role and group; sign-out ends both sessions", async ({ page }) => {
  await page.goto(`${PORTAL}/orders`);
  await expect(page).toHaveURL(/\/login\?next=%2Forders$/);
  await page.getByRole("button", { name: `Sign in with ${SSO_NAME}` }).click();
  await signInAtIdp(page, "nobody", "whatever-password");
  await expect(page.getByRole("alert")).toHaveText("Unknown user");
  await signInAtIdp(page, "ada", "not-her-password");
  await expect(page.getByRole("alert")).toHaveText("Wrong password");
  await signInAtIdp(page, "ada", "ada-idp-password");

  await expect(page).toHaveURL(`${PORTAL}/orders`);
  await expect(page.getByTestId("nav-user-email")).toHaveText("ada@lab.example");
  const me = await (await page.request.get(`${PORTAL}/api/v1/me`)).json();
  expect(me).toMatchObject({ name: "Ada Lovelace", role: "customer", authSource: "oidc", groups: [{ slug: "physics", as: "customer" }] });
  expect((await lastAudit("auth.sign_in")).data).toMatchObject({ method: "oidc", email: "ada@lab.example", created: true });

  await signOutEverywhere(page);
  expect(await (await page.request.get(`${PORTAL}/api/auth/session`)).json()).toEqual({});
  // The identity provider's session ended too: it asks for the password again.
  await page.getByRole("button", { name: `Sign in with ${SSO_NAME}` }).click();
  await expect(page.getByRole("button", { name: "Sign in to the identity provider" })).toBeVisible();
});

test("a user whose groups map to nothing is signed in with no access and told so; a group change counts at the next sign-in", async ({ page }) => {
  await page.goto(`${PORTAL}/login`);
  await page.getByRole("button", { name: `Sign in with ${SSO_NAME}` }).click();
  await signInAtIdp(page, "grace", "grace-idp-password");
  await expect(page.getByTestId("no-access")).toContainText("You are signed in as grace@lab.example, but none of your groups gives access");
  await expect(page.getByTestId("no-access-groups")).toHaveText("marketing");
  await page.screenshot({ path: "test-results/sso-no-access.png" });
  // Nothing opens: pages send her back here, the API does not know her.
  await page.goto(`${PORTAL}/catalog`);
  await expect(page).toHaveURL(/\/login\?next=%2Fcatalog$/);
  await expect(page.getByTestId("no-access")).toBeVisible();
  expect((await page.request.get(`${PORTAL}/api/v1/orders`)).status()).toBe(401);
  expect((await lastAudit("auth.sign_in")).data).toMatchObject({ method: "oidc", email: "grace@lab.example", noAccess: true });

  await signOutEverywhere(page);
  idp.users.get("grace")!.groups = ["marketing", "lab-admins"];
  await page.getByRole("button", { name: `Sign in with ${SSO_NAME}` }).click();
  await signInAtIdp(page, "grace", "grace-idp-password");
  await expect(page).toHaveURL(`${PORTAL}/catalog`);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toBeVisible();
});

test("directory accounts sign in through the form; a wrong password and an unknown user say so", async ({ page }) => {
  await page.goto(`${PORTAL}/login`);
  await page.getByLabel("User name or e-mail").fill("bob");
  await page.getByLabel("Password").fill("not-his-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Wrong user name or password");
  await page.getByLabel("User name or e-mail").fill("zoe");
  await page.getByLabel("Password").fill("any-password-at-all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("login-error")).toHaveText("Wrong user name or password");
  expect((await lastAudit("auth.sign_in_failed")).data).toEqual({ method: "ldap", account: "zoe", reason: "unknown user" });

  await page.getByLabel("User name or e-mail").fill("bob");
  await page.getByLabel("Password").fill(labPeople.bob.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(`${PORTAL}/catalog`);
  await expect(page.getByTestId("nav-user-email")).toHaveText("bob@lab.example");
  expect(await (await page.request.get(`${PORTAL}/api/v1/me`)).json()).toMatchObject({ role: "customer", authSource: "ldap", groups: [{ slug: "physics" }] });
  // A directory user's sign-out has no identity provider to visit.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${PORTAL}/login`);
});

test("local sign-in for admins only: a local customer is told to use the organisation's account, the local admin still signs in", async ({ page }) => {
  const customer = { email: "local-customer@e2e.test", password: "local-customer-password" };
  expect((await admin.post("/api/v1/users", { data: { ...customer, name: "Local Customer", role: "customer", group: "physics" } })).status()).toBe(201);
  expect((await admin.put("/api/v1/sign-in/settings", { data: { localAdminsOnly: true } })).status()).toBe(200);
  try {
    await page.goto(`${PORTAL}/login`);
    await page.getByRole("tab", { name: "Administrator" }).click();
    await page.getByLabel("E-mail").fill(customer.email);
    await page.getByLabel("Password").fill(customer.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByTestId("login-error")).toHaveText("Local accounts are for administrators only here: sign in with your organisation's account");

    await page.getByLabel("E-mail").fill(portal.admin.email);
    await page.getByLabel("Password").fill(portal.admin.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(`${PORTAL}/catalog`);
    await page.goto(`${PORTAL}/admin/sign-in`);
    await expect(page.getByTestId("method-local")).toContainText("Administrators only");
    await expect(page.getByTestId("method-oidc")).toContainText(`Single sign-on: ${SSO_NAME}`);
    await expect(page.getByTestId("method-ldap")).toContainText(slapd.url);
    await expect(page.getByTestId("sign-in-rule")).toHaveCount(3);
  } finally {
    expect((await admin.put("/api/v1/sign-in/settings", { data: { localAdminsOnly: false } })).status()).toBe(200);
  }
});

test("the command-line client signs in with a directory account's password, and logout revokes the token it made", async () => {
  const cli = cliUser();
  try {
    const wrong = await cli.portal(["login", "--url", PORTAL, "--email", "bob", "--directory", "--password-stdin"], "not-his-password\n");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("sign-in of bob failed: wrong user name, e-mail or password");

    const login = await cli.portal(["login", "--url", PORTAL, "--email", "bob", "--directory", "--password-stdin"], `${labPeople.bob.password}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Signed in to ${PORTAL} as bob@lab.example (customer)`);
    expect(await cli.json(["whoami"])).toMatchObject({ email: "bob@lab.example", authSource: "ldap", groups: [{ slug: "physics" }] });
    const { token } = JSON.parse(readFileSync(cli.configFile, "utf8")) as { token: string };
    const me = () => fetch(`${PORTAL}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await me()).toBe(200);

    expect((await cli.portal(["logout"])).stdout).toBe(`Signed out of ${PORTAL}\n`);
    expect(await me()).toBe(401);
  } finally {
    cli.remove();
  }
});
