import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, noContent, notFound, ok, ref, schema, unauthorized, uuidParam, invalidPage, listPageOk, listPageParams, type OpenApiPart,
} from "../openapi-helpers";
import { groupInput, groupSettingsInput, memberInput, quotaLimits, quotaLimitsPatch, ruleInput, ruleOrder, ruleUpdate } from "../../policy/input";

/** Groups (customer pools), quotas, approval rules and pre-flight. */
const limits = {
  type: "object",
  properties: Object.fromEntries(["environments", "vcpus", "memoryGb", "diskGb", "licensedCores"].map((k) => [k, { type: ["number", "null"] }])),
};
const quotaState = { type: "object", properties: { limit: limits, used: limits, left: limits } };
const userLimits = { type: "object", properties: { userId: { type: "string", format: "uuid" }, limits } };

const groupId = [uuidParam("id", "The group's id")];
const adminsOnly = forbidden("admins only");
const adminsChange = forbidden("admins only", CROSS_SITE);
const noGroup = notFound("No such group");
const rulesList = { type: "object", required: ["rules"], properties: { rules: { type: "array", items: ref("PolicyRule") } } };
const memberList = { type: "object", required: ["members"], properties: { members: { type: "array", items: ref("GroupMember") } } };

export const governancePolicy: OpenApiPart = {
  paths: {
    "/api/v1/groups": {
      get: {
        operationId: "listGroups",
        summary: "Admins: groups with members, settings and quota, one page; others: the groups they belong to, with their role in each (one page, nextCursor null)",
        parameters: listPageParams("Groups (admins)"),
        responses: {
          "200": listPageOk("Groups by name, one page", "groups", { anyOf: [ref("Group"), ref("MyGroup")] }),
          ...unauthorized,
          ...invalidPage,
        },
      },
      post: {
        operationId: "createGroup",
        summary: "Create a group (admins); 409 when the slug is taken",
        requestBody: body("GroupInput"),
        responses: { "201": ok("Created", ref("Group")), ...unauthorized, ...adminsChange, ...conflict("A group or course with that slug already exists"), ...bodyRejected() },
      },
    },
    "/api/v1/groups/{id}": {
      get: { operationId: "getGroup", summary: "A group with members, settings and quota (admins)", parameters: groupId, responses: { "200": ok("The group", ref("Group")), ...unauthorized, ...adminsOnly, ...noGroup } },
      patch: {
        operationId: "updateGroup",
        summary: "Change a group (admins): name, auto-approval, allowed images/flavors/networks (empty = all), dedicated hosts and host tags",
        parameters: groupId,
        requestBody: body("GroupSettingsInput"),
        responses: {
          "200": ok("The group", ref("Group")),
          ...unauthorized,
          ...adminsChange,
          ...noGroup,
          ...bodyRejected("Invalid settings: a field of the wrong type, an unknown field, or an image, flavor, network or host id that does not exist; a message per field"),
        },
      },
    },
    "/api/v1/groups/{id}/members": {
      get: { operationId: "listGroupMembers", summary: "Members of a group with their role in it (admins)", parameters: groupId, responses: { "200": ok("Members", memberList), ...unauthorized, ...adminsOnly, ...noGroup } },
      put: {
        operationId: "setGroupMember",
        summary: "Add a user (by e-mail) as customer or approver, or change their role (admins)",
        parameters: groupId,
        requestBody: body("MemberInput"),
        responses: { "200": ok("Members after the change", memberList), ...unauthorized, ...adminsChange, ...noGroup, ...bodyRejected("Invalid member: no user with that e-mail, or a role other than customer or approver") },
      },
    },
    "/api/v1/groups/{id}/members/{userId}": {
      delete: {
        operationId: "removeGroupMember",
        summary: "Remove a member from a group (admins)",
        parameters: [...groupId, uuidParam("userId", "The member's user id")],
        responses: { ...noContent("Removed"), ...unauthorized, ...adminsChange, ...notFound("That user is not a member of this group") },
      },
    },
    "/api/v1/quotas": {
      get: {
        operationId: "getMyQuotas",
        summary: "My quotas per group and my own: limit, used and left (null: no limit). Counted over orders not rejected, cancelled or retired",
        responses: {
          "200": ok("Quotas", {
            type: "object",
            required: ["user", "groups"],
            properties: {
              user: { allOf: [{ type: "object", properties: { id: { type: "string", format: "uuid" }, email: { type: "string" } } }, quotaState] },
              groups: {
                type: "array",
                items: {
                  allOf: [
                    { type: "object", properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, kind: { enum: ["pool", "course"] }, role: { enum: ["customer", "approver"] } } },
                    quotaState,
                  ],
                },
              },
            },
          }),
          ...unauthorized,
        },
      },
    },
    "/api/v1/quotas/groups/{id}": {
      put: {
        operationId: "setGroupQuota",
        summary: "Set all of a group's limits (admins): every field, each a whole number or null (no limit)",
        parameters: groupId,
        requestBody: body("QuotaLimits"),
        responses: {
          "200": ok("The limits", { type: "object", properties: { groupId: { type: "string", format: "uuid" }, limits } }),
          ...unauthorized,
          ...adminsChange,
          ...noGroup,
          ...bodyRejected("Invalid limits: a limit missing, or not a whole number of at least 0 or null"),
        },
      },
      patch: {
        operationId: "changeGroupQuota",
        summary: "Change some of a group's limits (admins): the fields sent, at least one; the others keep their value",
        parameters: groupId,
        requestBody: body("QuotaLimitsPatch"),
        responses: {
          "200": ok("The limits", { type: "object", properties: { groupId: { type: "string", format: "uuid" }, limits } }),
          ...unauthorized,
          ...adminsChange,
          ...noGroup,
          ...bodyRejected("Invalid limits: none sent, or one not a whole number of at least 0 or null"),
        },
      },
    },
    "/api/v1/quotas/users/{id}": {
      get: {
        operationId: "getUserQuota",
        summary: "A user's own limits (admins); no limits for an id that has none set",
        parameters: [uuidParam("id", "The user's id")],
        responses: {
          "200": ok("The limits", userLimits),
          ...unauthorized,
          ...adminsOnly,
          ...notFound("The id is not a UUID"),
        },
      },
      put: {
        operationId: "setUserQuota",
        summary: "Set all of a user's own limits across all groups (admins): every field, each a whole number or null (no limit)",
        parameters: [uuidParam("id", "The user's id")],
        requestBody: body("QuotaLimits"),
        responses: {
          "200": ok("The limits", userLimits),
          ...unauthorized,
          ...adminsChange,
          ...notFound("No such user"),
          ...bodyRejected("Invalid limits: a limit missing, or not a whole number of at least 0 or null"),
        },
      },
      patch: {
        operationId: "changeUserQuota",
        summary: "Change some of a user's own limits (admins): the fields sent, at least one; the others keep their value",
        parameters: [uuidParam("id", "The user's id")],
        requestBody: body("QuotaLimitsPatch"),
        responses: {
          "200": ok("The limits", userLimits),
          ...unauthorized,
          ...adminsChange,
          ...notFound("No such user"),
          ...bodyRejected("Invalid limits: none sent, or one not a whole number of at least 0 or null"),
        },
      },
    },
    "/api/v1/policies": {
      get: {
        operationId: "listPolicyRules",
        summary: "Approval rules in order, each with its explanation (admins, approvers)",
        responses: { "200": ok("Rules, first rule first", rulesList), ...unauthorized, ...forbidden("admins and approvers only") },
      },
      post: {
        operationId: "createPolicyRule",
        summary: "Add a rule (admins), at `position` or at the end",
        requestBody: body("RuleInput"),
        responses: { "201": ok("Created", ref("PolicyRule")), ...unauthorized, ...adminsChange, ...bodyRejected("Invalid rule: a condition or outcome that is not one the engine knows; a message per field") },
      },
    },
    "/api/v1/policies/{id}": {
      patch: {
        operationId: "updatePolicyRule",
        summary: "Change a rule or move it (admins)",
        parameters: [uuidParam("id", "The rule's id")],
        requestBody: body("RuleUpdate"),
        responses: { "200": ok("The rule", ref("PolicyRule")), ...unauthorized, ...adminsChange, ...notFound("No such rule"), ...bodyRejected() },
      },
      delete: {
        operationId: "deletePolicyRule",
        summary: "Delete a rule (admins)",
        parameters: [uuidParam("id", "The rule's id")],
        responses: { ...noContent("Deleted"), ...unauthorized, ...adminsChange, ...notFound("No such rule") },
      },
    },
    "/api/v1/policies/reorder": {
      post: {
        operationId: "reorderPolicyRules",
        summary: "Put the rules in a new order: every rule id once, first rule first (admins)",
        requestBody: body("RuleOrder"),
        responses: { "200": ok("Rules in the new order", rulesList), ...unauthorized, ...adminsChange, ...bodyRejected("Not every rule's id exactly once") },
      },
    },
    "/api/v1/orders/{id}/preflight": {
      get: {
        operationId: "getOrderPreflight",
        summary: "Would the order succeed if approved now? Host kind, capacity, a free address per network, quota, group offer (approvers of its group, admins)",
        parameters: [uuidParam("id", "The order's id")],
        responses: {
          "200": ok("Checks, computed now", ref("Preflight")),
          ...unauthorized,
          ...forbidden("only approvers of the order's group and admins see its pre-flight (its customer sees the order, not this)"),
          ...notFound("No such order, or not one you may see"),
        },
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
        members: { type: "array", items: ref("GroupMember") },
      },
    },
    MyGroup: {
      type: "object",
      description: "A group as its member sees it in the list (not an admin)",
      properties: {
        id: { type: "string" }, slug: { type: "string" }, name: { type: "string" }, kind: { enum: ["pool", "course"] }, autoApprove: { type: "boolean" },
        role: { enum: ["customer", "approver"], description: "My role in it" },
      },
    },
    GroupMember: {
      type: "object",
      properties: {
        userId: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" },
        userRole: { enum: ["admin", "approver", "customer", "student"], description: "The user's role in the portal" },
        role: { enum: ["customer", "approver"], description: "The role in this group" },
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
