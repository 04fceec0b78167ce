/** The order page offers an admin a move only when one can be asked for, and says why not otherwise. */
import { describe, expect, it } from "vitest";
import { moveChoice, type MoveOptions, type MoveTarget } from "@/components/orders/move-choice";

const host = (name: string, kind: string, features: string[], free = { freeMemoryMb: 8192, freeVcpus: 8 }): MoveTarget => ({ id: name, name, kind, features, ...free });
const live = ["vms", "live-migration"];
const options = (targets: MoveTarget[], support: MoveOptions["support"] = { qemu: { live: true } }, extra: Record<string, string[]> = {}): MoveOptions => ({
  features: { ...Object.fromEntries(targets.map((t) => [t.name, t.features])), ...extra },
  targets,
  support,
});
const small = { vcpus: 1, memoryMb: 1024 };
const running = { host: "qemu-1", hostKind: "qemu", state: "running" };

describe("moveChoice", () => {
  it("offers the other active hosts of the kind that migrate live and have room", () => {
    const choice = moveChoice(running, small, options([host("qemu-1", "qemu", live), host("qemu-2", "qemu", live), host("sim-1", "sim", live)]));
    expect(choice).toEqual({ mode: "live", targets: [host("qemu-2", "qemu", live)], note: null });
  });

  it("says why not: the kind's driver cannot move guests", () => {
    const why = "Live migration of environments on sim hosts is not available in this version of the portal.";
    const choice = moveChoice({ host: "sim-1", hostKind: "sim", state: "running" }, small, options([host("sim-1", "sim", live), host("sim-2", "sim", live)], { sim: { live: false, why } }));
    expect(choice).toEqual({ mode: null, why });
  });

  it("says why not: the environment's host does not list live migration among its features (QEMU over SSH)", () => {
    const choice = moveChoice(running, small, options([host("qemu-1", "qemu", ["vms"]), host("qemu-2", "qemu", live)]));
    expect(choice).toEqual({ mode: "live", why: "qemu-1 does not offer live migration (not among its features)." });
  });

  it("says why not: no other host offers it, is active, or has room", () => {
    const none = "No other active qemu host that offers live migration has room for it.";
    expect(moveChoice(running, small, options([host("qemu-1", "qemu", live), host("qemu-2", "qemu", ["vms"])]))).toEqual({ mode: "live", why: none });
    expect(moveChoice(running, small, options([host("qemu-1", "qemu", live)], undefined, { "qemu-2": live }))).toEqual({ mode: "live", why: none });
    expect(moveChoice(running, { vcpus: 1, memoryMb: 16384 }, options([host("qemu-1", "qemu", live), host("qemu-2", "qemu", live)]))).toEqual({ mode: "live", why: none });
  });

  it("says why not: a live migration needs a running guest", () => {
    expect(moveChoice({ ...running, state: "stopped" }, small, options([host("qemu-1", "qemu", live), host("qemu-2", "qemu", live)]))).toEqual({
      mode: "live",
      why: "Only a running environment can be moved; this one is stopped.",
    });
  });

  it("offers a cold move, stopped guests included, where the driver moves cold only, with its warning", () => {
    const cold = ["zones", "cold-move"];
    const why = "Environments on zones hosts cannot be migrated live.";
    const choice = moveChoice({ host: "z1", hostKind: "zones", state: "stopped" }, small, options([host("z1", "zones", cold), host("z2", "zones", cold)], { zones: { live: false, cold: true, why } }));
    expect(choice).toEqual({ mode: "cold", targets: [host("z2", "zones", cold)], note: why });
  });
});
