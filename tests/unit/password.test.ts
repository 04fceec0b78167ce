import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "@/lib/auth/password";

describe("password hashing (scrypt)", () => {
  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("stores parameters and a salt, never the password, and salts every hash", async () => {
    const a = await hashPassword("s3cret-password");
    const b = await hashPassword("s3cret-password");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain("s3cret");
    expect(a).not.toBe(b);
    expect(await verifyPassword("s3cret-password", b)).toBe(true);
  });

  it("refuses malformed or foreign hashes instead of throwing", async () => {
    expect(await verifyPassword("x", "")).toBe(false);
    expect(await verifyPassword("x", "bcrypt$2b$10$abc")).toBe(false);
    expect(await verifyPassword("x", "scrypt$16384$8$1$")).toBe(false);
  });

  it("a tampered hash no longer verifies", async () => {
    const stored = await hashPassword("password-1");
    const parts = stored.split("$");
    const hash = Buffer.from(parts[5], "base64url");
    hash[0] ^= 1;
    parts[5] = hash.toString("base64url");
    expect(await verifyPassword("password-1", parts.join("$"))).toBe(false);
  });

  it("generates readable 20-character first-admin passwords that differ", () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(generatePassword()).not.toBe(a);
  });
});
