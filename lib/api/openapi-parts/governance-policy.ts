import { body, errors, idParam, ok, ref, schema, type OpenApiPart } from "../openapi-helpers";
import { groupInput, groupSettingsInput, memberInput, quotaLimits, quotaLimitsPatch, ruleInput, ruleOrder, ruleUpdate } from "../../validation/policy";

/** Groups (customer pools), quotas, approval rules and pre-flight. */
const limits = {
  type: "object",
  properties: Object.fromEntries(["environments", "vcpus", "memoryGb", "diskGb", "licensedCores"].map((k) => [k, { type: ["number", "null"] }])),
};
const quotaState = { type: "object", properties: { limit: limits, used: limits, left: limits } };

export const governancePolicy: OpenApiPart = {
  paths: {
    "/api/v1/groups": {
      get: { summary: "Admins: every group with members, settings and quota; others: the groups they belong to", responses: { "200": ok("Groups"), "401": errors["401"] } },
      post: { summary: "Create a group (admins); 409 when the slug is taken", requestBody: body("GroupInput"), responses: { "201": ok("Created", ref("Group")), ...errors } },
    },
    "/api/v1/groups/{id}": {
      get: { summary: "A group with members, settings and quota (admins)", parameters: idParam, responses: { "200": ok("The group", ref("Group")), ...errors } },
      patch: {
        summary: "Change a group (admins): name, auto-approval, allowed images/flavors/networks (empty = all), dedicated hosts and host tags",
        parameters: idParam,
        requestBody: body("GroupSettingsInput"),
        responses: { "200": ok("The group", ref("Group")), ...errors },
      },
    },
    "/api/v1/groups/{id}/members": {
      get: { summary: "Members of a group with their role in it (admins)", parameters: idParam, responses: { "200": ok("Members"), ...errors } },
      put: { summary: "Add a user (by e-mail) as customer or approver, or change their role (admins)", parameters: idParam, requestBody: body("MemberInput"), responses: { "200": ok("Members"), ...errors } },
    },
    "/api/v1/groups/{id}/members/{userId}": {
      delete: {
        summary: "Remove a member from a group (admins)",
        parameters: [...idParam, { name: "userId", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
        responses: { "204": { description: "Removed" }, ...errors },
      },
    },
    "/api/v1/quotas": {
      get: {
        summary: "My quotas per group and my own: limit, used and left (null: no limit). Counted over orders not rejected, cancelled or retired",
        responses: {
          "200": ok("Quotas", { type: "object", properties: { user: quotaState, groups: { type: "array", items: quotaState } } }),
          "401": errors["401"],
        },
      },
    },
    "/api/v1/quotas/groups/{id}": {
      put: { summary: "Set all of a group's limits (admins): every field, each a whole number or null (no limit)", parameters: idParam, requestBody: body("QuotaLimits"), responses: { "200": ok("The limits"), ...errors } },
      patch: { summary: "Change some of a group's limits (admins): the fields sent, at least one; the others keep their value", parameters: idParam, requestBody: body("QuotaLimitsPatch"), responses: { "200": ok("The limits"), ...errors } },
    },
    "/api/v1/quotas/users/{id}": {
      get: { summary: "A user's own limits (admins)", parameters: idParam, responses: { "200": ok("The limits"), ...errors } },
      put: { summary: "Set all of a user's own limits across all groups (admins): every field, each a whole number or null (no limit)", parameters: idParam, requestBody: body("QuotaLimits"), responses: { "200": ok("The limits"), ...errors } },
      patch: { summary: "Change some of a user's own limits (admins): the fields sent, at least one; the others keep their value", parameters: idParam, requestBody: body("QuotaLimitsPatch"), responses: { "200": ok("The limits"), ...errors } },
    },
    "/api/v1/policies": {
      get: { summary: "Approval rules in order, each with its explanation (admins, approvers)", responses: { "200": ok("Rules", { type: "object", properties: { rules: { type: "array", items: ref("PolicyRule") } } }), ...errors } },
      post: { summary: "Add a rule (admins), at `position` or at the end", requestBody: body("RuleInput"), responses: { "201": ok("Created", ref("PolicyRule")), ...errors } },
    },
    "/api/v1/policies/{id}": {
      patch: { summary: "Change a rule or move it (admins)", parameters: idParam, requestBody: body("RuleUpdate"), responses: { "200": ok("The rule", ref("PolicyRule")), ...errors } },
      delete: { summary: "Delete a rule (admins)", parameters: idParam, responses: { "204": { description: "Deleted" }, ...errors } },
    },
    "/api/v1/policies/reorder": {
      post: { summary: "Put the rules in a new order: every rule id once, first rule first (admins)", requestBody: body("RuleOrder"), responses: { "200": ok("Rules in the new order"), ...errors } },
    },
    "/api/v1/orders/{id}/preflight": {
      get: {
        summary: "Would the order succeed if approved now? Host kind, capacity, a free address per network, quota, group offer (approvers of its group, admins)",
        parameters: idParam,
        responses: { "200": ok("Checks, computed now", ref("Preflight")), ...errors },
      },
    },
  },
  schemas: {
    GroupInput: schema(groupInput),
    GroupSettingsInput: schema(groupSettingsInput),
    MemberInput: schema(memberInput),
    QuotaLimits: schema(quotaLimits),
    QuotaLimitsPatch: schema(quotaLimitsPatch),
    RuleInput: schema(ruleInput),
    RuleUpdate: schema(ruleUpdate),
    RuleOrder: schema(ruleOrder),
    Group: {
      type: "object",
      properties: {
        id: { type: "string" }, slug: { type: "string" }, name: { type: "string" }, kind: { enum: ["pool", "course"] }, autoApprove: { type: "boolean" },
        settings: schema(groupSettingsInput.omit({ name: true, autoApprove: true })), quota: limits,
        members: { type: "array", items: { type: "object", properties: { userId: { type: "string" }, email: { type: "string" }, role: { enum: ["customer", "approver"] } } } },
      },
    },
    PolicyRule: {
      type: "object",
      properties: {
        id: { type: "string" }, position: { type: "integer" }, name: { type: "string" }, enabled: { type: "boolean" },
        outcome: { enum: ["approve", "hold", "refuse"] }, conditions: { type: "object" }, note: { type: ["string", "null"] },
        explanation: { type: "string", description: "What customers and approvers read, e.g. \"held: leases over 30 days need approval\"" },
      },
    },
    Preflight: {
      type: "object",
      properties: {
        orderId: { type: "string" }, ok: { type: "boolean" }, checkedAt: { type: "string" },
        checks: { type: "array", items: { type: "object", properties: { key: { type: "string" }, label: { type: "string" }, ok: { type: "boolean" }, detail: { type: "string" } } } },
      },
    },
  },
};
