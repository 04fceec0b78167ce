import { conflict, CROSS_SITE, forbidden, notFound, ok, ref, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const queued = ok("Accepted: the action is queued; follow it on the order (GET /api/v1/orders/{orderId})", ref("EnvironmentAction"));

function environmentAction(operationId: string, summary: string) {
  return {
    post: {
      operationId,
      summary,
      parameters: [uuidParam("id", "The environment's id (the order's `environment.id`)")],
      responses: {
        "202": queued,
        ...unauthorized,
        ...forbidden("only the customer who ordered it or an admin can do that", CROSS_SITE),
        ...notFound("No such environment, or not one you may see"),
        ...conflict("Not possible in the environment's state (the message says why: already running or stopped, an action in progress, not delivered yet, a host kind the portal cannot start or stop)"),
      },
    },
  };
}

/** Lifecycle of a delivered environment (the id is the environment's, from the order's `environment.id`). */
export const environmentsPart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/start": environmentAction("startEnvironment", "Start a stopped environment (its customer or an admin); ready again when the guest reports in"),
    "/api/v1/environments/{id}/stop": environmentAction("stopEnvironment", "Stop a running environment: orderly shutdown, forced after a timeout; disk and addresses stay"),
    "/api/v1/environments/{id}/credentials": {
      post: {
        operationId: "changeCredentials",
        summary:
          "A new password for the environment's service (a database: its owner's), its customer or an admin. The portal makes the password (24 letters and digits), sends the running guest only what its recipe's hook takes (the password's SCRAM-SHA-256 verifier) and waits until the guest has set it (up to 3 minutes); then this response holds the password, once: the portal keeps only its sha256, and the old password no longer works. Audited without the password. Until the guest confirms, the old password keeps working.",
        parameters: [uuidParam("id", "The environment's id (the order's `environment.id`)")],
        responses: {
          "200": ok("The new password, shown this once", {
            type: "object",
            required: ["name", "label", "password", "actionId", "note"],
            properties: {
              name: { type: "string", description: "The recipe's secret output it replaces, e.g. password" },
              label: { type: "string" },
              password: { type: "string", pattern: "^[A-Za-z0-9]{24}$" },
              actionId: { type: "string", format: "uuid", description: "The environment's `credentials` action that set it" },
              note: { type: "string" },
            },
          }),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin can do that", CROSS_SITE),
          ...notFound("No such environment, or not one you may see"),
          ...conflict(
            "Not possible: the environment's recipe has no password to change, the environment is not delivered or not running, another action is in progress, the host kind cannot reach inside its guests, or the guest refused the new password (the message says which; the old password still works)",
          ),
          "503": { description: "The guest did not confirm within 3 minutes; it may still take the new password: ask again once the environment's page shows the change done or failed", content: { "application/json": { schema: ref("Error") } } },
        },
      },
    },
  },
  schemas: {
    EnvironmentAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["start", "stop", "migrate", "move", "snapshot", "revert", "delete_snapshot", "resize", "credentials"] },
        status: { enum: ["held", "queued", "running", "succeeded", "failed"], description: "held: a resize waiting for an approver" },
        environmentId: { type: "string", format: "uuid" },
        snapshotId: { type: ["string", "null"], format: "uuid", description: "The snapshot a snapshot, revert or delete action works on" },
      },
    },
  },
};
