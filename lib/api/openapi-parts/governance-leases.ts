import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, invalid, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";
import { orderStatuses } from "../../db/schema";
import { extendInput, extensionDecisionInput, extensionRejectInput, leaseLimitInput, markReadInput } from "../../leases/input";

const envParam = [uuidParam("environmentId", "The environment's id (the order's `environment.id`)")];
const requestParam = [uuidParam("id", "The extension request's id")];
const decided = ok("Decided", {
  type: "object",
  required: ["id", "status"],
  properties: {
    id: { type: "string", format: "uuid" }, status: { enum: ["approved", "rejected"] },
    expiresAt: { type: "string", format: "date-time", description: "The lease's end after the decision" }, reason: { type: ["string", "null"] },
  },
});
const decisionRefused = {
  ...forbidden("only an approver of the environment's group (or an admin) decides; the requester cannot decide their own request", CROSS_SITE),
  ...notFound("No such extension request, or not one you may see"),
  ...conflict("The request was already decided, or the environment is no longer delivered"),
};
const limitsView = ok("The portal's default and the limits set per group or image", ref("LeaseLimits"));

/** Leases (end dates, warnings, extension), extension requests and in-app notifications. */
export const governanceLeases: OpenApiPart = {
  paths: {
    "/api/v1/leases": {
      get: {
        operationId: "listLeases",
        summary: "Leases of my delivered environments (all for admins): end, days left, warnings sent, extension requests",
        parameters: [
          { name: "scope", in: "query", description: "mine (the default for others) or all (admins only; their default)", schema: { enum: ["mine", "all"] } },
          { name: "limit", in: "query", description: "Leases per page (default 50, at most 200)", schema: { type: "integer", minimum: 1, maximum: 200, default: 50 } },
          { name: "cursor", in: "query", description: "The previous page's nextCursor", schema: { type: "string" } },
        ],
        responses: {
          "200": ok("Leases, soonest end first, one page", {
            type: "object",
            required: ["leases", "nextCursor"],
            properties: {
              leases: { type: "array", items: ref("Lease") },
              nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last" },
            },
          }),
          ...unauthorized,
          ...forbidden("scope=all is for admins only"),
          ...invalid("Unknown scope, limit not a whole number from 1 to 200, or a cursor that is not one from this list"),
        },
      },
    },
    "/api/v1/leases/{environmentId}/extend": {
      post: {
        operationId: "extendLease",
        summary:
          "Extend a lease by `days`. Within the limit (total days from delivery, 90 unless the group or image sets another) it is granted at once (200); beyond it, it becomes a request for an approver (202) whose reason says which limit",
        parameters: envParam,
        requestBody: body("ExtendInput"),
        responses: {
          "200": ok("Extended", ref("ExtensionResult")),
          "202": ok("Held as a request for an approver", ref("ExtensionResult")),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...notFound("No such environment, or not one you may see"),
          ...conflict("Not delivered, a course's lab machine (it lives until the course ends), or a request is already waiting"),
          ...bodyRejected("days not a whole number from 1 to 365, a reason over 500 characters, or an unknown field"),
        },
      },
    },
    "/api/v1/leases/limits": {
      get: {
        operationId: "listLeaseLimits",
        summary: "Lease limits: the portal's default (LEASE_MAX_DAYS) and the limits set per group or image",
        responses: { "200": limitsView, ...unauthorized },
      },
      put: {
        operationId: "setLeaseLimit",
        summary: "Set a group's or an image's lease limit (admins); maxDays null removes it. The smaller of group and image applies",
        requestBody: body("LeaseLimit"),
        responses: {
          "200": limitsView,
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...bodyRejected("Neither or both of group and image named, no group or image with that slug, or maxDays not a whole number from 1 to 3650 or null"),
        },
      },
    },
    "/api/v1/leases/requests": {
      get: {
        operationId: "listExtensionRequests",
        summary: "Extension requests waiting for me (approvers of the group, admins), oldest first",
        responses: {
          "200": ok("Waiting requests; empty for users who approve for no group", { type: "object", required: ["requests"], properties: { requests: { type: "array", items: ref("ExtensionRequest") } } }),
          ...unauthorized,
        },
      },
    },
    "/api/v1/leases/requests/{id}/approve": {
      post: {
        operationId: "approveExtensionRequest",
        summary: "Approve an extension request: the lease is extended by its days",
        parameters: requestParam,
        requestBody: body("ExtensionDecision"),
        responses: { "200": decided, ...unauthorized, ...decisionRefused, ...bodyRejected("A reason over 500 characters, or an unknown field") },
      },
    },
    "/api/v1/leases/requests/{id}/reject": {
      post: {
        operationId: "rejectExtensionRequest",
        summary: "Refuse an extension request with a reason the requester sees",
        parameters: requestParam,
        requestBody: body("ExtensionReject"),
        responses: { "200": decided, ...unauthorized, ...decisionRefused, ...bodyRejected("No reason (at least 3 characters), one over 500, or an unknown field") },
      },
    },
    "/api/v1/notifications": {
      get: {
        operationId: "listNotifications",
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
          ...unauthorized,
        },
      },
    },
    "/api/v1/notifications/unread": {
      get: {
        operationId: "countUnreadNotifications",
        summary: "How many of my notifications are unread (what the bell shows)",
        responses: {
          "200": ok("The count", { type: "object", required: ["unread"], properties: { unread: { type: "integer" } } }),
          ...unauthorized,
        },
      },
    },
    "/api/v1/notifications/read": {
      post: {
        operationId: "markNotificationsRead",
        summary: "Mark notifications read (all of mine when `ids` is left out)",
        requestBody: body("MarkRead"),
        responses: {
          "200": ok("How many were marked and how many are still unread", { type: "object", required: ["marked", "unread"], properties: { marked: { type: "integer" }, unread: { type: "integer" } } }),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...bodyRejected("ids not a list of at most 500 notification ids, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    ExtendInput: schema(extendInput),
    ExtensionDecision: schema(extensionDecisionInput),
    ExtensionReject: schema(extensionRejectInput),
    MarkRead: schema(markReadInput),
    LeaseLimit: schema(leaseLimitInput),
    LeaseLimits: {
      type: "object",
      required: ["defaultMaxDays", "limits"],
      properties: {
        defaultMaxDays: { type: "integer", description: "LEASE_MAX_DAYS: total days from delivery granted without an approver" },
        limits: {
          type: "array",
          items: { type: "object", properties: { maxDays: { type: "integer" }, group: { type: ["string", "null"], description: "The group's slug" }, image: { type: ["string", "null"], description: "The image's slug" } } },
        },
      },
    },
    ExtensionRequest: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, orderId: { type: "string", format: "uuid" }, environmentId: { type: "string", format: "uuid" },
        name: { type: "string" }, requestedBy: { type: "string", description: "The requester's e-mail" }, days: { type: "integer" },
        reason: { type: ["string", "null"] }, policy: { type: "string", description: "Which limit made it a request, in words" },
        expiresAt: { type: "string", format: "date-time", description: "The lease's end now" }, createdAt: { type: "string", format: "date-time" },
      },
    },
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
        environmentId: { type: "string", format: "uuid" }, orderId: { type: "string", format: "uuid" }, name: { type: "string" },
        owner: { type: "string", description: "The customer's e-mail" }, group: { type: "string" },
        status: { enum: [...orderStatuses], description: "The order's status: ready or expiring in the list of leases; on an order also retiring or retired" },
        environmentState: { type: "string" }, startedAt: { type: "string", format: "date-time" }, expiresAt: { type: "string", format: "date-time" },
        daysLeft: { type: "integer" }, destroyAt: { type: ["string", "null"], format: "date-time", description: "While expiring: when the stopped environment is destroyed unless extended" },
        graceDays: { type: "integer" },
        limit: { type: "object", properties: { maxDays: { type: "integer" }, source: { type: "string" } } },
        course: { type: ["object", "null"], description: "A lab machine ends with its course", properties: { name: { type: "string" }, endsAt: { type: "string", format: "date-time" } } },
        extendable: { type: "boolean" },
        events: {
          type: "array",
          items: {
            type: "object",
            properties: {
              kind: { enum: ["warn_7d", "warn_1d", "stopped", "restarted", "retired"] }, at: { type: "string", format: "date-time" },
              leaseEnd: { type: "string", format: "date-time" }, email: { enum: ["pending", "sent", "skipped", "failed", "none"] },
            },
          },
        },
        requests: {
          type: "array",
          description: "The newest 10 extension requests",
          items: {
            type: "object",
            properties: {
              id: { type: "string", format: "uuid" }, days: { type: "integer" }, reason: { type: ["string", "null"] }, policy: { type: "string" },
              status: { enum: ["pending", "approved", "rejected"] }, requestedBy: { type: "string" }, decidedBy: { type: ["string", "null"] },
              decisionReason: { type: ["string", "null"] }, createdAt: { type: "string", format: "date-time" }, decidedAt: { type: ["string", "null"], format: "date-time" },
            },
          },
        },
      },
    },
  },
};
