/**
 * The command plans for a set of orders equal reviewed golden files (tests/golden/*.plan):
 * one command per line, files with their content. A change to a plan shows up here as a
 * diff to review. `UPDATE_GOLDEN=1 npx vitest run tests/unit/plans-golden.test.ts` rewrites
 * them; a normal run never writes, and a missing golden file fails.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentPlan } from "@/lib/drivers/plan/deployment";
import { renderPlan } from "@/lib/drivers/plan/render";
import { goldenOrders } from "../fixtures/plan-orders";

const dir = path.resolve(import.meta.dirname, "../golden");
const update = process.env.UPDATE_GOLDEN === "1";

describe("golden command plans", () => {
  for (const [name, spec] of Object.entries(goldenOrders)) {
    it(`${name}: the plan equals tests/golden/${name}.plan`, () => {
      const text = renderPlan(deploymentPlan(spec)!);
      const file = path.join(dir, `${name}.plan`);
      if (update) writeFileSync(file, text);
      expect(existsSync(file), `${file} is missing: review the plan and write it with UPDATE_GOLDEN=1`).toBe(true);
      expect(text).toBe(readFileSync(file, "utf8"));
    });
  }

  it("says in every plan that it was not run on a real Xen or Solaris host", () => {
    for (const spec of Object.values(goldenOrders)) expect(renderPlan(deploymentPlan(spec)!)).toContain("Not run on a real Xen or Solaris host");
  });

  it("never shows the root password hash", () => {
    const text = renderPlan(deploymentPlan(goldenOrders["zone-capped"])!);
    expect(text).toContain("root_password=<crypt(3) hash, not shown>");
    expect(text).not.toContain("portalsalt");
  });
});
