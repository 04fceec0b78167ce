import { describe, expect, it } from "vitest";
import { lockKeys } from "@/lib/db/locks";

describe("advisory lock registry", () => {
  it("gives every use its own key, so two kinds of check never wait for each other by accident", () => {
    const values = Object.values(lockKeys);
    const seen = new Map<number, string>();
    for (const [name, key] of Object.entries(lockKeys)) {
      expect(seen.get(key), `${name} shares key ${key} with ${seen.get(key)}`).toBeUndefined();
      seen.set(key, name);
    }
    expect(seen.size).toBe(values.length);
  });
});
