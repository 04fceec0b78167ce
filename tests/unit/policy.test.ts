import { describe, expect, it } from "vitest";
import { defaultDecision } from "@/lib/policy/rules";
import { choose, inPool, type Candidate } from "@/lib/policy/placement";
import { StepError } from "@/lib/drivers/types";

describe("default approval policy (no rule matches)", () => {
  const held = { id: "g1", name: "Physics-Lab", autoApprove: false };
  const auto = { id: "g2", name: "Ops", autoApprove: true };

  it("trusts admins and approvers, whatever their group", () => {
    for (const role of ["admin", "approver"] as const) {
      const d = defaultDecision({ role, group: held });
      expect(d).toMatchObject({ outcome: "approve", ruleKey: "default:trusted-role" });
      expect(d.explanation).toContain(`${role}s need no approval`);
    }
  });

  it("lets customers and students through in an auto-approving group, naming the group", () => {
    for (const role of ["customer", "student"] as const) {
      expect(defaultDecision({ role, group: auto })).toMatchObject({
        outcome: "approve",
        ruleKey: "default:group-auto-approve",
        explanation: "auto-approved: group Ops approves orders automatically",
      });
    }
  });

  it("holds customers and students elsewhere, saying why", () => {
    expect(defaultDecision({ role: "student", group: held })).toMatchObject({
      outcome: "hold",
      ruleKey: "default:group-requires-approval",
      explanation: "held for approval: group Physics-Lab requires an approver for student orders",
    });
    expect(defaultDecision({ role: "customer", group: held }).outcome).toBe("hold");
  });
});

describe("placement", () => {
  const host = (name: string, freeMemoryMb: number, freeVcpus = 64, freeDiskGb = 2000): Candidate => ({ id: `id-${name}`, name, freeMemoryMb, freeVcpus, freeDiskGb });
  const small = { vcpus: 1, memoryMb: 1024, diskGb: 10 };

  it("picks the host with the most free memory and says why", () => {
    const p = choose([host("sim-1", 8192), host("sim-2", 65536), host("sim-3", 30000)], small);
    expect(p.hostId).toBe("id-sim-2");
    expect(p.reason).toBe("sim-2: most free memory (65536 MiB free, 64 vCPUs, 2000 GiB) among 3 of 3 hosts that fit");
  });

  it("skips hosts short of CPU or disk even when they have the most memory", () => {
    const p = choose([host("big-but-busy", 60000, 0), host("no-disk", 50000, 64, 5), host("fits", 4096)], small);
    expect(p.hostId).toBe("id-fits");
    expect(p.reason).toContain("among 1 of 3 hosts that fit");
  });

  it("breaks ties by host name, so the choice is stable", () => {
    expect(choose([host("sim-b", 4096), host("sim-a", 4096)], small).hostId).toBe("id-sim-a");
  });

  it("takes a host that fits exactly", () => {
    expect(choose([host("exact", 1024, 1, 10)], small).hostId).toBe("id-exact");
  });

  it("fails with a message naming the need and the best host when nothing fits", () => {
    const attempt = () => choose([host("sim-1", 512, 64, 100), host("sim-2", 900, 2, 50)], { vcpus: 4, memoryMb: 8192, diskGb: 40 });
    expect(attempt).toThrow(StepError);
    expect(attempt).toThrow("No host has room for 4 vCPUs, 8192 MiB and 40 GiB (most free: sim-2 with 900 MiB, 2 vCPUs, 50 GiB)");
  });

  it("fails clearly with no candidates at all", () => {
    expect(() => choose([], small)).toThrow("No host has room for 1 vCPUs, 1024 MiB and 10 GiB");
  });

  it("keeps a group with its own hosts on those hosts: listed by id or carrying one of its tags", () => {
    const batch = { name: "group Batch", hostIds: ["h1"], hostTags: ["batch"] };
    expect(inPool(batch, { id: "h1", tags: [] })).toBe(true);
    expect(inPool(batch, { id: "h2", tags: ["batch"] })).toBe(true);
    expect(inPool(batch, { id: "h3", tags: [] })).toBe(false);
    expect(inPool(null, { id: "h3", tags: [] })).toBe(true);
    expect(inPool({ name: "group Open", hostIds: [], hostTags: [] }, { id: "h3", tags: [] })).toBe(true);
  });
});
