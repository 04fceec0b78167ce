import { describe, expect, it } from "vitest";
import { MAX_LEASE_DAYS, orderInput, rejectInput } from "@/lib/orders/input";
import { fieldErrors } from "@/lib/validation/fields";

const valid = { image: "linux-test", flavor: "small", name: "web-01" };

function errorsOf(input: unknown): Record<string, string[]> {
  const result = orderInput.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return fieldErrors(result.error);
}

describe("order input", () => {
  it("accepts a minimal order and trims names", () => {
    expect(orderInput.parse({ ...valid, name: "  web-01 " })).toEqual(valid);
  });

  it("accepts the optional fields and coerces a lease given as text (form fields)", () => {
    expect(orderInput.parse({ ...valid, network: "production", purpose: "database", leaseDays: "30" })).toEqual({
      ...valid, network: "production", purpose: "database", leaseDays: 30,
    });
  });

  it.each([
    ["Web-01", /lowercase letters/],
    ["1web", /start with a letter/],
    ["web-", /end with a letter or digit/],
    ["web_01", /lowercase letters, digits and hyphens/],
    ["web.example", /lowercase letters/],
    ["web 01", /lowercase letters/],
    ["ab", /at least 3 characters/],
    ["a".repeat(33), /at most 32 characters/],
  ])("refuses the host name %j with a message on the name field", (name, message) => {
    const fields = errorsOf({ ...valid, name });
    expect(Object.keys(fields)).toEqual(["name"]);
    expect(fields.name.join(" ")).toMatch(message);
  });

  it("accepts a 32-character name", () => {
    expect(orderInput.safeParse({ ...valid, name: "a".repeat(32) }).success).toBe(true);
  });

  it.each([
    [0, "Lease is at least 1 day"],
    [-3, "Lease is at least 1 day"],
    [MAX_LEASE_DAYS + 1, `Lease is at most ${MAX_LEASE_DAYS} days`],
    [1.5, "Lease is a whole number of days"],
    ["soon", "Lease is a number of days"],
  ])("refuses a lease of %j days", (leaseDays, message) => {
    expect(errorsOf({ ...valid, leaseDays })).toEqual({ leaseDays: [message] });
  });

  it("accepts leases at both ends of the range", () => {
    expect(orderInput.parse({ ...valid, leaseDays: 1 }).leaseDays).toBe(1);
    expect(orderInput.parse({ ...valid, leaseDays: MAX_LEASE_DAYS }).leaseDays).toBe(MAX_LEASE_DAYS);
  });

  it("refuses unknown fields by name instead of ignoring them", () => {
    const fields = errorsOf({ ...valid, leaseDay: 30, owner: "someone-else" });
    expect(fields).toEqual({ leaseDay: ["Unknown field"], owner: ["Unknown field"] });
  });

  it("names every missing or wrong field at once", () => {
    const fields = errorsOf({ image: "", name: "X", purpose: "gaming" });
    expect(fields.image).toEqual(["Choose an image"]);
    expect(fields.flavor).toHaveLength(1);
    expect(fields.name.length).toBeGreaterThan(0);
    expect(fields.purpose).toEqual(["Purpose is one of test, development, database, web"]);
  });

  it("a rejection needs a reason", () => {
    expect(fieldErrors(rejectInput.safeParse({ reason: " " }).error!)).toEqual({ reason: ["Say why the order is rejected"] });
    expect(rejectInput.parse({ reason: "no budget" })).toEqual({ reason: "no budget" });
  });
});
