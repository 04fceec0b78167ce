import { z } from "zod";
import { orderPurposes } from "../db/schema/enums";
import { displayNameField, numeric, slugField } from "../validation/fields";

/**
 * A new catalog image, as the admin form (validation as you type) and POST /api/v1/images
 * send it. The lists mirror the images table in lib/db/schema/catalog.ts (a unit test keeps
 * them equal); they are repeated here because the browser loads this file and must not load
 * the database schema.
 */
export const imageOses = ["linux", "solaris"] as const;
export const imageHostKinds = ["sim", "qemu", "xen", "zones"] as const;
export const imageSources = ["install-file", "clone", "copy"] as const;
export const imageRootTypes = ["sparse", "whole"] as const;
export const imagePurposes = orderPurposes;
/** Host kinds a Solaris image can run on: zones, and the simulator that imitates them. */
export const solarisHostKinds: readonly string[] = ["zones", "sim"];
/** The images table keeps sizes in an integer column; 1 TiB is far beyond any golden image. */
export const MAX_IMAGE_MB = 1024 * 1024;

export const imageInput = z
  .strictObject({
    slug: slugField,
    name: displayNameField,
    description: z.string().trim().max(500, "Description can have at most 500 characters").default(""),
    os: z.enum(imageOses, { message: "OS is linux or solaris" }),
    version: z.string().trim().min(1, "Enter a version, like Debian 12 or Solaris 10 1/13").max(100, "Version can have at most 100 characters"),
    hostKinds: z
      .array(z.enum(imageHostKinds, { message: "Host kinds are sim, qemu, xen and zones" }), { message: "Choose the hypervisors the image runs on" })
      .min(1, "Choose at least one hypervisor")
      .refine((kinds) => new Set(kinds).size === kinds.length, "Name each hypervisor once"),
    source: z.enum(imageSources, { message: "Source is install-file, clone or copy" }),
    rootType: z.enum(imageRootTypes, { message: "Root type is sparse or whole" }).nullish(),
    purpose: z.enum(imagePurposes, { message: "Purpose is one of test, development, database, web" }),
    sizeMb: numeric(
      z
        .number({ message: "Size is a number of MB" })
        .int("Size is a whole number of MB")
        .positive("Size must be more than 0 MB")
        .max(MAX_IMAGE_MB, `Size can be at most ${MAX_IMAGE_MB} MB`),
    ),
    licensed: z.boolean({ message: "Licensed is true or false" }).default(false),
  })
  .superRefine(
    (v, ctx) => {
      if (v.os === "solaris") {
        const wrong = v.hostKinds.filter((k) => !solarisHostKinds.includes(k));
        if (wrong.length) {
          ctx.addIssue({ code: "custom", path: ["hostKinds"], message: `Solaris images run only on zones or sim hosts, not on ${wrong.join(", ")}` });
        }
        if (!v.rootType) ctx.addIssue({ code: "custom", path: ["rootType"], message: "Choose a sparse or whole root for a Solaris zone" });
      } else {
        if (v.hostKinds.includes("zones")) {
          ctx.addIssue({ code: "custom", path: ["hostKinds"], message: "Linux images do not run on Solaris zones" });
        }
        if (v.rootType) ctx.addIssue({ code: "custom", path: ["rootType"], message: "Only Solaris zones have a sparse or whole root" });
      }
    },
    // Checked as soon as the fields it compares are well formed, while others may still be empty.
    { when: (payload) => !payload.issues.some((i) => !i.path?.length || ["os", "hostKinds", "rootType"].includes(String(i.path[0]))) },
  )
  .transform((v) => ({ ...v, rootType: v.rootType ?? null }));

export type ImageInput = z.infer<typeof imageInput>;
