import { forbidden, invalid, notFound, ok, ref, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const spread = { type: "object", properties: { count: { type: "integer" }, p50: { type: ["number", "null"] }, p95: { type: ["number", "null"] } }, description: "Durations in ms" };
const share = {
  type: "object",
  properties: {
    kept: { type: "integer", description: "Ready within the hour" },
    missed: { type: "integer", description: "Ready later, or the hour passed without delivery" },
    open: { type: "integer", description: "Not ready yet and still within the hour" },
    share: { type: ["number", "null"], description: "kept / (kept + missed); null when nothing is decided yet" },
  },
};

/** The one-hour promise, measured: dashboard figures and a running order's estimate. */
export const governanceDelivery: OpenApiPart = {
  paths: {
    "/api/v1/delivery": {
      get: {
        operationId: "getDeliveryFigures",
        summary: "Delivery within the hour for orders submitted in a range: shares, p50/p95 per image and step, estimate against actual (admins)",
        parameters: [
          { name: "range", in: "query", schema: { enum: ["24h", "7d", "30d", "90d", "365d"], default: "7d" } },
          { name: "from", in: "query", schema: { type: "string" }, description: "Start, as `2026-12-06 11:59` (UTC), a day `2026-12-06`, or ISO 8601 with a zone; with from/to, range is ignored" },
          { name: "to", in: "query", schema: { type: "string" }, description: "End, in the same forms as from" },
        ],
        responses: {
          "200": ok("The figures", ref("DeliveryFigures")),
          ...unauthorized,
          ...forbidden("admins only"),
          ...invalid("Unknown range, a date that is not one, or a start that is not before the end"),
        },
      },
    },
    "/api/v1/orders/{id}/estimate": {
      get: {
        operationId: "getOrderEstimate",
        summary: "Time left and expected ready time from learned step estimates; for a delivered order, how long it took split into approval, queue and pipeline",
        parameters: [uuidParam("id", "The order's id")],
        responses: {
          "200": ok("The estimate", ref("OrderEstimate")),
          ...unauthorized,
          ...notFound("No such order, or not one you may see (yours, your groups' as an approver, or any as an admin)"),
        },
      },
    },
  },
  schemas: {
    DeliveryFigures: {
      type: "object",
      properties: {
        range: { type: "object", properties: { from: { type: "string", format: "date-time" }, to: { type: "string", format: "date-time" } } },
        orders: { type: "object", additionalProperties: { type: "integer" } },
        withinHour: share,
        withinHourExcludingApproval: share,
        breakdown: { type: "object", properties: { total: spread, approval: spread, queue: spread, pipeline: spread } },
        perImage: { type: "array", items: { type: "object", properties: { image: { type: "string" }, name: { type: "string" }, delivery: spread, withinHour: share } } },
        perStep: {
          type: "array",
          items: {
            type: "object",
            properties: {
              step: { type: "string" }, label: { type: "string" }, actual: spread,
              estimate: { type: "object", properties: { count: { type: "integer" }, p50: { type: ["number", "null"] }, actualP50: { type: ["number", "null"] }, meanAbsErrorMs: { type: ["number", "null"] } } },
            },
          },
        },
        slowest: { type: "array", items: { type: "object" } },
      },
    },
    OrderEstimate: {
      type: "object",
      properties: {
        orderId: { type: "string", format: "uuid" },
        status: { type: "string" },
        phase: { enum: ["waiting_for_approval", "queued", "running", "delivered", "stopped"] },
        submittedAt: { type: "string", format: "date-time" },
        promisedBy: { type: "string", format: "date-time", description: "Submission plus one hour" },
        remainingMs: { type: ["integer", "null"] },
        expectedReadyAt: { type: ["string", "null"], format: "date-time" },
        withinHour: { type: ["boolean", "null"] },
        imageDeliveries: { type: "integer", description: "Successful runs of this image the estimate learned from (at most 20)" },
        rough: { type: "boolean", description: "Fewer than 3 of them: the estimate leans on other images or a default and is a rough guess" },
        delivered: { type: ["object", "null"], properties: { totalMs: { type: "integer" }, approvalMs: { type: "integer" }, queueMs: { type: "integer" }, pipelineMs: { type: "integer" } } },
        steps: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" }, status: { type: "string" }, estimateMs: { type: ["integer", "null"] },
              basis: { enum: ["recorded", "image_and_host_kind", "image", "host_kind", "any_image", "default"] },
              samples: { type: "integer" }, actualMs: { type: ["integer", "null"] },
            },
          },
        },
      },
    },
  },
};
