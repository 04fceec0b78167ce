import { evacuateInput, rebalanceInput } from "../../fleet/input";
import { body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const adminsOnly = forbidden("admins only");
const adminsChange = forbidden("admins only", CROSS_SITE);
const nullableTime = { type: ["string", "null"], format: "date-time" };
const hostRef = { type: "object", required: ["id", "name"], properties: { id: { type: "string", format: "uuid" }, name: { type: "string" } } };
const memory = {
  type: "object",
  required: ["memoryMb", "percent", "environments"],
  properties: {
    memoryMb: { type: "integer", description: "Memory its environments use (MiB)" },
    percent: { type: "number", description: "Of the host's memory capacity" },
    environments: { type: "integer" },
  },
};

/** Host maintenance: evacuating a host (drain, move everything off, offline) and rebalancing memory use across hosts of a kind. */
export const fleetPart: OpenApiPart = {
  paths: {
    "/api/v1/hosts/{id}/evacuate": {
      post: {
        operationId: "evacuateHost",
        summary:
          "Evacuate a host (admins): it goes draining at once, then every environment on it moves to another active host of its kind chosen by placement (most free memory that fits), `parallel` at a time (1..8, default 2): running guests live where the kind migrates live (QEMU, Xen), zones cold after their owner is told (notification and e-mail), stopped guests cold (they stay stopped). " +
          "The host ends offline once it holds nothing; otherwise it stays draining and each environment that could not move says why (no host with room, a failed migration — the guest keeps running where it was —, still being built, ...). Runs as a job; follow it at GET /api/v1/evacuations/{id} or its events",
        parameters: [uuidParam("id", "The host's id")],
        requestBody: body("EvacuateInput"),
        responses: {
          "202": ok("Accepted: the host is draining and the evacuation runs", ref("Evacuation")),
          ...unauthorized,
          ...adminsChange,
          ...notFound("No such host"),
          ...conflict("An evacuation of this host is already running"),
          ...bodyRejected("parallel not a whole number from 1 to 8, or an unknown field"),
        },
      },
    },
    "/api/v1/hosts/{id}/evacuation": {
      get: {
        operationId: "getHostEvacuation",
        summary: "The host's latest evacuation (admins): each environment's move with its state, target, reason, live progress and measured downtime",
        parameters: [uuidParam("id", "The host's id")],
        responses: { "200": ok("The latest evacuation", ref("Evacuation")), ...unauthorized, ...adminsOnly, ...notFound("No such host, or it was never evacuated") },
      },
    },
    "/api/v1/evacuations/{id}": {
      get: {
        operationId: "getEvacuation",
        summary: "A host evacuation or a rebalance run (admins), by id",
        parameters: [uuidParam("id", "The evacuation's id (as POST .../evacuate or POST /api/v1/rebalance answered)")],
        responses: { "200": ok("The evacuation", ref("Evacuation")), ...unauthorized, ...adminsOnly, ...notFound("No such evacuation") },
      },
    },
    "/api/v1/evacuations/{id}/stop": {
      post: {
        operationId: "stopEvacuation",
        summary:
          "Stop a running evacuation or rebalance (admins): the moves not yet started stay where they are, each saying who stopped it; the moves under way finish. " +
          "Then it ends incomplete, and an evacuated host stays draining (activate it again from its page). Audited",
        parameters: [uuidParam("id", "The evacuation's id")],
        responses: {
          "200": ok("The evacuation, its remaining moves stopped", ref("Evacuation")),
          ...unauthorized,
          ...adminsChange,
          ...notFound("No such evacuation"),
          ...conflict("The evacuation or rebalance has ended already"),
        },
      },
    },
    "/api/v1/evacuations/{id}/events": {
      get: {
        operationId: "streamEvacuationEvents",
        summary: "Live updates of an evacuation or rebalance run (server-sent events, admins): `event: snapshot` with the evacuation JSON at connect and whenever a move starts, progresses or ends",
        parameters: [uuidParam("id", "The evacuation's id")],
        responses: {
          "200": {
            description: "An event stream: `retry: 2000`, then `event: snapshot` messages whose data is the evacuation as GET /api/v1/evacuations/{id} gives it, and keep-alive comments",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          ...unauthorized,
          ...adminsOnly,
          ...notFound("No such evacuation"),
        },
      },
    },
    "/api/v1/rebalance": {
      post: {
        operationId: "rebalanceHosts",
        summary:
          "Even out memory use across the active hosts of a kind (admins). `dryRun: true` answers the plan and changes nothing: the moves (each environment at most once, only where the target has room), each host's memory use before and after, and the plan's fingerprint. " +
          "`dryRun: false` with that fingerprint runs the plan, `parallel` moves at a time, as a batch followed like an evacuation; 409 when the hosts or their environments changed since the plan was made (look at the new plan), when there is nothing to move, or while a rebalance of that kind runs",
        requestBody: body("RebalanceInput"),
        responses: {
          "200": ok("The plan (dryRun: true)", ref("RebalancePlan")),
          "202": ok("Accepted: the plan's moves run (dryRun: false)", ref("Evacuation")),
          ...unauthorized,
          ...adminsChange,
          ...conflict("The fleet changed since the plan was made (fingerprint differs), nothing to move, or a rebalance of that kind is already running"),
          ...bodyRejected("Unknown kind, dryRun missing, fingerprint missing or malformed when running, parallel not from 1 to 8, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    EvacuateInput: schema(evacuateInput),
    RebalanceInput: schema(rebalanceInput),
    EvacuationMove: {
      type: "object",
      required: ["id", "position", "environment", "from", "to", "mode", "status", "reason", "progress", "note", "startedAt", "finishedAt", "durationMs", "totalMs", "downtimeMs"],
      properties: {
        id: { type: "string", format: "uuid" },
        position: { type: "integer" },
        environment: {
          type: "object",
          properties: {
            id: { type: "string", format: "uuid" }, hostname: { type: "string" }, orderId: { type: "string", format: "uuid" },
            memoryMb: { type: "integer" }, vcpus: { type: "integer" }, state: { type: "string" },
          },
        },
        from: hostRef,
        to: { oneOf: [hostRef, { type: "null" }], description: "The target, once chosen (when the move starts; fixed by a rebalance plan)" },
        mode: { enum: ["live", "cold", null], description: "live: it keeps running; cold: halted (or stopped) while it moves" },
        status: { enum: ["pending", "moving", "moved", "failed"] },
        reason: { type: ["string", "null"], description: "Why it did not move (failed), what it waits for (pending), or a note (moved)" },
        progress: { type: ["integer", "null"], minimum: 0, maximum: 100, description: "While moving" },
        note: { type: ["string", "null"], description: "While moving: what the migration is doing" },
        startedAt: nullableTime,
        finishedAt: nullableTime,
        durationMs: { type: ["integer", "null"], description: "From the start of the move to the switch-over, as the portal measured it" },
        totalMs: { type: ["integer", "null"], description: "The migration's total time as the hypervisor measured it" },
        downtimeMs: { type: ["integer", "null"], description: "How long the guest was paused (live) or down (cold move of a running zone); null where the kind does not say or the guest was stopped" },
      },
    },
    Evacuation: {
      type: "object",
      required: ["id", "kind", "status", "host", "hostKind", "parallel", "requestedBy", "outcome", "createdAt", "finishedAt", "counts", "moves"],
      properties: {
        id: { type: "string", format: "uuid" },
        kind: { enum: ["evacuate", "rebalance"] },
        status: { enum: ["running", "completed", "incomplete"], description: "completed: every environment moved (an evacuated host is offline); incomplete: some could not, each move says why" },
        host: {
          oneOf: [{ type: "object", properties: { id: { type: "string", format: "uuid" }, name: { type: "string" }, state: { enum: ["active", "draining", "offline"] } } }, { type: "null" }],
          description: "The evacuated host and its state now; null for a rebalance",
        },
        hostKind: { enum: ["sim", "qemu", "xen", "zones"] },
        parallel: { type: "integer", minimum: 1, maximum: 8 },
        requestedBy: { type: ["string", "null"], description: "The admin's e-mail" },
        outcome: { type: ["string", "null"], description: "How it ended, in words" },
        createdAt: { type: "string", format: "date-time" },
        finishedAt: nullableTime,
        counts: {
          type: "object",
          properties: { total: { type: "integer" }, pending: { type: "integer" }, moving: { type: "integer" }, moved: { type: "integer" }, failed: { type: "integer" } },
        },
        moves: { type: "array", items: ref("EvacuationMove") },
      },
    },
    RebalancePlan: {
      type: "object",
      required: ["kind", "fingerprint", "hosts", "moves", "spread", "notes"],
      properties: {
        kind: { enum: ["sim", "qemu", "xen", "zones"] },
        fingerprint: { type: "string", pattern: "^[0-9a-f]{64}$", description: "Send it back with dryRun: false to run exactly this plan" },
        hosts: {
          type: "array",
          items: {
            type: "object",
            required: ["id", "name", "memoryMbCapacity", "before", "after"],
            properties: { id: { type: "string", format: "uuid" }, name: { type: "string" }, memoryMbCapacity: { type: "integer" }, before: memory, after: memory },
          },
        },
        moves: {
          type: "array",
          items: {
            type: "object",
            required: ["environmentId", "hostname", "orderId", "memoryMb", "from", "to", "mode"],
            properties: {
              environmentId: { type: "string", format: "uuid" }, hostname: { type: "string" }, orderId: { type: "string", format: "uuid" }, memoryMb: { type: "integer" },
              from: hostRef, to: hostRef, mode: { enum: ["live", "cold"] },
            },
          },
        },
        spread: {
          type: "object",
          properties: { before: { type: "number" }, after: { type: "number" } },
          description: "Highest minus lowest memory use, in points of capacity",
        },
        notes: { type: "array", items: { type: "string" }, description: "Why there are no moves, or what the plan leaves out" },
      },
    },
  },
};
