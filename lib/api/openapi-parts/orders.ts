import { orderStatuses } from "../../db/schema";
import { decisionInput, orderInput, rejectInput } from "../../orders/input";
import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, invalid, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";

const orderId = [uuidParam("id", "The order's id")];
const waitingForSchema = { type: ["string", "null"], description: "Why the run is not moving: \"waiting for worker X (offline since T)\" while its host's owning worker is offline" };
const noOrder = notFound("No such order, or not one you may see (yours, your groups' as an approver, or any as an admin)");
const newState = (description: string, extra: Record<string, object> = {}) =>
  ok(description, { type: "object", required: ["id", "status"], properties: { id: { type: "string", format: "uuid" }, status: { enum: [...orderStatuses] }, ...extra } });
const ownerOnly = forbidden("only the customer who ordered it or an admin can do that", CROSS_SITE);

/** Orders: list, order, follow (snapshot and live events), and each decision or action on one. */
export const ordersPart: OpenApiPart = {
  paths: {
    "/api/v1/orders": {
      get: {
        operationId: "listOrders",
        summary: "My orders (all for admins; scope=approvals for the approval queue, oldest first), newest first, 50 a page",
        parameters: [
          { name: "scope", in: "query", description: "mine (the default for others), all (admins only; their default) or approvals (held orders I may decide, oldest first)", schema: { enum: ["mine", "all", "approvals"] } },
          { name: "page", in: "query", schema: { type: "integer", minimum: 1, maximum: 100000, default: 1 } },
          { name: "cursor", in: "query", description: "The previous page's nextCursor (instead of page; as fast on any page)", schema: { type: "string" } },
        ],
        responses: {
          "200": ok("A page of orders; hasMore says whether a next page exists", {
            type: "object",
            required: ["orders", "page", "hasMore", "nextCursor"],
            properties: {
              orders: { type: "array", items: ref("OrderSummary") },
              page: { type: "integer" },
              hasMore: { type: "boolean" },
              nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last" },
            },
          }),
          ...unauthorized,
          ...forbidden("scope=all is for admins only"),
          ...invalid("Unknown scope, page not a whole number from 1 to 100000, or a cursor that is not one from this list"),
        },
      },
      post: {
        operationId: "createOrder",
        summary: "Order an environment (image and flavor by id or slug)",
        requestBody: body("OrderInput"),
        responses: {
          "201": ok("Created; status is pending_approval or queued, reason says which rule decided", ref("OrderCreated")),
          ...unauthorized,
          ...forbidden("a policy rule refuses such an order (the message is the rule's explanation)", CROSS_SITE),
          ...conflict("Not possible now: you are in no group yet, the name is used by another environment, or the order is over a quota (the message says which)"),
          ...bodyRejected("Invalid order: a field missing or wrong, an image, flavor or network that does not exist or that the group does not offer, or a group that is not yours; a message per field"),
        },
      },
    },
    "/api/v1/orders/{id}": {
      get: {
        operationId: "getOrder",
        summary: "An order with its steps and environment",
        parameters: orderId,
        responses: { "200": ok("The order", ref("Order")), ...unauthorized, ...noOrder },
      },
    },
    "/api/v1/orders/{id}/events": {
      get: {
        operationId: "streamOrderEvents",
        summary: "Live updates (server-sent events): `event: snapshot` with the order JSON at connect and on every change",
        parameters: orderId,
        responses: {
          "200": {
            description: "An event stream: `retry: 2000`, then `event: snapshot` messages whose data is the order as GET /api/v1/orders/{id} gives it, and keep-alive comments",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          ...unauthorized,
          ...noOrder,
        },
      },
    },
    "/api/v1/orders/{id}/approve": {
      post: {
        operationId: "approveOrder",
        summary: "Approve a held order (approvers of its group, admins); a failed pre-flight needs override and a reason",
        parameters: orderId,
        requestBody: body("DecisionInput"),
        responses: {
          "200": newState("Approved and queued"),
          ...unauthorized,
          ...forbidden("only approvers of the order's group and admins decide on it", CROSS_SITE),
          ...noOrder,
          ...conflict("The order is not waiting for approval, or its pre-flight failed and no override was given (the failed checks are listed under `preflight`)"),
          ...bodyRejected(),
        },
      },
    },
    "/api/v1/orders/{id}/reject": {
      post: {
        operationId: "rejectOrder",
        summary: "Reject a held order with a reason",
        parameters: orderId,
        requestBody: body("RejectInput"),
        responses: {
          "200": newState("Rejected", { reason: { type: ["string", "null"] } }),
          ...unauthorized,
          ...forbidden("only approvers of the order's group and admins decide on it", CROSS_SITE),
          ...noOrder,
          ...conflict("The order is not waiting for approval"),
          ...bodyRejected("No reason given, or it is too long"),
        },
      },
    },
    "/api/v1/orders/{id}/cancel": {
      post: {
        operationId: "cancelOrder",
        summary: "Cancel an order that is not delivered yet (tears down what was built)",
        parameters: orderId,
        responses: { "200": newState("Cancelled"), ...unauthorized, ...ownerOnly, ...noOrder, ...conflict("The order can no longer be cancelled (delivered, or already ended)") },
      },
    },
    "/api/v1/orders/{id}/retry": {
      post: {
        operationId: "retryOrder",
        summary: "Retry a failed pipeline from its failed step",
        parameters: orderId,
        responses: { "200": newState("Running again from the failed step"), ...unauthorized, ...ownerOnly, ...noOrder, ...conflict("Only a failed pipeline can be retried") },
      },
    },
    "/api/v1/orders/{id}/destroy": {
      post: {
        operationId: "destroyOrderEnvironment",
        summary: "Destroy the delivered environment and free its addresses",
        parameters: orderId,
        responses: { "200": newState("Being torn down (retiring)"), ...unauthorized, ...ownerOnly, ...noOrder, ...conflict("Only a delivered (ready) environment can be destroyed") },
      },
    },
  },
  schemas: {
    OrderInput: schema(orderInput),
    DecisionInput: schema(decisionInput),
    RejectInput: schema(rejectInput),
    OrderCreated: {
      type: "object",
      required: ["id", "status"],
      properties: {
        id: { type: "string", format: "uuid" },
        status: { enum: ["pending_approval", "queued"] },
        reason: { type: ["string", "null"], description: "Why, in words" },
        rule: { type: "string", description: "The policy rule (or default) that decided" },
      },
    },
    OrderSummary: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, name: { type: "string" }, status: { enum: [...orderStatuses] }, reason: { type: ["string", "null"] },
        purpose: { enum: ["test", "development", "database", "web"] }, leaseDays: { type: "integer" },
        createdAt: { type: "string", format: "date-time" }, readyAt: { type: ["string", "null"], format: "date-time" },
        image: { type: "string" }, imageSlug: { type: "string" }, flavor: { type: "string" }, owner: { type: "string", description: "The customer's e-mail" }, group: { type: "string" },
        imageVersion: { type: ["integer", "null"], description: "The image version the environment was (last) built from; null before it is built" },
        outdated: { type: "boolean", description: "Built from an older version than the image's current one" },
      },
    },
    OrderStep: {
      type: "object",
      required: ["name", "label", "status"],
      properties: {
        name: { type: "string" }, label: { type: "string", description: "The step in words" }, status: { type: "string" }, attempt: { type: "integer" },
        startedAt: { type: ["string", "null"] }, finishedAt: { type: ["string", "null"] },
        durationMs: { type: ["integer", "null"] }, error: { type: ["string", "null"] },
        worker: { type: ["string", "null"], description: "The worker (WORKER_ID) that ran the step's latest attempt" },
        log: { type: "array", description: "The step's last log lines", items: { type: "object", properties: { attempt: { type: "integer" }, line: { type: "string" }, at: { type: "string" } } } },
      },
    },
    Order: {
      type: "object",
      required: ["id", "name", "status", "steps", "final"],
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        status: { enum: [...orderStatuses] },
        reason: { type: ["string", "null"] },
        owner: { type: "string", description: "The customer's e-mail" },
        group: { type: "string" },
        image: {
          type: "object",
          properties: {
            id: { type: "string" }, slug: { type: "string" }, name: { type: "string" }, os: { type: "string" },
            currentVersion: { type: ["integer", "null"], description: "The image's current version (what a reinstall builds)" },
            currentChangelog: { type: ["string", "null"], description: "What changed in it" },
          },
        },
        flavor: { type: "object", properties: { id: { type: "string" }, slug: { type: "string" }, name: { type: "string" }, vcpus: { type: "integer" }, memoryMb: { type: "integer" }, diskGb: { type: "integer" } } },
        createdAt: { type: "string", format: "date-time" },
        readyAt: { type: ["string", "null"], format: "date-time" },
        final: { type: "boolean", description: "The order is over (rejected, cancelled or retired) and no run is still recording: nothing changes any more" },
        policy: {
          type: ["object", "null"],
          description: "The policy decision at submission: the rule (or default) that decided and why, in words",
          properties: { outcome: { enum: ["approve", "hold", "refuse"] }, rule: { type: "string" }, ruleKey: { type: "string" }, explanation: { type: "string" } },
        },
        hold: {
          type: ["object", "null"],
          description:
            "A failed order: what it keeps for a retry (its host and addresses) and until when (FAILED_HOLD_HOURS after it failed); " +
            "then they are released and a retry starts again from choosing a host. null for other orders",
          properties: {
            state: { enum: ["holding", "releasing", "released", "release_failed"] },
            until: { type: "string", format: "date-time", description: "holding: when the release runs" },
            at: { type: ["string", "null"], format: "date-time", description: "released: when" },
            error: { type: ["string", "null"], description: "release_failed: why" },
          },
        },
        run: {
          type: ["object", "null"],
          description: "The delivery run; null before there is one",
          properties: { id: { type: "string" }, status: { type: "string" }, attempt: { type: "integer" }, error: { type: ["string", "null"] }, waitingFor: waitingForSchema },
        },
        steps: { type: "array", description: "The delivery pipeline's steps, in order", items: ref("OrderStep") },
        teardown: {
          type: ["object", "null"],
          description: "The teardown run (destroy, cancel, retire) with its steps; null when there is none",
          properties: { status: { type: "string" }, waitingFor: waitingForSchema, steps: { type: "array", items: ref("OrderStep") } },
        },
        environment: {
          type: "object",
          properties: {
            id: { type: "string" }, hostname: { type: "string" }, host: { type: "string" }, state: { type: "string" },
            addresses: { type: "array", items: { type: "object", properties: { network: { type: "string" }, ip: { type: "string" }, mac: { type: "string" } } } },
            migrations: { type: "array", description: "Live migrations to other hosts, newest first", items: ref("Migration") },
            snapshots: { type: "array", description: "The environment's snapshots, oldest first", items: ref("Snapshot") },
            day2: {
              type: "array",
              description: "The latest snapshot, revert, snapshot deletion and resize actions, newest first",
              items: {
                type: "object",
                properties: {
                  id: { type: "string", format: "uuid" },
                  action: { enum: ["snapshot", "revert", "delete_snapshot", "resize"] },
                  status: { enum: ["held", "queued", "running", "succeeded", "failed"], description: "held: a resize waiting for an approver" },
                  note: { type: ["string", "null"], description: "What it is doing now" },
                  error: { type: ["string", "null"] },
                  snapshot: { type: ["string", "null"], description: "The snapshot's name" },
                  flavor: { type: ["string", "null"], description: "A resize's new size" },
                  createdAt: { type: "string", format: "date-time" },
                  finishedAt: { type: ["string", "null"], format: "date-time" },
                },
              },
            },
            serviceIps: { type: "array", description: "Service IPs pointing at the environment, or on their way to it (a queued or running attach)", items: ref("ServiceIp") },
            connection: {
              description: "How the owner logs in; null until delivered, while it has no address, and once it is being destroyed",
              oneOf: [ref("Connection"), { type: "null" }],
            },
            imageVersion: { type: ["integer", "null"], description: "The version of its image it was (last) built from (the resolve step records it); null before" },
            outdated: { type: "boolean", description: "Built from an older version than the image's current one: a reinstall or a patch campaign brings it up to date" },
          },
        },
        lease: { description: "The lease of a delivered order (also once it is retired); null before delivery", oneOf: [ref("Lease"), { type: "null" }] },
        recipe: ref("OrderRecipe"),
        accounts: {
          type: "array",
          description: "Accounts the order adds to the guest (uids from 1001, given by the portal); the number of SSH keys, not the keys",
          items: { type: "object", properties: { name: { type: "string" }, uid: { type: "integer" }, groups: { type: "array", items: { type: "string" } }, keys: { type: "integer" } } },
        },
        settings: {
          type: "object",
          description: "sysctl values and the service's environment variables the order set",
          properties: { sysctl: { type: "object", additionalProperties: { type: "string" } }, env: { type: "object", additionalProperties: { type: "string" } } },
        },
      },
    },
    Connection: {
      type: "object",
      required: ["user", "address", "command", "keys"],
      properties: {
        user: { type: "string", description: "The account the glue step installed the owner's key for (root)" },
        address: { type: "string", description: "The environment's first production address" },
        command: { type: "string", description: "What to type, e.g. `ssh root@10.30.0.5`" },
        keys: {
          type: "array",
          description: "The owner's SSH keys installed at delivery (the key's comment, else its type, and its SHA256 fingerprint); empty when none was",
          items: { type: "object", required: ["name", "fingerprint"], properties: { name: { type: "string" }, fingerprint: { type: "string" } } },
        },
        warning: { type: "string", description: "Present when no key was installed, or when which one was not recorded: why a key login may not work" },
        database: {
          type: "object",
          description: "A database environment (its recipe is a database): where its clients connect. The password is the recipe's secret output, shown once (or made anew with POST /api/v1/environments/{id}/credentials)",
          required: ["engine", "host", "port", "database", "user", "command"],
          properties: {
            engine: { enum: ["postgresql"] },
            host: { type: "string", description: "The environment's address (the same as `address`)" },
            port: { type: "integer", examples: [5432] },
            database: { type: "string" },
            user: { type: "string", description: "The database's owner (a login role)" },
            command: { type: "string", description: 'A psql command line, e.g. `psql "host=10.30.0.5 port=5432 dbname=inventory user=inv_app"`' },
          },
        },
      },
    },
  },
};
