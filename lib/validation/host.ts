import { z } from "zod";
import { provisionSteps, teardownSteps } from "../pipeline/steps";

/** Client-safe (the admin form uses it too): no server imports here. */
export const hostStates = ["active", "draining", "offline"] as const;

export const stepNames = [...provisionSteps, ...teardownSteps].map((s) => s.name) as [string, ...string[]];

/**
 * What an admin may change on a host: its state (draining hosts take no new environments)
 * and, on sim hosts, failure injection: step name -> how many more times it fails.
 */
export const hostUpdateInput = z.strictObject({
  state: z.enum(hostStates, { message: "State is one of active, draining, offline" }).optional(),
  failSteps: z
    .partialRecord(
      z.enum(stepNames, { message: "Unknown step" }),
      z.coerce.number({ message: "Times is a number" }).int("Times is a whole number").min(0, "Times is 0 or more").max(10, "Times is at most 10"),
    )
    .optional(),
});

export type HostUpdate = z.infer<typeof hostUpdateInput>;
