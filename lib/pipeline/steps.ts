/**
 * The deploy pipeline's steps, in order. mk_image prepares the image for the chosen host;
 * mk_virtual builds the environment from it. Teardown runs the compensation in reverse.
 */
export const provisionSteps = [
  { name: "place", phase: "mk_image", label: "Choose host" },
  { name: "resolve", phase: "mk_image", label: "Resolve image" },
  { name: "pack", phase: "mk_image", label: "Pack image" },
  { name: "allocate", phase: "mk_virtual", label: "Allocate IPs and MACs" },
  { name: "storage", phase: "mk_virtual", label: "Create storage" },
  { name: "unpack", phase: "mk_virtual", label: "Unpack image" },
  { name: "networking", phase: "mk_virtual", label: "Configure networking" },
  { name: "glue", phase: "mk_virtual", label: "Glue (hostname, users, keys)" },
  { name: "boot", phase: "mk_virtual", label: "Boot" },
  { name: "wait_ready", phase: "mk_virtual", label: "Wait until ready" },
  { name: "handover", phase: "mk_virtual", label: "Hand over" },
] as const;

export const teardownSteps = [
  { name: "halt", phase: "teardown", label: "Stop guest" },
  { name: "destroy", phase: "teardown", label: "Remove guest and storage" },
  { name: "release", phase: "teardown", label: "Free addresses" },
] as const;

/**
 * A rebuild that rolls back (a patch campaign's rollback): after the kept disk is back and the
 * image unpacked, the backup's disk replaces it, before the guest boots.
 */
export const restoreStep = { name: "restore_disk", phase: "mk_virtual", label: "Restore the disk from its backup" } as const;

export type StepName = (typeof provisionSteps)[number]["name"] | (typeof teardownSteps)[number]["name"] | typeof restoreStep.name;

const labels = new Map<string, string>([...provisionSteps, ...teardownSteps, restoreStep].map((s) => [s.name, s.label]));

export function stepLabel(name: string): string {
  return labels.get(name) ?? name;
}
