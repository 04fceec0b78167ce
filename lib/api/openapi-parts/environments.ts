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
  },
  schemas: {
    EnvironmentAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["start", "stop", "migrate", "move", "snapshot", "revert", "delete_snapshot", "resize"] },
        status: { enum: ["held", "queued", "running", "succeeded", "failed"], description: "held: a resize waiting for an approver" },
        environmentId: { type: "string", format: "uuid" },
        snapshotId: { type: ["string", "null"], format: "uuid", description: "The snapshot a snapshot, revert or delete action works on" },
      },
    },
  },
};
