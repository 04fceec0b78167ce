import { z } from "zod";
import { errors, ok, ref, schema, type OpenApiPart } from "../openapi-helpers";
import { planInput } from "../../orders/plan-input";

const command = z.object({
  kind: z.literal("command"),
  description: z.string(),
  argv: z.array(z.string()),
  command: z.string().describe("The argv as one quoted command line, for reading"),
  stdin: z.string().optional(),
  repeatedUntil: z.string().optional(),
  alreadyDoneWhen: z.string().optional(),
  verifiedWith: z.string().nullable().optional(),
});
const file = z.object({ kind: z.literal("file"), description: z.string(), path: z.string(), mode: z.string(), content: z.string() });
const planResult = z.object({
  host: z.object({ name: z.string(), kind: z.string() }),
  placement: z.string(),
  addresses: z.array(z.object({ network: z.string(), ip: z.string(), mac: z.string(), bridge: z.string() })),
  plan: z
    .object({
      kind: z.enum(["xen", "zones"]),
      host: z.string(),
      guest: z.string(),
      notice: z.string().describe("Says that Xen and Solaris plans were not run on real hosts"),
      steps: z.array(z.object({ step: z.string(), description: z.string(), actions: z.array(z.union([command, file])) })),
    })
    .nullable(),
  text: z.string().nullable().describe("The plan as readable text: one command per line, files with their content"),
  message: z.string(),
});

export const planPart: OpenApiPart = {
  paths: {
    "/api/v1/plan": {
      post: {
        summary:
          "Dry run (admins): the exact commands and files an order would run on the host placement would choose (or `host`), per pipeline step, without running or reserving anything. Xen and Solaris zones plans are labelled as not run on real hosts.",
        requestBody: { required: true, content: { "application/json": { schema: ref("PlanInput") } } },
        responses: { "200": ok("The plan", ref("PlanResult")), ...errors },
      },
    },
  },
  schemas: { PlanInput: schema(planInput), PlanResult: schema(planResult) },
};
