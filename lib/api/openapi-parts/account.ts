import { newUserInput } from "../../users/input";
import { sshKeyInput } from "../../validation/ssh-key";
import { emailChoicesInput } from "../../notifications/input";
import { notificationEvents } from "../../db/schema/enums";
import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, noContent, notFound, ok, ref, schema, unauthorized, uuidParam, invalidPage, listPageOk, listPageParams, type OpenApiPart,
} from "../openapi-helpers";

const role = { enum: ["admin", "approver", "customer", "student"] };
const token = {
  id: { type: "string", format: "uuid" },
  name: { type: "string" },
  prefix: { type: "string", description: "The token's first characters, to tell tokens apart" },
  createdAt: { type: "string", format: "date-time" },
};

/** Users (admins), my API tokens, my SSH key and my e-mail preferences. */
export const accountPart: OpenApiPart = {
  paths: {
    "/api/v1/users": {
      get: {
        operationId: "listUsers",
        summary: "Users by e-mail, one page (admins)",
        parameters: listPageParams("Users"),
        responses: {
          "200": listPageOk("Users by e-mail, one page", "users", ref("User")),
          ...unauthorized,
          ...forbidden("admins only"),
          ...invalidPage,
        },
      },
      post: {
        operationId: "createUser",
        summary: "Create a user in a group, the first (default) group unless named (admins)",
        requestBody: body("NewUser"),
        responses: {
          "201": ok("Created", {
            type: "object",
            required: ["id", "email", "role", "group"],
            properties: { id: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, role, group: { type: "string", description: "The group's slug" } },
          }),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...conflict("A user with that e-mail already exists"),
          ...bodyRejected("Invalid user: a field missing or wrong, or no group with that slug; a message per field"),
        },
      },
    },
    "/api/v1/tokens": {
      get: {
        operationId: "listTokens",
        summary: "My API tokens (never the token itself)",
        responses: {
          "200": ok("My tokens", {
            type: "object",
            required: ["tokens"],
            properties: { tokens: { type: "array", items: { type: "object", properties: { ...token, lastUsedAt: { type: ["string", "null"], format: "date-time" } } } } },
          }),
          ...unauthorized,
        },
      },
      post: {
        operationId: "createToken",
        summary: "Create a personal API token; the token is in this response only",
        requestBody: { required: false, content: { "application/json": { schema: ref("TokenInput") } } },
        responses: {
          "201": ok("Created: keep `token`, the portal stores only its hash", {
            type: "object",
            required: ["id", "token"],
            properties: { ...token, token: { type: "string", description: "Send as Authorization: Bearer <token>" } },
          }),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...bodyRejected("Invalid name (empty or longer than 100 characters), or an unknown field"),
        },
      },
    },
    "/api/v1/tokens/{id}": {
      delete: {
        operationId: "revokeToken",
        summary: "Revoke one of my tokens",
        parameters: [uuidParam("id", "The token's id")],
        responses: { ...noContent("Revoked"), ...unauthorized, ...forbidden(CROSS_SITE), ...notFound("No such token of yours") },
      },
    },
    "/api/v1/me": {
      get: {
        operationId: "getMe",
        summary: "Who the token or session belongs to: e-mail, name, role, how they sign in, and their groups",
        responses: { "200": ok("You", ref("Me")), ...unauthorized },
      },
    },
    "/api/v1/me/ssh-key": {
      get: {
        operationId: "getSshKey",
        summary: "Your SSH public key and its SHA256 fingerprint (null when none is set)",
        responses: { "200": ok("The key", ref("SshKey")), ...unauthorized },
      },
      put: {
        operationId: "setSshKey",
        summary: "Set the SSH public key installed in the environments you order from now on (one authorized_keys line, checked strictly)",
        requestBody: body("SshKeyInput"),
        responses: {
          "200": ok("Saved", ref("SshKey")),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...bodyRejected("Not one public key line of a supported type, or an unknown field"),
        },
      },
      delete: {
        operationId: "deleteSshKey",
        summary: "Remove your SSH public key",
        responses: { ...noContent("Removed"), ...unauthorized, ...forbidden(CROSS_SITE) },
      },
    },
    "/api/v1/me/email-preferences": {
      get: {
        operationId: "getEmailPreferences",
        summary: "Which kinds of event you get by e-mail (in the app you always do), and whether the portal has a mail server",
        responses: { "200": ok("Your choices", ref("EmailPreferences")), ...unauthorized },
      },
      patch: {
        operationId: "setEmailPreferences",
        summary: "Turn e-mail on or off per kind of event; kinds left out keep their setting",
        requestBody: body("EmailPreferencesInput"),
        responses: {
          "200": ok("Saved: all your choices", ref("EmailPreferences")),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...bodyRejected("email missing, a key that is not a kind of event, a value that is not true or false, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    NewUser: schema(newUserInput),
    EmailPreferencesInput: schema(emailChoicesInput),
    EmailPreferences: {
      type: "object",
      required: ["email", "mailServer"],
      properties: {
        email: {
          type: "object",
          description: "Per kind of event: e-mailed (true) or in the app only (false)",
          required: [...notificationEvents],
          properties: Object.fromEntries(notificationEvents.map((e) => [e, { type: "boolean" }])),
          additionalProperties: false,
        },
        mailServer: { type: "boolean", description: "Whether the portal sends e-mail at all (SMTP_URL is set)" },
      },
    },
    TokenInput: {
      type: "object",
      additionalProperties: false,
      properties: { name: { type: "string", minLength: 1, maxLength: 100, default: "API token" } },
    },
    SshKeyInput: schema(sshKeyInput),
    Me: {
      type: "object",
      required: ["id", "email", "name", "role", "authSource", "groups"],
      properties: {
        id: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, role,
        authSource: { enum: ["local", "ldap", "oidc"], description: "A local password, the directory (LDAP) or single sign-on (OIDC)" },
        groups: {
          type: "array",
          items: { type: "object", required: ["slug", "name", "as"], properties: { slug: { type: "string" }, name: { type: "string" }, as: { enum: ["customer", "approver"] } } },
        },
      },
    },
    SshKey: { type: "object", properties: { sshPublicKey: { type: ["string", "null"] }, fingerprint: { type: ["string", "null"] } } },
    User: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, role,
        disabled: { type: "boolean" }, createdAt: { type: "string", format: "date-time" },
      },
    },
  },
};
