/** Quota arithmetic: what an order needs, what is left, and the refusal in numbers. */
import { describe, expect, it } from "vitest";
import { licensedCoresOf, noLimits, orderNeed, quotaLines, refusals, zero, type Amounts, type Limits } from "@/lib/policy/quota";
import { quotaLimits, quotaLimitsForm, quotaLimitsPatch } from "@/lib/policy/input";

const capped = { vcpus: 4, memoryMb: 4096, diskGb: 40, cpuCap: 2 };
const large = { vcpus: 4, memoryMb: 8192, diskGb: 40, cpuCap: null };

describe("licensed cores", () => {
  it("count the CPU cap of a licensed image, else its vCPUs, rounded up to whole cores", () => {
    expect(licensedCoresOf({ licensed: true }, capped)).toBe(2);
    expect(licensedCoresOf({ licensed: true }, large)).toBe(4);
    expect(licensedCoresOf({ licensed: true }, { vcpus: 4, cpuCap: 1.5 })).toBe(2);
    expect(licensedCoresOf({ licensed: false }, large)).toBe(0);
  });

  it("are part of what an order needs", () => {
    expect(orderNeed({ licensed: true }, capped)).toEqual({ environments: 1, vcpus: 4, memoryMb: 4096, diskGb: 40, licensedCores: 2 });
    expect(orderNeed({ licensed: false }, capped).licensedCores).toBe(0);
  });
});

describe("quota lines and refusals", () => {
  const limits: Limits = { ...noLimits, environments: 3, licensedCores: 8, memoryMb: 16384 };
  const used: Amounts = { environments: 2, vcpus: 10, memoryMb: 12288, diskGb: 100, licensedCores: 6 };

  it("show used, limit and left per resource; no limit leaves null", () => {
    const lines = quotaLines(limits, used, orderNeed({ licensed: true }, large));
    const by = Object.fromEntries(lines.map((l) => [l.resource, l]));
    expect(by.environments).toEqual({ resource: "environments", limit: 3, used: 2, left: 1, need: 1, exceeded: false });
    expect(by.vcpus).toEqual({ resource: "vcpus", limit: null, used: 10, left: null, need: 4, exceeded: false });
    expect(by.licensedCores).toMatchObject({ left: 2, need: 4, exceeded: true });
    expect(by.memoryMb).toMatchObject({ left: 4096, need: 8192, exceeded: true });
  });

  it("say what the order needs and what is left, in the group's name", () => {
    const lines = quotaLines(limits, used, orderNeed({ licensed: true }, large));
    expect(refusals(lines, "in group Physics")).toEqual([
      "needs 8 GiB memory, 4 of 16 left in group Physics",
      "needs 4 licensed cores, 2 of 8 left in group Physics",
    ]);
  });

  it("lets an order through that fits exactly, and refuses the next one", () => {
    const full = quotaLines({ ...noLimits, environments: 3 }, { ...zero, environments: 2 }, orderNeed({ licensed: false }, large));
    expect(refusals(full, "in group Physics")).toEqual([]);
    const over = quotaLines({ ...noLimits, environments: 3 }, { ...zero, environments: 3 }, orderNeed({ licensed: false }, large));
    expect(refusals(over, "in group Physics")).toEqual(["needs 1 environment, 0 of 3 left in group Physics"]);
  });

  it("never shows a negative amount left when a limit was lowered below what is used", () => {
    const lines = quotaLines({ ...noLimits, vcpus: 4 }, { ...zero, vcpus: 10 }, { ...zero, vcpus: 1 });
    expect(lines.find((l) => l.resource === "vcpus")).toMatchObject({ left: 0, exceeded: true });
  });
});

describe("limit input", () => {
  it("the forms take empty fields as no limit and refuse negative or fractional counts", () => {
    expect(quotaLimitsForm.parse({ environments: "3", vcpus: "", memoryGb: null, diskGb: 100, licensedCores: 8 })).toEqual({
      environments: 3, vcpus: null, memoryGb: null, diskGb: 100, licensedCores: 8,
    });
    const bad = quotaLimitsForm.safeParse({ environments: -1, vcpus: 1.5, memoryGb: 1, diskGb: 1, licensedCores: 1 });
    expect(bad.error?.issues.map((i) => i.path[0])).toEqual(["environments", "vcpus"]);
  });

  it("the API's PUT needs every limit, each a whole number or null, and coerces nothing", () => {
    const all = { environments: 3, vcpus: null, memoryGb: 16, diskGb: 100, licensedCores: 0 };
    expect(quotaLimits.parse(all)).toEqual(all);
    const failed = (input: unknown) => quotaLimits.safeParse(input).error?.issues.map((i) => i.path.join("."));
    expect(failed({})).toEqual(["environments", "vcpus", "memoryGb", "diskGb", "licensedCores"]);
    expect(failed({ ...all, environments: "5" })).toEqual(["environments"]);
    expect(failed({ ...all, vcpus: true })).toEqual(["vcpus"]);
    expect(failed({ ...all, diskGb: [] })).toEqual(["diskGb"]);
    expect(failed({ ...all, memoryGb: "" })).toEqual(["memoryGb"]);
    const { licensedCores: _, ...missingOne } = all;
    expect(quotaLimits.safeParse(missingOne).error?.issues[0].message).toBe("Licensed cores: give a whole number or null (no limit)");
  });

  it("the API's PATCH takes some limits, at least one, with the same rules", () => {
    expect(quotaLimitsPatch.parse({ vcpus: 8 })).toEqual({ vcpus: 8 });
    expect(quotaLimitsPatch.parse({ vcpus: null })).toEqual({ vcpus: null });
    expect(quotaLimitsPatch.safeParse({}).success).toBe(false);
    expect(quotaLimitsPatch.safeParse({ vcpus: "8" }).success).toBe(false);
    expect(quotaLimitsPatch.safeParse({ vcpus: 8, cpus: 1 }).success).toBe(false);
  });
});
