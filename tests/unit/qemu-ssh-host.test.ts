/**
 * The parts of a QEMU host reached over SSH that need no host: the driver settings admins
 * give it (checked per field), the step errors a lost connection or a changed host key
 * becomes, and the driver's refusal of an SSH host when it was made without SSH access.
 */
import { describe, expect, it } from "vitest";
import { QemuDriver } from "@/lib/drivers/qemu/driver";
import { TransportError } from "@/lib/drivers/transport/types";
import { transportStepError } from "@/lib/drivers/transport/errors";
import { StepError, type DeploySpec } from "@/lib/drivers/types";
import { checkedHostConfig } from "@/lib/hosts/config";

const fields = (fn: () => unknown): Record<string, string[]> => {
  try {
    fn();
  } catch (e) {
    return (e as { fields: Record<string, string[]> }).fields;
  }
  throw new Error("no error");
};

describe("QEMU host driver settings", () => {
  it("take the work folder, image store and network the driver reads", () => {
    const config = { workDir: "/srv/portal/qemu", imageStore: "/srv/portal/images", network: "user", readyTimeoutMs: 150_000, stopGraceMs: 15_000, accel: "kvm", migrationPorts: [45000, 45099] };
    expect(checkedHostConfig("qemu", {}, config)).toEqual(config);
  });

  it("refuse paths with shell characters, unknown values and unknown keys, one message per field", () => {
    expect(fields(() => checkedHostConfig("qemu", {}, { workDir: "/srv/x; reboot", imageStore: "images", network: "bridged", colour: "blue" }))).toEqual({
      "config.workDir": ["workDir must be an absolute path of letters, digits and . _ + - (no spaces or ..)"],
      "config.imageStore": ["imageStore must be an absolute path of letters, digits and . _ + - (no spaces or ..)"],
      "config.network": ["network: bridge or user"],
      "config.colour": ["Unknown setting for qemu hosts"],
    });
    expect(Object.keys(fields(() => checkedHostConfig("qemu", {}, { migrationPorts: [50000, 40000] })))).toEqual(["config.migrationPorts"]);
  });

  it("merge into the stored ones: null goes back to the default", () => {
    expect(checkedHostConfig("qemu", { workDir: "/srv/a", network: "user" }, { network: null, imageStore: "/srv/i" })).toEqual({ workDir: "/srv/a", imageStore: "/srv/i" });
  });
});

describe("transport failures in a QEMU step", () => {
  it("become step errors that say what happened on which host", () => {
    const changed = transportStepError(new TransportError("host-key", "ssh p@h:22: host key changed: pinned A, the host presented B."), "kvm-1 (ssh p@h:22)");
    expect(changed).toBeInstanceOf(StepError);
    expect((changed as Error).message).toBe("host kvm-1 (ssh p@h:22) presented an unexpected host key; an admin must confirm it: ssh p@h:22: host key changed: pinned A, the host presented B.");
    expect((transportStepError(new TransportError("auth", "refused"), "kvm-1") as Error).message).toBe("host kvm-1 refused the portal's login: refused");
    expect((transportStepError(new TransportError("connect", "ECONNREFUSED"), "kvm-1") as Error).message).toBe("cannot reach host kvm-1: ECONNREFUSED");
  });

  it("leave a worker shutdown (aborted) and other errors as they are", () => {
    const aborted = new TransportError("aborted", "aborted");
    expect(transportStepError(aborted, "kvm-1")).toBe(aborted);
    const other = new Error("bug");
    expect(transportStepError(other, "kvm-1")).toBe(other);
  });
});

describe("a QEMU driver made without SSH access", () => {
  it("refuses a host reached over SSH with a step error instead of touching this machine", async () => {
    const spec = {
      orderId: "6f1c1a52-0000-4000-8000-000000000001",
      hostname: "db01",
      host: { id: "6f1c1a52-0000-4000-8000-000000000002", name: "kvm-1", kind: "qemu", address: "10.0.0.5", config: { workDir: "/srv/portal/qemu" } },
    } as unknown as DeploySpec;
    const io = { log: async () => {}, signal: new AbortController().signal };
    await expect(new QemuDriver().createStorage(spec, io)).rejects.toThrow(
      new StepError("host kvm-1 (10.0.0.5) is reached over SSH; this QEMU driver was made without access to the hosts' SSH settings"),
    );
  });
});
