import { describe, expect, it } from "vitest";
import { decide } from "@/lib/policy/approval";
import { choose, type Candidate } from "@/lib/policy/placement";
import { StepError } from "@/lib/drivers/types";

describe("approval policy", () => {
  const held = { name: "Physics-Lab", autoApprove: false };
  const auto = { name: "Ops", autoApprove: true };

  it("trusts admins and approvers, whatever their group", () => {
    for (const role of ["admin", "approver"] as const) {
      const d = decide({ role, group: held });
      expect(d).toMatchObject({ outcome: "approve", rule: "trusted-role" });
      expect(d.reason).toContain(`${role}s need no approval`);
    }
  });

  it("lets customers and students through in an auto-approving group, naming the group", () => {
    for (const role of ["customer", "student"] as const) {
      expect(decide({ role, group: auto })).toEqual({
        outcome: "approve",
        rule: "group-auto-approve",
        reason: "auto-approved: group Ops approves orders automatically",
      });
    }
  });

  it("holds customers and students elsewhere, saying why", () => {
    expect(decide({ role: "student", group: held })).toEqual({
      outcome: "hold",
      rule: "group-requires-approval",
      reason: "held for approval: group Physics-Lab requires an approver for student orders",
    });
    expect(decide({ role: "customer", group: held }).outcome).toBe("hold");
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
});
