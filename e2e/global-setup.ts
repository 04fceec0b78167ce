import { mkdirSync } from "node:fs";
import path from "node:path";
import { request, type APIRequestContext, type FullConfig } from "@playwright/test";
import { ADMIN, PASSWORD, authFile, users, type RoleName } from "./users";

/** Scripted sign-in: csrf token, then the credentials callback; the context keeps the cookie. */
async function signIn(baseURL: string, email: string, password: string): Promise<APIRequestContext> {
  const ctx = await request.newContext({ baseURL });
  const { csrfToken } = (await (await ctx.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const res = await ctx.post("/api/auth/callback/credentials", { form: { csrfToken, email, password, json: "true" } });
  if (!res.ok()) throw new Error(`sign-in of ${email} answered HTTP ${res.status()}`);
  const session = (await (await ctx.get("/api/auth/session")).json()) as { uid?: string };
  if (!session.uid) throw new Error(`sign-in of ${email} did not give a session`);
  return ctx;
}

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0].use.baseURL;
  if (!baseURL) throw new Error("playwright.config.ts sets no baseURL");
  mkdirSync(path.dirname(authFile("admin")), { recursive: true });

  const admin = await signIn(baseURL, ADMIN.email, ADMIN.password);
  await admin.storageState({ path: authFile("admin") });
  for (const u of Object.values(users)) {
    const res = await admin.post("/api/v1/users", {
      data: { email: u.email, name: u.name, role: u.role, group: u.group, password: PASSWORD },
      headers: { Origin: baseURL },
    });
    if (res.status() !== 201 && res.status() !== 409) throw new Error(`creating ${u.email}: HTTP ${res.status()} ${await res.text()}`);
  }
  if (process.env.E2E_QEMU === "1") {
    // e2e/server.mjs registered the QEMU Linux image; without it e2e/qemu.spec.ts cannot order one.
    const catalog = (await (await admin.get("/api/v1/catalog?kind=qemu")).json()) as { images: { slug: string }[] };
    if (!catalog.images.some((i) => i.slug === "linux-qemu")) throw new Error("E2E_QEMU=1 but the portal has no linux-qemu image; see test-results/e2e-server.log");
  }
  await admin.dispose();

  for (const role of ["customer", "approver", "student"] as RoleName[]) {
    const ctx = await signIn(baseURL, users[role as keyof typeof users].email, PASSWORD);
    await ctx.storageState({ path: authFile(role) });
    await ctx.dispose();
  }
}
