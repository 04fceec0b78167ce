import { z } from "zod";
import { body, bodyRejected, conflict, CROSS_SITE, forbidden, ok, ref, schema, unauthorized, type OpenApiPart } from "../openapi-helpers";
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
        operationId: "planOrder",
        summary:
          "Dry run (admins): the exact commands and files an order would run on the host placement would choose (or `host`), per pipeline step, without running or reserving anything. Xen and Solaris zones plans are labelled as not run on real hosts.",
        requestBody: body("PlanInput"),
        responses: {
          "200": ok("The plan", ref("PlanResult")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...conflict("Nothing to plan on: no free address left on a network, no driver for the host's kind, or a step that cannot be planned (the message says which)"),
          ...bodyRejected("Invalid order: an image, flavor, network or host that does not exist, or an image that does not run on the named host; a message per field"),
        },
      },
    },
  },
  schemas: { PlanInput: schema(planInput), PlanResult: schema(planResult) },
};
