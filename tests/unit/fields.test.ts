import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fieldErrors, numeric, storable, unstorablePaths } from "@/lib/validation/fields";
import { orderInput } from "@/lib/orders/input";
import { ruleInput } from "@/lib/policy/input";

describe("field messages", () => {
  const schema = z.strictObject({ name: z.string(), nested: z.strictObject({ a: z.number() }).optional() });

  it("reports unknown fields named like built-in object members as Unknown field", () => {
    const input = JSON.parse('{"name":"x","constructor":1,"toString":"x","hasOwnProperty":null,"__proto__":{"a":1},"valueOf":[],"nested":{"a":1,"isPrototypeOf":2}}');
    const errors = fieldErrors(schema.safeParse(input).error!);
    expect(Object.keys(errors).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "nested.isPrototypeOf", "toString", "valueOf"]);
    for (const messages of Object.values(errors)) expect(messages).toEqual(["Unknown field"]);
    // The answer is plain JSON: `__proto__` is an own key, nothing leaked onto prototypes.
    expect(JSON.parse(JSON.stringify(errors)).__proto__).toEqual(["Unknown field"]);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });

  it("gathers several messages per field and puts form-wide ones under _", () => {
    const field = z.strictObject({ n: z.string().min(3, "short").regex(/^\d+$/, "digits") });
    expect(fieldErrors(field.safeParse({ n: "ab" }).error!)).toEqual({ n: ["short", "digits"] });
    const form = z.strictObject({ n: z.string() }).refine(() => false, "whole form");
    expect(fieldErrors(form.safeParse({ n: "123" }).error!)).toEqual({ _: ["whole form"] });
  });
});

describe("strings the database cannot store", () => {
  it("are those with a NUL or an unpaired surrogate; paired surrogates (emoji) are fine", () => {
    for (const ok of ["", "plain", "名前", "😀", "a\ud83d\ude00b", "\ufffd", "\u0001"]) expect(storable(ok), JSON.stringify(ok)).toBe(true);
    for (const bad of ["\u0000", "a\u0000b", "\ud800", "x\udfff", "\ude00\ud83d", "😀\ud800"]) expect(storable(bad), JSON.stringify(bad)).toBe(false);
  });

  it("are found anywhere in a value, keys too, with the path of the field", () => {
    const value = { name: "ok", tags: ["a", "b\u0000"], conditions: { groups: ["\ud800"] }, ["k\u0000"]: 1, n: 5 };
    expect(unstorablePaths(value).sort()).toEqual(["conditions.groups.0", "k\u0000", "tags.1"]);
    expect(unstorablePaths("\u0000", ["q"])).toEqual(["q"]);
    expect(unstorablePaths({ fine: ["x", { y: "😀" }] })).toEqual([]);
  });

  it("walks a deeply nested value without overflowing the stack, in linear time", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const started = performance.now();
    expect(unstorablePaths(deep)).toEqual([Array(100_000).fill(0).join(".")]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("numbers in bodies and forms", () => {
  const lease = (leaseDays: unknown) => orderInput.safeParse({ image: "linux-test", flavor: "small", name: "web01", leaseDays });

  it("takes a JSON number or a form's digits", () => {
    expect(lease(7).data?.leaseDays).toBe(7);
    expect(lease(" 14 ").data?.leaseDays).toBe(14);
  });

  it("refuses true, [], null and an empty string with the field's message instead of turning them into 1 or 0", () => {
    for (const bad of [true, [], null, "", "7 days", {}]) {
      const errors = fieldErrors(lease(bad).error!);
      expect(errors.leaseDays, JSON.stringify(bad)).toEqual(["Lease is a number of days"]);
    }
    expect(fieldErrors(lease(2.5).error!).leaseDays).toEqual(["Lease is a whole number of days"]);
  });

  it("applies to every numeric body field: quotas' rule conditions, rule position, course capacity, image size, failure injection", () => {
    expect(ruleInput.safeParse({ name: "r", outcome: "hold", conditions: { vcpusOver: true } }).success).toBe(false);
    expect(ruleInput.safeParse({ name: "r", outcome: "hold", conditions: { vcpusOver: "4" } }).data?.conditions.vcpusOver).toBe(4);
    expect(ruleInput.safeParse({ name: "r", outcome: "hold", conditions: {}, position: [] }).success).toBe(false);
    expect(numeric(z.number().int()).safeParse(false).success).toBe(false);
  });
});
