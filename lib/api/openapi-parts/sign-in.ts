import { signInRuleInput, signInRuleUpdate, signInSettingsInput } from "../../auth/sign-in-input";
import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, noContent, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";

const adminsOnly = forbidden("admins only");
const adminsChange = forbidden("admins only", CROSS_SITE);
const ruleId = [uuidParam("id", "The rule's id")];
const duplicate = conflict("A rule with this group, role and portal group exists already");
const method = (what: string) => ({ type: ["object", "null"], description: `${what}; null when not configured`, properties: { name: { type: "string" } } });

/** Sign-in: how directory (LDAP) and single sign-on (OIDC) groups map to roles, and local sign-in. */
export const signInPart: OpenApiPart = {
  paths: {
    "/api/v1/sign-in/rules": {
      get: {
        operationId: "listSignInRules",
        summary: "Mapping rules: at every sign-in through the directory or single sign-on, a user gets the highest role of the rules their groups match, and each rule's group (admins)",
        responses: {
          "200": ok("The rules, by the group they match", { type: "object", required: ["rules"], properties: { rules: { type: "array", items: ref("SignInRule") } } }),
          ...unauthorized,
          ...adminsOnly,
        },
      },
      post: {
        operationId: "createSignInRule",
        summary: "Add a mapping rule (admins); the group is compared without case, DNs without spaces around , and =",
        requestBody: body("SignInRuleInput"),
        responses: {
          "201": ok("Created", ref("SignInRule")),
          ...unauthorized,
          ...adminsChange,
          ...duplicate,
          ...bodyRejected("Invalid rule: no group to match, an unknown role, or no portal group with that slug; a message per field"),
        },
      },
    },
    "/api/v1/sign-in/rules/{id}": {
      patch: {
        operationId: "updateSignInRule",
        summary: "Change a mapping rule (admins); it counts from each user's next sign-in",
        parameters: ruleId,
        requestBody: body("SignInRuleUpdate"),
        responses: {
          "200": ok("Changed", ref("SignInRule")),
          ...unauthorized,
          ...adminsChange,
          ...notFound("No such rule"),
          ...duplicate,
          ...bodyRejected("Invalid change: an empty group, an unknown role, or no portal group with that slug; a message per field"),
        },
      },
      delete: {
        operationId: "deleteSignInRule",
        summary: "Delete a mapping rule (admins); memberships it gave end at each user's next sign-in",
        parameters: ruleId,
        responses: { ...noContent("Deleted"), ...unauthorized, ...adminsChange, ...notFound("No such rule") },
      },
    },
    "/api/v1/sign-in/settings": {
      get: {
        operationId: "getSignInSettings",
        summary: "The sign-in methods configured, and whether local accounts are for admins only (admins)",
        responses: { "200": ok("The settings", ref("SignInSettings")), ...unauthorized, ...adminsOnly },
      },
      put: {
        operationId: "setSignInSettings",
        summary: "Turn local sign-in off for everyone but admins, or on again (admins)",
        requestBody: body("SignInSettingsInput"),
        responses: {
          "200": ok("Saved", ref("SignInSettings")),
          ...unauthorized,
          ...adminsChange,
          ...conflict("Local sign-in cannot be for admins only while no directory or single sign-on is configured"),
          ...bodyRejected("localAdminsOnly missing or not a boolean, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    SignInRuleInput: schema(signInRuleInput),
    SignInRuleUpdate: schema(signInRuleUpdate),
    SignInSettingsInput: schema(signInSettingsInput),
    SignInRule: {
      type: "object",
      required: ["id", "match", "role", "group"],
      properties: {
        id: { type: "string", format: "uuid" },
        match: { type: "string", description: "The group as compared: lowercase, DNs without spaces around , and =" },
        role: { enum: ["admin", "approver", "customer", "student"] },
        group: {
          type: ["object", "null"],
          description: "The portal group a matching user joins (as an approver for approver and admin rules)",
          properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" } },
        },
        createdAt: { type: "string", format: "date-time" },
      },
    },
    SignInSettings: {
      type: "object",
      required: ["localAdminsOnly", "methods"],
      properties: {
        localAdminsOnly: { type: "boolean", description: "Local passwords open admins' accounts only" },
        methods: {
          type: "object",
          required: ["local", "oidc", "ldap"],
          properties: {
            local: { type: "boolean", description: "Local accounts (always there, for admins at least)" },
            oidc: { ...method("Single sign-on (OIDC_ISSUER)"), properties: { name: { type: "string" }, issuer: { type: "string" } } },
            ldap: { ...method("The directory (LDAP_URL)"), properties: { name: { type: "string" }, url: { type: "string" } } },
          },
        },
      },
    },
  },
};
