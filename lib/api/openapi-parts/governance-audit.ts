import { forbidden, invalid, ref, unauthorized, type OpenApiPart } from "../openapi-helpers";

/** The audit log: search and CSV export (admins). */
export const governanceAudit: OpenApiPart = {
  paths: {
    "/api/v1/audit": {
      get: {
        operationId: "searchAuditLog",
        summary: "Audit log, newest first, paged; format=csv exports every match as CSV (admins)",
        parameters: [
          { name: "actor", in: "query", schema: { type: "string" }, description: "E-mail (part of it), user id, or `system`" },
          { name: "action", in: "query", schema: { type: "string" }, description: "An action (order.approve) or a prefix (order)" },
          { name: "target", in: "query", schema: { type: "string" }, description: "Target id, or kind (order, host, user…)" },
          { name: "q", in: "query", schema: { type: "string" }, description: "Free text in action, target, actor, address, user agent, data, before and after" },
          { name: "from", in: "query", schema: { type: "string" }, description: "Earliest time, as `2026-12-06 11:59` (UTC), a day `2026-12-06`, or ISO 8601 with a zone" },
          { name: "to", in: "query", schema: { type: "string" }, description: "Latest time, in the same forms as from" },
          { name: "page", in: "query", schema: { type: "integer", minimum: 1, maximum: 100000, default: 1 } },
          { name: "perPage", in: "query", schema: { type: "integer", minimum: 1, maximum: 500, default: 50 } },
          { name: "cursor", in: "query", description: "The previous page's nextCursor: the next page, as fast on any page", schema: { type: "string" } },
          { name: "format", in: "query", schema: { enum: ["json", "csv"], default: "json" } },
        ],
        responses: {
          "200": {
            description: "A page of events (JSON), or the CSV file",
            content: {
              "application/json": { schema: { type: "object", properties: { events: { type: "array", items: ref("AuditEvent") }, page: { type: "integer" }, perPage: { type: "integer" }, total: { type: "integer", description: "Matches, counted up to 10,000" }, totalCapped: { type: "boolean", description: "More than 10,000 match" }, hasMore: { type: "boolean" }, nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last" } } } },
              "text/csv": { schema: { type: "string", description: "id,at,actor_id,actor_email,action,target_type,target_id,source_ip,user_agent,data,before,after; cells starting with = + - @ are prefixed with '" } },
            },
          },
          ...unauthorized,
          ...forbidden("admins only"),
          ...invalid("A filter is invalid: a text longer than allowed, a date that is not one, a start after the end, page or perPage out of range, or an unknown format"),
        },
      },
    },
  },
  schemas: {
    AuditEvent: {
      type: "object",
      properties: {
        id: { type: "integer" },
        at: { type: "string", format: "date-time" },
        actorId: { type: ["string", "null"], format: "uuid" },
        actorEmail: { type: ["string", "null"] },
        action: { type: "string" },
        targetType: { type: "string" },
        targetId: { type: ["string", "null"] },
        targetName: { type: ["string", "null"], description: "What people know the target by (an order's or host's name, a user's e-mail); null when it has none or no longer exists" },
        sourceIp: { type: ["string", "null"] },
        userAgent: { type: ["string", "null"] },
        data: { type: "object" },
        before: { type: ["object", "null"] },
        after: { type: ["object", "null"] },
      },
    },
  },
};
