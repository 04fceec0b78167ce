import { action, body, errors, idParam, ok, ref, schema } from "./openapi-helpers";
import { openApiParts } from "./openapi-parts";
import { newUserInput } from "../db/queries/users";
import { decisionInput, orderInput, rejectInput } from "../validation/order";
import { sshKeyInput } from "../validation/ssh-key";
import { networkInput } from "../validation/network";
import { imageInput } from "../validation/image";

/** The OpenAPI 3.1 document served at /api/v1/openapi.json. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Environment portal API",
      version: "1",
      description:
        "Order Linux and Solaris environments and follow their delivery. Authenticate with `Authorization: Bearer <token>` (create a token on the Account page or with POST /api/v1/tokens) or a browser session. Request bodies are JSON objects sent with `Content-Type: application/json` (or another `+json` type), else 415; invalid JSON, a body that is not an object, an unknown field, or a string with a NUL or an unpaired surrogate (in the body, the query or the path) is a 422 with a message per field.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      ...Object.assign({}, ...openApiParts.map((p) => p.paths)),
      "/api/health": { get: { summary: "Database and Redis status", security: [], responses: { "200": ok("Both up"), "503": ok("Either is down") } } },
      "/api/v1/catalog": {
        get: {
          summary: "Images, flavors and networks",
          parameters: [
            { name: "os", in: "query", schema: { enum: ["linux", "solaris"] } },
            { name: "kind", in: "query", schema: { enum: ["sim", "qemu", "xen", "zones"] } },
          ],
          responses: { "200": ok("The catalog"), "401": errors["401"] },
        },
      },
      "/api/v1/orders": {
        get: {
          summary: "My orders (all for admins; scope=approvals for the approval queue), newest first, 50 a page",
          parameters: [
            { name: "scope", in: "query", schema: { enum: ["mine", "all", "approvals"] } },
            { name: "page", in: "query", schema: { type: "integer", minimum: 1, default: 1 } },
          ],
          responses: {
            "200": ok("A page of orders; hasMore says whether a next page exists", {
              type: "object",
              properties: { orders: { type: "array", items: { type: "object" } }, page: { type: "integer" }, hasMore: { type: "boolean" } },
            }),
            "401": errors["401"],
            "422": errors["422"],
          },
        },
        post: {
          summary: "Order an environment (image and flavor by id or slug)",
          requestBody: body("OrderInput"),
          responses: {
            "201": ok("Created; status is pending_approval or queued, reason says which rule decided", ref("OrderCreated")),
            ...errors,
          },
        },
      },
      "/api/v1/orders/{id}": { get: { summary: "An order with its steps and environment", parameters: idParam, responses: { "200": ok("The order", ref("Order")), ...errors } } },
      "/api/v1/orders/{id}/events": {
        get: {
          summary: "Live updates (server-sent events): `event: snapshot` with the order JSON at connect and on every change",
          parameters: idParam,
          responses: { "200": { description: "text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } }, ...errors },
        },
      },
      "/api/v1/orders/{id}/approve": action("Approve a held order (approvers of its group, admins)", body("DecisionInput")),
      "/api/v1/orders/{id}/reject": action("Reject a held order with a reason", body("RejectInput")),
      "/api/v1/orders/{id}/cancel": action("Cancel an order that is not delivered yet (tears down what was built)"),
      "/api/v1/orders/{id}/retry": action("Retry a failed pipeline from its failed step"),
      "/api/v1/orders/{id}/destroy": action("Destroy the delivered environment and free its addresses"),
      "/api/v1/users": {
        get: { summary: "Users (admins)", responses: { "200": ok("Users"), ...errors } },
        post: { summary: "Create a user (admins)", requestBody: body("NewUser"), responses: { "201": ok("Created"), ...errors } },
      },
      "/api/v1/tokens": {
        get: { summary: "My API tokens (never the token itself)", responses: { "200": ok("Tokens") } },
        post: {
          summary: "Create a personal API token; the token is in this response only",
          requestBody: { content: { "application/json": { schema: { type: "object", properties: { name: { type: "string" } } } } } },
          responses: { "201": ok("Created", { type: "object", properties: { id: { type: "string" }, token: { type: "string" } } }), ...errors },
        },
      },
      "/api/v1/tokens/{id}": { delete: { summary: "Revoke a token", parameters: idParam, responses: { "204": { description: "Revoked" }, ...errors } } },
      "/api/v1/me/ssh-key": {
        get: { summary: "Your SSH public key and its SHA256 fingerprint (null when none is set)", responses: { "200": ok("The key", ref("SshKey")), "401": errors["401"] } },
        put: {
          summary: "Set the SSH public key installed in the environments you order from now on (one authorized_keys line, checked strictly)",
          requestBody: body("SshKeyInput"),
          responses: { "200": ok("Saved", ref("SshKey")), "401": errors["401"], "422": errors["422"] },
        },
        delete: { summary: "Remove your SSH public key", responses: { "204": { description: "Removed" }, "401": errors["401"] } },
      },
      "/api/v1/networks": {
        get: {
          summary: "Networks with their free guest addresses",
          responses: {
            "200": ok("Networks", { type: "object", properties: { networks: { type: "array", items: ref("Network") } } }),
            "401": errors["401"],
          },
        },
        post: {
          summary: "Add a network (admins); 409 when the slug is taken or the CIDR overlaps another network, which the message names",
          requestBody: body("NewNetwork"),
          responses: { "201": ok("Created"), ...errors, "409": ok("Slug taken, or CIDR overlaps an existing network", ref("Error")) },
        },
      },
      "/api/v1/images": {
        post: {
          summary: "Add an image to the catalog (admins); 409 when the slug is taken",
          requestBody: body("NewImage"),
          responses: { "201": ok("Created"), ...errors, "409": ok("Slug taken", ref("Error")) },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token" },
      },
      responses: { Unauthorized: ok("Not signed in and no valid token", ref("Error")) },
      schemas: {
        ...Object.assign({}, ...openApiParts.map((p) => p.schemas ?? {})),
        OrderInput: schema(orderInput),
        DecisionInput: schema(decisionInput),
        RejectInput: schema(rejectInput),
        NewUser: schema(newUserInput),
        NewNetwork: schema(networkInput),
        NewImage: schema(imageInput),
        SshKeyInput: schema(sshKeyInput),
        SshKey: { type: "object", properties: { sshPublicKey: { type: ["string", "null"] }, fingerprint: { type: ["string", "null"] } } },
        Network: {
          type: "object",
          properties: {
            id: { type: "string" }, slug: { type: "string" }, name: { type: "string" }, purpose: { enum: ["service", "production"] },
            cidr: { type: "string" }, gateway: { type: "string" }, free: { type: "integer" },
          },
        },
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: { type: "string" },
            fields: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
            requestId: { type: "string" },
          },
        },
        OrderCreated: { type: "object", properties: { id: { type: "string" }, status: { type: "string" }, reason: { type: "string" } } },
        Order: {
          type: "object",
          properties: {
            id: { type: "string" },
            status: { enum: ["pending_approval", "queued", "provisioning", "ready", "failed", "rejected", "cancelled", "expiring", "retiring", "retired"] },
            reason: { type: ["string", "null"] },
            policy: {
              type: ["object", "null"],
              description: "The policy decision at submission: the rule (or default) that decided and why, in words",
              properties: { outcome: { enum: ["approve", "hold", "refuse"] }, rule: { type: "string" }, ruleKey: { type: "string" }, explanation: { type: "string" } },
            },
            steps: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  name: { type: "string" }, status: { type: "string" }, attempt: { type: "integer" },
                  startedAt: { type: ["string", "null"] }, finishedAt: { type: ["string", "null"] },
                },
              },
            },
            environment: {
              type: "object",
              properties: {
                id: { type: "string" }, hostname: { type: "string" }, host: { type: "string" }, state: { type: "string" },
                addresses: { type: "array", items: { type: "object", properties: { network: { type: "string" }, ip: { type: "string" }, mac: { type: "string" } } } },
                migrations: { type: "array", description: "Live migrations to other hosts, newest first", items: { $ref: "#/components/schemas/Migration" } },
              },
            },
          },
        },
      },
    },
  };
}
