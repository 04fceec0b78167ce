import { forbidden, invalid, notFound, ok, ref, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const rangeParam = {
  name: "range",
  in: "query",
  description: "`1h`: the last hour, a point a minute; `1d`: the last day, 5-minute averages; `30d`: the last 30 days, hourly averages. Default 1h.",
  schema: { enum: ["1h", "1d", "30d"], default: "1h" },
};

const series = (subject: "environmentId" | "hostId") => ({
  type: "object",
  required: [subject, "range", "from", "to", "bucket", "points"],
  properties: {
    [subject]: { type: "string", format: "uuid" },
    range: { enum: ["1h", "1d", "30d"] },
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
    bucket: { type: "string", description: "What each point averages, e.g. \"5 minutes\"" },
    points: { type: "array", items: ref("UsagePoint"), description: "Oldest first; empty when there are no samples yet" },
  },
});

/** Sampled use of environments and hosts (lib/usage). */
export const usagePart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/usage": {
      get: {
        operationId: "getEnvironmentUsage",
        summary:
          "What the environment used over the range: CPU (% of its vCPUs), memory and disk (bytes on its host), network (bytes per second received and sent, where its host kind reports them). Sampled every minute while it runs; raw points are kept a day, 10-minute averages 30 days.",
        parameters: [uuidParam("id", "The environment's id (the order's `environment.id`)"), rangeParam],
        responses: {
          "200": ok("The points", series("environmentId")),
          ...unauthorized,
          ...notFound("No such environment, or not yours (only the customer who ordered it and admins see its use)"),
          ...invalid("A range other than 1h, 1d or 30d"),
        },
      },
    },
    "/api/v1/hosts/{id}/usage": {
      get: {
        operationId: "getHostUsage",
        summary: "What the whole host used over the range (admins): CPU (% of all its CPUs), memory and disk used, network where the kind reports it. Sim hosts: the sum of their guests.",
        parameters: [uuidParam("id", "The host's id"), rangeParam],
        responses: {
          "200": ok("The points", series("hostId")),
          ...unauthorized,
          ...forbidden("only admins"),
          ...notFound("No such host"),
          ...invalid("A range other than 1h, 1d or 30d"),
        },
      },
    },
  },
  schemas: {
    UsagePoint: {
      type: "object",
      required: ["at", "cpuPercent", "memoryBytes", "diskBytes", "rxBytesPerSec", "txBytesPerSec"],
      properties: {
        at: { type: "string", format: "date-time", description: "Start of the point's bucket" },
        cpuPercent: { type: ["number", "null"], minimum: 0, maximum: 100 },
        memoryBytes: { type: ["integer", "null"] },
        diskBytes: { type: ["integer", "null"] },
        rxBytesPerSec: { type: ["integer", "null"] },
        txBytesPerSec: { type: ["integer", "null"] },
      },
    },
  },
};
