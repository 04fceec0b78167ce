import { forbidden, ok, ref, unauthorized, type OpenApiPart } from "../openapi-helpers";

/** Worker processes: who is live, what each owns and runs. */
export const workersPart: OpenApiPart = {
  paths: {
    "/api/v1/workers": {
      get: {
        operationId: "listWorkers",
        summary:
          "Workers that beat within WORKER_OFFLINE_MS, and offline workers that still own hosts (their hosts' work waits for them), by id (admins)",
        responses: {
          "200": ok("The workers", { type: "object", required: ["workers"], properties: { workers: { type: "array", items: ref("Worker") } } }),
          ...unauthorized,
          ...forbidden("admins only"),
        },
      },
    },
  },
  schemas: {
    Worker: {
      type: "object",
      required: ["id", "process", "live", "concurrency", "jobsRunning", "jobsDone", "startedAt", "heartbeatAt", "hostsOwned"],
      properties: {
        id: { type: "string", description: "WORKER_ID (by default the machine's host name)" },
        process: { type: "string", description: "Machine and pid of the process that last beat under this id" },
        live: { type: "boolean", description: "false: no heartbeat for WORKER_OFFLINE_MS (the owner offline)" },
        concurrency: { type: "integer" },
        jobsRunning: { type: "integer" },
        jobsDone: { type: "integer", description: "Jobs finished since the process started" },
        startedAt: { type: "string", format: "date-time" },
        heartbeatAt: { type: "string", format: "date-time" },
        hostsOwned: { type: "array", items: { type: "object", properties: { id: { type: "string", format: "uuid" }, name: { type: "string" } } } },
      },
    },
  },
};
