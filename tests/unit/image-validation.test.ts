import { describe, expect, it } from "vitest";
import { hostKinds, images } from "@/lib/db/schema";
import { fieldErrors } from "@/lib/validation/fields";
import { imageHostKinds, imageInput, imageOses, imagePurposes, imageRootTypes, imageSources } from "@/lib/catalog/input";

const linux = {
  slug: "linux-ci", name: "Linux CI runner", os: "linux", version: "Debian 12", hostKinds: ["sim", "qemu"],
  source: "clone", purpose: "test", sizeMb: 2048,
};
const solaris = {
  slug: "solaris10-web", name: "Solaris 10 web zone", os: "solaris", version: "Solaris 10 1/13", hostKinds: ["zones", "sim"],
  source: "copy", rootType: "sparse", purpose: "web", sizeMb: 768, licensed: true,
};

function errorsOf(input: Record<string, unknown>) {
  const r = imageInput.safeParse(input);
  return r.success ? {} : fieldErrors(r.error);
}

describe("a new image", () => {
  it("has exactly the enums of the images table", () => {
    expect([...imageOses]).toEqual(images.os.enumValues);
    expect([...imageSources]).toEqual(images.source.enumValues);
    expect([...imageRootTypes]).toEqual(images.rootType.enumValues);
    expect([...imagePurposes]).toEqual(images.purpose.enumValues);
    expect([...imageHostKinds]).toEqual([...hostKinds]);
  });

  it("accepts a Linux image with defaults for description, root type and licence", () => {
    expect(imageInput.parse(linux)).toEqual({ ...linux, description: "", rootType: null, licensed: false, recipeSlug: null });
  });

  it("accepts a Solaris zone image with its root type", () => {
    expect(imageInput.parse(solaris)).toMatchObject({ os: "solaris", rootType: "sparse", licensed: true, hostKinds: ["zones", "sim"] });
  });

  it("refuses a Solaris image on qemu or xen", () => {
    expect(errorsOf({ ...solaris, hostKinds: ["qemu"] }).hostKinds?.[0]).toBe("Solaris images run only on zones or sim hosts, not on qemu");
    expect(errorsOf({ ...solaris, hostKinds: ["zones", "xen"] }).hostKinds?.[0]).toMatch(/not on xen/);
  });

  it("refuses a Linux image on zones", () => {
    expect(errorsOf({ ...linux, hostKinds: ["sim", "zones"] }).hostKinds?.[0]).toBe("Linux images do not run on Solaris zones");
  });

  it("requires a root type for Solaris and refuses one for Linux", () => {
    const { rootType: _, ...noRoot } = solaris;
    expect(errorsOf(noRoot).rootType?.[0]).toMatch(/sparse or whole root/);
    expect(errorsOf({ ...solaris, rootType: null }).rootType).toBeDefined();
    expect(errorsOf({ ...linux, rootType: "whole" }).rootType?.[0]).toBe("Only Solaris zones have a sparse or whole root");
    expect(errorsOf({ ...solaris, rootType: "partial" }).rootType?.[0]).toBe("Root type is sparse or whole");
  });

  it("needs at least one known host kind, each once", () => {
    expect(errorsOf({ ...linux, hostKinds: [] }).hostKinds?.[0]).toBe("Choose at least one hypervisor");
    expect(errorsOf({ ...linux, hostKinds: ["vmware"] })["hostKinds.0"]?.[0]).toMatch(/sim, qemu, xen and zones/);
    expect(errorsOf({ ...linux, hostKinds: ["sim", "sim"] }).hostKinds?.[0]).toBe("Name each hypervisor once");
    expect(errorsOf({ ...linux, hostKinds: "sim" }).hostKinds).toBeDefined();
  });

  it.each([0, -5, 1.5, "big", 2 ** 31])("refuses size %j", (sizeMb) => {
    expect(errorsOf({ ...linux, sizeMb }).sizeMb).toBeDefined();
  });

  it("refuses unknown os, source, purpose and fields; needs slug, name and version", () => {
    const errors = errorsOf({ ...linux, os: "windows", source: "download", purpose: "gaming", slug: "", name: " ", version: "", colour: "red" });
    expect(Object.keys(errors).sort()).toEqual(["colour", "name", "os", "purpose", "slug", "source", "version"]);
  });

  it("checks the OS against the hypervisors while other fields are still empty (as you type)", () => {
    const errors = errorsOf({ ...solaris, slug: "", name: "", version: "", hostKinds: ["xen"] });
    expect(errors.hostKinds?.[0]).toMatch(/not on xen/);
  });

  it("requires licensed to be a boolean when given", () => {
    expect(errorsOf({ ...linux, licensed: "yes" }).licensed?.[0]).toBe("Licensed is true or false");
  });
});
