import { errors, idParam, ok, ref, type OpenApiPart } from "../openapi-helpers";

const queued = ok("Accepted: the action is queued; follow it on the order (GET /api/v1/orders/{orderId})", ref("EnvironmentAction"));

function environmentAction(summary: string) {
  return {
    post: {
      summary,
      parameters: idParam,
      responses: {
        "202": queued,
        ...errors,
        "404": ok("No such environment, or not yours", ref("Error")),
        "409": ok("Not possible in the environment's state (the message says why: already running, an action in progress, order not delivered)", ref("Error")),
      },
    },
  };
}

/** Lifecycle of a delivered environment (the id is the environment's, from the order's `environment.id`). */
export const environmentsPart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/start": environmentAction("Start a stopped environment (its customer or an admin); ready again when the guest reports in"),
    "/api/v1/environments/{id}/stop": environmentAction("Stop a running environment: orderly shutdown, forced after a timeout; disk and addresses stay"),
  },
  schemas: {
    EnvironmentAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["start", "stop", "migrate", "move"] },
        status: { enum: ["queued", "running", "succeeded", "failed"] },
        environmentId: { type: "string", format: "uuid" },
      },
    },
  },
};
