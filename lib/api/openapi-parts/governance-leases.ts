import { body, errors, ok, ref, schema, type OpenApiPart } from "../openapi-helpers";
import { extendInput, extensionDecisionInput, extensionRejectInput, leaseLimitInput, markReadInput } from "../../leases/input";

const envParam = [{ name: "environmentId", in: "path", required: true, schema: { type: "string", format: "uuid" } }];
const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }];

/** Leases (end dates, warnings, extension), extension requests and in-app notifications. */
export const governanceLeases: OpenApiPart = {
  paths: {
    "/api/v1/leases": {
      get: {
        summary: "Leases of my delivered environments (all for admins): end, days left, warnings sent, extension requests",
        parameters: [{ name: "scope", in: "query", schema: { enum: ["mine", "all"] } }],
        responses: { "200": ok("Leases, soonest end first", { type: "object", properties: { leases: { type: "array", items: ref("Lease") } } }), ...errors },
      },
    },
    "/api/v1/leases/{environmentId}/extend": {
      post: {
        summary:
          "Extend a lease by `days`. Within the limit (total days from delivery, 90 unless the group or image sets another) it is granted at once (200); beyond it, it becomes a request for an approver (202) whose reason says which limit",
        parameters: envParam,
        requestBody: body("ExtendInput"),
        responses: {
          "200": ok("Extended", ref("ExtensionResult")),
          "202": ok("Held as a request for an approver", ref("ExtensionResult")),
          ...errors,
          "409": ok("Not delivered, or a request is already waiting", ref("Error")),
        },
      },
    },
    "/api/v1/leases/limits": {
      get: { summary: "Lease limits: the portal's default (LEASE_MAX_DAYS) and the limits set per group or image", responses: { "200": ok("Limits"), "401": errors["401"] } },
      put: {
        summary: "Set a group's or an image's lease limit (admins); maxDays null removes it. The smaller of group and image applies",
        requestBody: body("LeaseLimit"),
        responses: { "200": ok("Limits after the change"), ...errors },
      },
    },
    "/api/v1/leases/requests": {
      get: { summary: "Extension requests waiting for me (approvers of the group, admins)", responses: { "200": ok("Requests"), ...errors } },
    },
    "/api/v1/leases/requests/{id}/approve": {
      post: { summary: "Approve an extension request: the lease is extended by its days", parameters: idParam, requestBody: body("ExtensionDecision"), responses: { "200": ok("Decided"), ...errors } },
    },
    "/api/v1/leases/requests/{id}/reject": {
      post: { summary: "Refuse an extension request with a reason the requester sees", parameters: idParam, requestBody: body("ExtensionReject"), responses: { "200": ok("Decided"), ...errors } },
    },
    "/api/v1/notifications": {
      get: {
        summary: "My in-app notifications (newest first) and the unread count",
        responses: {
          "200": ok("Notifications", {
            type: "object",
            properties: {
              unread: { type: "integer" },
              notifications: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    id: { type: "string" }, kind: { type: "string" }, title: { type: "string" }, body: { type: "string" },
                    link: { type: ["string", "null"] }, createdAt: { type: "string" }, readAt: { type: ["string", "null"] },
                  },
                },
              },
            },
          }),
          "401": errors["401"],
        },
      },
    },
    "/api/v1/notifications/read": {
      post: {
        summary: "Mark notifications read (all of mine when `ids` is left out)",
        requestBody: body("MarkRead"),
        responses: { "200": ok("How many were marked and how many are still unread"), "401": errors["401"], "422": errors["422"] },
      },
    },
  },
  schemas: {
    ExtendInput: schema(extendInput),
    ExtensionDecision: schema(extensionDecisionInput),
    ExtensionReject: schema(extensionRejectInput),
    MarkRead: schema(markReadInput),
    LeaseLimit: schema(leaseLimitInput),
    ExtensionResult: {
      type: "object",
      properties: {
        outcome: { enum: ["extended", "requested"] },
        expiresAt: { type: "string", format: "date-time" },
        daysLeft: { type: "integer" },
        requestId: { type: "string" },
        reason: { type: "string", description: "The rule that decided, in words" },
      },
    },
    Lease: {
      type: "object",
      properties: {
        environmentId: { type: "string" }, orderId: { type: "string" }, name: { type: "string" }, status: { enum: ["ready", "expiring"] },
        environmentState: { type: "string" }, expiresAt: { type: "string" }, daysLeft: { type: "integer" }, destroyAt: { type: ["string", "null"] },
        limit: { type: "object", properties: { maxDays: { type: "integer" }, source: { type: "string" } } },
        events: { type: "array", items: { type: "object", properties: { kind: { enum: ["warn_7d", "warn_1d", "stopped", "restarted", "retired"] }, at: { type: "string" }, email: { enum: ["pending", "sent", "skipped", "failed", "none"] } } } },
        requests: { type: "array", items: { type: "object" } },
      },
    },
  },
};
