import { imageInput, imageUpdateInput } from "../../catalog/input";
import { networkInput } from "../../net/input";
import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, invalid, notFound, ok, ref, schema, unauthorized, uuidParam, invalidPage, listPageOk, listPageParams, type OpenApiPart,
} from "../openapi-helpers";

const probe = {
  type: "object",
  required: ["ok"],
  properties: { ok: { type: "boolean" }, error: { type: "string", description: "Why it did not answer (within 2 s)" } },
};
const health = {
  type: "object",
  required: ["status", "database", "redis"],
  properties: {
    status: { enum: ["ok", "degraded"], description: "degraded: something below is not ok" },
    database: probe,
    redis: probe,
    schedulers: {
      type: "object",
      description: "The workers' repeatable jobs (reconciler, lease and course sweeps, usage sampling) in Redis; absent when Redis does not answer. Missing ones (Redis lost its data, or no worker has started yet) make the status degraded with 200: requests are served, and a running worker re-creates them within seconds.",
      required: ["ok"],
      properties: { ok: { type: "boolean" }, missing: { type: "array", items: { enum: ["reconcile", "leases", "courses", "usage"] } }, error: { type: "string" } },
    },
  },
};
const hostKinds = { type: "array", items: { enum: ["sim", "qemu", "xen", "zones"] } };

/** The portal's health, this document, the catalog (images, flavors, networks) and its administration. */
export const catalogPart: OpenApiPart = {
  paths: {
    "/api/health": {
      get: {
        operationId: "getHealth",
        summary: "Database and Redis status (no sign-in needed)",
        security: [],
        responses: { "200": ok("Both answer (status degraded when job schedulers are missing)", health), "503": ok("The database or Redis does not answer; the body says which", health) },
      },
    },
    "/api/v1/openapi.json": {
      get: {
        operationId: "getOpenApiDocument",
        summary: "This document (no sign-in needed)",
        security: [],
        responses: { "200": ok("The OpenAPI 3.1 document", { type: "object" }) },
      },
    },
    "/api/v1/catalog": {
      get: {
        operationId: "getCatalog",
        summary: "Active images, flavors and networks to order from",
        parameters: [
          { name: "os", in: "query", description: "Only images of this operating system", schema: { enum: ["linux", "solaris"] } },
          { name: "kind", in: "query", description: "Only images that run on this host kind", schema: { enum: ["sim", "qemu", "xen", "zones"] } },
        ],
        responses: {
          "200": ok("The catalog", {
            type: "object",
            required: ["images", "flavors", "networks"],
            properties: {
              images: { type: "array", items: ref("CatalogImage") },
              flavors: { type: "array", items: ref("Flavor") },
              networks: {
                type: "array",
                items: { type: "object", properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, purpose: { enum: ["service", "production"] }, cidr: { type: "string" } } },
              },
            },
          }),
          ...unauthorized,
          ...invalid("os or kind is not one of the listed values"),
        },
      },
    },
    "/api/v1/networks": {
      get: {
        operationId: "listNetworks",
        summary: "Networks with their free guest addresses, by purpose and name, one page",
        parameters: listPageParams("Networks"),
        responses: {
          "200": listPageOk("Networks by purpose and name, one page", "networks", ref("Network")),
          ...unauthorized,
          ...invalidPage,
        },
      },
      post: {
        operationId: "createNetwork",
        summary: "Add a network (admins); 409 when the slug is taken or the CIDR overlaps another network, which the message names",
        requestBody: body("NewNetwork"),
        responses: {
          "201": ok("Created", ref("NetworkCreated")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...conflict("Slug taken, CIDR overlapping an existing network, or the same MAC prefix and low address bits as another network (the message names it)"),
          ...bodyRejected(),
        },
      },
    },
    "/api/v1/images": {
      post: {
        operationId: "createImage",
        summary: "Add an image to the catalog (admins); 409 when the slug is taken",
        requestBody: body("NewImage"),
        responses: {
          "201": ok("Created", ref("AdminImage")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...conflict("An image with that slug already exists"),
          ...bodyRejected(),
        },
      },
    },
    "/api/v1/images/{id}": {
      patch: {
        operationId: "updateImage",
        summary:
          "Change an image (admins): name, description, version, hypervisors, purpose, size, licence or recipe; `active: false` hides it from the catalog " +
          "(not listed, not orderable; environments built from it keep running), `active: true` lists it again. Slug, OS, source and root type stay. Audited",
        parameters: [uuidParam("id", "The image's id")],
        requestBody: body("ImageUpdate"),
        responses: {
          "200": ok("The image as it is now", ref("AdminImage")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...notFound("No such image"),
          ...conflict("The image is retired and can no longer be changed"),
          ...bodyRejected("Invalid change: nothing to change, an unknown field (slug, os, source and rootType cannot be changed), a value of the wrong type, or hypervisors its OS does not run on; a message per field"),
        },
      },
    },
    "/api/v1/images/{id}/retire": {
      post: {
        operationId: "retireImage",
        summary:
          "Retire an image for good (admins): hidden from the catalog and from what groups may offer, no longer changeable; orders keep pointing at it. " +
          "Refused while an order that is not rejected, cancelled or retired uses it, or an active course hands out machines of it. Retiring it again changes nothing. Audited",
        parameters: [uuidParam("id", "The image's id")],
        responses: {
          "200": ok("The retired image", ref("AdminImage")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...notFound("No such image"),
          ...conflict("Still in use: the message names the orders (the first 10, and how many more) and courses that use it"),
        },
      },
    },
  },
  schemas: {
    NewNetwork: schema(networkInput),
    NewImage: schema(imageInput),
    ImageUpdate: schema(imageUpdateInput),
    AdminImage: {
      allOf: [
        ref("CatalogImage"),
        {
          type: "object",
          properties: {
            active: { type: "boolean", description: "Listed in the catalog and orderable; false: hidden" },
            retiredAt: { type: ["string", "null"], format: "date-time", description: "When it was retired; null while it is not" },
            createdAt: { type: "string", format: "date-time" },
          },
        },
      ],
    },
    CatalogImage: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, description: { type: "string" },
        os: { enum: ["linux", "solaris"] }, version: { type: "string" }, hostKinds, source: { enum: ["install-file", "clone", "copy"] },
        rootType: { enum: ["sparse", "whole", null], description: "Solaris zones: sparse or whole root" }, purpose: { enum: ["test", "development", "database", "web"] },
        sizeMb: { type: "integer" }, licensed: { type: "boolean", description: "Licensed per CPU: deployed with a CPU cap" },
        recipe: { type: ["string", "null"], description: "The recipe (GET /api/v1/recipes/{slug}) the item runs at first boot; null for a bare image" },
        recipeSlug: { type: ["string", "null"], description: "Admin views: the same recipe slug, as the images API takes it" },
      },
    },
    Flavor: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, vcpus: { type: "integer" }, memoryMb: { type: "integer" },
        diskGb: { type: "integer" }, cpuCap: { type: ["number", "null"], description: "CPUs the guest may use; null: uncapped" }, memoryCapMb: { type: ["integer", "null"] },
      },
    },
    Network: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, purpose: { enum: ["service", "production"] },
        cidr: { type: "string" }, gateway: { type: "string" }, free: { type: "integer", description: "Guest addresses still free" },
      },
    },
    NetworkCreated: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, purpose: { enum: ["service", "production"] },
        cidr: { type: "string" }, gateway: { type: "string" }, bridge: { type: "string" }, macPrefix: { type: "string" }, createdAt: { type: "string", format: "date-time" },
      },
    },
  },
};
