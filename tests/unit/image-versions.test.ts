import { describe, expect, it } from "vitest";
import { glueConfig, parseReadyLine } from "@/lib/drivers/qemu/glue";
import { markerMismatches } from "@/lib/drivers/qemu/serial";
import { buildKeyOf, versionPaths } from "@/lib/drivers/images/store";
import { campaignInput, postponeInput } from "@/lib/campaigns/input";
import { fieldErrors } from "@/lib/validation/fields";

const files = {
  "vmlinuz": { sha256: "a".repeat(64), size: 10 },
  "initramfs.cpio.gz": { sha256: "b".repeat(64), size: 20 },
  "disk.qcow2": { sha256: "c".repeat(64), size: 30 },
};

describe("builds of a golden image", () => {
  it("are keyed by their checksums: the same files the same key, in any order; another file another key", () => {
    const key = buildKeyOf(files);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(buildKeyOf({ "disk.qcow2": files["disk.qcow2"], "vmlinuz": files.vmlinuz, "initramfs.cpio.gz": files["initramfs.cpio.gz"] })).toBe(key);
    expect(buildKeyOf({ ...files, "initramfs.cpio.gz": { sha256: "d".repeat(64), size: 20 } })).not.toBe(key);
    expect(versionPaths("/srv/images", "linux-qemu", key).initramfs).toBe(`/srv/images/versions/linux-qemu/${key}/initramfs.cpio.gz`);
    expect(() => versionPaths("/srv/images", "linux-qemu", "../../etc")).toThrow(/invalid build key/);
  });

  it("reach the guest through the glue, which checks what the guest's shell will read", () => {
    const base = { hostname: "web-01", nics: [], authorizedKeys: null, motd: "", serviceIps: [] };
    expect(glueConfig({ ...base, image: { slug: "linux-qemu", version: 2 } })).toBe("hostname web-01\nimage linux-qemu 2\n");
    expect(glueConfig(base)).toBe("hostname web-01\n");
    expect(() => glueConfig({ ...base, image: { slug: "x; reboot", version: 2 } })).toThrow(/invalid image slug/);
    expect(() => glueConfig({ ...base, image: { slug: "linux-qemu", version: 0 } })).toThrow(/invalid image version/);
  });

  it("a guest's ready line names its version, and one that runs another version than ordered is not ready", () => {
    const line = "PORTAL-READY hostname=web-01 uptime=4.2 disk=1 data=1 ssh=22 nic=02:00:00:14:00:05,10.20.0.5/24 image-version=3";
    const report = parseReadyLine(line)!;
    expect(report.imageVersion).toBe(3);
    const want = { hostname: "web-01", nics: [{ mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24 }] };
    expect(markerMismatches(report, { ...want, imageVersion: 3 })).toEqual([]);
    expect(markerMismatches(report, { ...want, imageVersion: 2 })).toEqual(["it runs image version 3, expected 2"]);
    // Guests of images from before versions say nothing about it and are not held to it.
    expect(markerMismatches(parseReadyLine(line.replace(" image-version=3", ""))!, { ...want, imageVersion: 2 })).toEqual([]);
  });
});

describe("a campaign's input", () => {
  const ok = {
    image: "linux-qemu", targets: { group: "lab" }, window: { start: "2026-12-06 22:00", end: "2026-12-07T02:00:00Z" }, waveSize: 2, failureThreshold: { percent: 50 },
  };
  const fieldsOf = (body: unknown) => {
    const r = campaignInput.safeParse(body);
    return r.success ? {} : fieldErrors(r.error);
  };

  it("reads the window in the portal's form or ISO 8601, and fills in the health check and postponing", () => {
    const r = campaignInput.parse(ok);
    expect(r.window.start.toISOString()).toBe("2026-12-06T22:00:00.000Z");
    expect(r).toMatchObject({ healthCheck: "ready-line", postponeMaxDays: 7, waveSize: 2 });
    expect(campaignInput.parse({ ...ok, waveSize: "3", failureThreshold: { count: "0" } })).toMatchObject({ waveSize: 3, failureThreshold: { count: 0 } });
  });

  it("names the field that is wrong", () => {
    expect(Object.keys(fieldsOf({ ...ok, waveSize: 0 }))).toEqual(["waveSize"]);
    expect(Object.keys(fieldsOf({ ...ok, window: { start: "2026-12-07 02:00", end: "2026-12-06 22:00" } }))).toEqual(["window.end"]);
    expect(Object.keys(fieldsOf({ ...ok, targets: { group: "lab", outdated: true, environments: ["6f1c1a7e-4b0e-4f6a-9a49-3f2d0c0a1b2c"] } }))).toEqual(["targets"]);
    expect(Object.keys(fieldsOf({ ...ok, failureThreshold: { count: 1, percent: 5 } }))).toEqual(["failureThreshold"]);
    expect(Object.keys(fieldsOf({ ...ok, healthCheck: "curl" }))).toEqual(["healthCheck"]);
    expect(campaignInput.safeParse({ ...ok, targets: { outdated: true, group: "lab" } }).success).toBe(true);
    expect(Object.keys(fieldErrors(postponeInput.safeParse({ environment: "nope", days: 0 }).error!)).sort()).toEqual(["days", "environment"]);
  });
});
