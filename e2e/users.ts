import path from "node:path";

/** Where e2e/server.mjs serves the portal. */
export const BASE_URL = `http://127.0.0.1:${Number(process.env.E2E_PORT || 3210)}`;

/** The accounts the tests use; global-setup creates them through the API as the admin. */
export const ADMIN = { email: "admin@portal.local", password: "e2e-admin-password-1", name: "Administrator", role: "admin" } as const;

export const PASSWORD = "e2e-password-123";

export const users = {
  customer: { email: "customer@e2e.test", name: "Casey Customer", role: "customer", group: "default" },
  approver: { email: "approver@e2e.test", name: "Avery Approver", role: "approver", group: "default" },
  student: { email: "student@e2e.test", name: "Sam Student", role: "student", group: "default" },
  // Used by the sign-in tests only: signing out ends every session of the user.
  signout: { email: "signout@e2e.test", name: "Sid Signout", role: "customer", group: "default" },
} as const;

export type RoleName = keyof typeof users | "admin";

const authDir = path.join(process.cwd(), "test-results", "e2e-auth");

/** Storage state (session cookie) of a signed-in role. */
export function authFile(role: RoleName): string {
  return path.join(authDir, `${role}.json`);
}

/** E2E_QEMU=1 (e2e/server.mjs): the catalog also holds the QEMU images (three Linux, one web service, one PostgreSQL database). */
export const QEMU_E2E = process.env.E2E_QEMU === "1";
export const qemuImageCount = QEMU_E2E ? 5 : 0;

/** A hostname no other order of this run uses. */
let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}${counter}`.slice(0, 32);
}
