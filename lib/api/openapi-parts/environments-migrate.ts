import { migrateInput } from "../../lifecycle/input";
import { body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

/** Live migration of a delivered environment to another host (admins). */
export const environmentsMigratePart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/migrate": {
      post: {
        operationId: "migrateEnvironment",
        summary:
          "Move an environment to another host (admins): live, while it keeps running, where the host kind migrates live (QEMU, Xen); a cold move (halted, sent, booted on the target) where it does not (zones), only when the body says `cold: true`. The target (host id or name) must be another active host of the same kind with room for it; progress, total time and downtime show on the order (GET /api/v1/orders/{orderId}, its events). Addresses and MACs stay.",
        parameters: [uuidParam("id", "The environment's id (the order's `environment.id`)")],
        requestBody: body("MigrateInput"),
        responses: {
          "202": ok("Accepted: the migration is queued", ref("MigrationAction")),
          ...unauthorized,
          ...forbidden("only admins move environments", CROSS_SITE),
          ...notFound("No such environment"),
          ...conflict("Not possible: same host, target not active, another kind, no room, a kind without live migration asked without `cold: true` (zones offer only a cold move), environment not running, or another action in progress"),
          ...bodyRejected("No target host given, no host of that name, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    MigrateInput: schema(migrateInput),
    Migration: {
      type: "object",
      description: "One move of an environment (environment.migrations of an order)",
      properties: {
        id: { type: "string", format: "uuid" },
        status: { enum: ["queued", "running", "succeeded", "failed"] },
        progress: { type: "integer", minimum: 0, maximum: 100 },
        note: { type: ["string", "null"], description: "What it is doing now, e.g. memory left to copy" },
        error: { type: ["string", "null"], description: "Why it failed; the guest then keeps running where it was" },
        from: { type: ["string", "null"] },
        to: { type: ["string", "null"] },
        result: {
          type: ["object", "null"],
          properties: {
            mode: { enum: ["live", "cold"] },
            totalMs: { type: "integer", description: "Migration time as QEMU measured it" },
            downtimeMs: { type: ["integer", "null"], description: "How long the guest was paused" },
            transferredBytes: { type: ["integer", "null"] },
          },
        },
        createdAt: { type: "string", format: "date-time" },
        finishedAt: { type: ["string", "null"], format: "date-time" },
      },
    },
    MigrationAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId", "targetHost"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["migrate"] },
        status: { enum: ["queued", "running", "succeeded", "failed"] },
        environmentId: { type: "string", format: "uuid" },
        targetHost: { type: "object", properties: { id: { type: "string", format: "uuid" }, name: { type: "string" } } },
      },
    },
  },
};
