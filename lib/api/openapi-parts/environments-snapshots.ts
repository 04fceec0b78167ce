import { reinstallInput, resizeDecisionInput, resizeInput, snapshotInput } from "../../lifecycle/input";
import { body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const envId = uuidParam("id", "The environment's id (the order's `environment.id`)");
const snapId = uuidParam("sid", "The snapshot's id");
const queued = ok("Accepted: the action is queued; follow it on the order (GET /api/v1/orders/{orderId})", ref("EnvironmentAction"));
const owner = forbidden("only the customer who ordered it or an admin can do that", CROSS_SITE);
const busy = "another action of the environment is queued or running (the message names it), the environment is not delivered, not running and not stopped, or its host kind has no snapshots";

/** Snapshots and resize of a delivered environment. */
export const environmentsSnapshotsPart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/snapshots": {
      get: {
        operationId: "listSnapshots",
        summary: "The environment's snapshots, oldest first (who may see the order)",
        parameters: [envId],
        responses: {
          "200": ok("The snapshots", { type: "object", required: ["snapshots"], properties: { snapshots: { type: "array", items: ref("Snapshot") } } }),
          ...unauthorized,
          ...notFound("No such environment, or not one you may see"),
        },
      },
      post: {
        operationId: "takeSnapshot",
        summary:
          "Take a snapshot of the environment: its disk, and its memory where the guest runs and the host kind saves it (QEMU: qcow2 internal snapshot, savevm; Xen: LVM snapshot; zones: ZFS snapshot of the zonepath). At most 10 per environment.",
        parameters: [envId],
        requestBody: body("SnapshotInput"),
        responses: {
          "202": queued,
          ...unauthorized,
          ...owner,
          ...notFound("No such environment, or not one you may see"),
          ...conflict(`A snapshot of that name exists, the environment has 10 snapshots already, or ${busy}`),
          ...bodyRejected("No name, a name too long or with other characters than letters, digits, spaces, dots, dashes and underscores"),
        },
      },
    },
    "/api/v1/environments/{id}/snapshots/{sid}/revert": {
      post: {
        operationId: "revertSnapshot",
        summary: "Put the environment back to a ready snapshot; its name, addresses and MACs stay. A snapshot with memory resumes the guest running where it was.",
        parameters: [envId, snapId],
        responses: {
          "202": queued,
          ...unauthorized,
          ...owner,
          ...notFound("No such environment or snapshot"),
          ...conflict(`The snapshot is not ready, or ${busy}`),
        },
      },
    },
    "/api/v1/environments/{id}/snapshots/{sid}": {
      delete: {
        operationId: "deleteSnapshot",
        summary: "Delete a snapshot (a ready or a failed one) on the host",
        parameters: [envId, snapId],
        responses: {
          "202": queued,
          ...unauthorized,
          ...owner,
          ...notFound("No such environment or snapshot"),
          ...conflict(`The snapshot is being made or deleted, or ${busy}`),
        },
      },
    },
    "/api/v1/environments/{id}/resize/{aid}/decision": {
      post: {
        operationId: "decideResize",
        summary: "Approve (queue) or reject a resize held for approval; approvers of the environment's group and admins. A rejection's reason shows to the owner.",
        parameters: [envId, uuidParam("aid", "The held resize action's id")],
        requestBody: body("ResizeDecisionInput"),
        responses: {
          "200": ok("The decided action: queued, or failed with the rejection", ref("EnvironmentAction")),
          ...unauthorized,
          ...forbidden("the owner cannot decide on their own resize", CROSS_SITE),
          ...notFound("No such held resize of this environment, or not in a group you approve for"),
          ...conflict("Already decided, or (approving) another action of the environment is queued or running or it is not running and not stopped"),
          ...bodyRejected("approve missing or not a boolean, a reason over 500 characters, or an unknown field"),
        },
      },
    },
    "/api/v1/environments/{id}/reinstall": {
      post: {
        operationId: "reinstallEnvironment",
        summary:
          "Rebuild the environment from the current golden image of its catalog image through the deploy pipeline (the order goes queued, then ready again; follow it on the order): name, host, addresses and MACs stay; the environment's snapshots are gone. Without keepData the disk is built again, so its files are gone; with `keepData: true` the data filesystem at /data stays: on QEMU hosts the new image boots on the same data disk (the guest's SSH host key on it stays too); on Solaris zones /data is a ZFS dataset of its own, set aside while the zone root is rebuilt; on Xen hosts the old root volume is set aside, /data is copied onto the new root with owners, modes and times, and the old volume is removed after the copy (if the copy fails the old volume is put back under its name, untouched, and the order fails saying so; a retry tries again). An empty body is a reinstall without keepData.",
        parameters: [envId],
        requestBody: { required: false, content: { "application/json": { schema: ref("ReinstallInput") } } },
        responses: {
          "202": ok("Accepted: the rebuild is queued", {
            type: "object",
            required: ["orderId", "environmentId", "runId", "status"],
            properties: {
              orderId: { type: "string", format: "uuid" },
              environmentId: { type: "string", format: "uuid" },
              runId: { type: "string", format: "uuid" },
              status: { enum: ["queued"] },
            },
          }),
          ...unauthorized,
          ...owner,
          ...notFound("No such environment, or not one you may see"),
          ...conflict("Another action of the environment is queued or running (the message names it), the environment is not delivered, not running and not stopped"),
          ...bodyRejected("keepData not a boolean, or an unknown field"),
        },
      },
    },
    "/api/v1/environments/{id}/resize": {
      post: {
        operationId: "resizeEnvironment",
        summary:
          "Change the environment to another catalog size: the guest is stopped, given the new vCPUs, memory and caps (the disk only grows) and started again. The group must offer the size and its quotas must hold the difference; a bigger size that policy holds for approval is recorded with status `held` for an approver of the group (POST .../resize/{aid}/decision), an admin's is not held.",
        parameters: [envId],
        requestBody: body("ResizeInput"),
        responses: {
          "202": queued,
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin can do that", "a policy rule refuses the size", CROSS_SITE),
          ...notFound("No such environment, or not one you may see"),
          ...conflict("The same size, over quota, a resize already waiting for approval, another action queued or running, or a host kind that cannot be resized"),
          ...bodyRejected("No size given, no such size, a smaller disk than now, a size the group does not offer, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    SnapshotInput: schema(snapshotInput),
    ReinstallInput: schema(reinstallInput),
    ResizeInput: schema(resizeInput),
    ResizeDecisionInput: schema(resizeDecisionInput),
    Snapshot: {
      type: "object",
      required: ["id", "name", "status", "withMemory", "sizeBytes", "createdAt"],
      properties: {
        id: { type: "string", format: "uuid" },
        name: { type: "string" },
        status: { enum: ["creating", "ready", "deleting", "failed"] },
        withMemory: { type: "boolean", description: "The guest's memory was saved too: a revert resumes it running" },
        sizeBytes: { type: ["integer", "null"], description: "Saved memory state, where the host reports it" },
        createdAt: { type: "string", format: "date-time" },
      },
    },
  },
};
