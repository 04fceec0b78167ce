import type { Role } from "../db/schema";

export type Decision =
  | { outcome: "approve"; rule: string; reason: string }
  | { outcome: "hold"; rule: string; reason: string };

/**
 * First form of policy: admins and approvers are trusted; customers and students wait for an
 * approver unless their group approves automatically. The decision says which rule made it.
 */
export function decide(input: { role: Role; group: { name: string; autoApprove: boolean } }): Decision {
  if (input.role === "admin" || input.role === "approver") {
    return { outcome: "approve", rule: "trusted-role", reason: `auto-approved: orders by ${input.role}s need no approval` };
  }
  if (input.group.autoApprove) {
    return { outcome: "approve", rule: "group-auto-approve", reason: `auto-approved: group ${input.group.name} approves orders automatically` };
  }
  return {
    outcome: "hold",
    rule: "group-requires-approval",
    reason: `held for approval: group ${input.group.name} requires an approver for ${input.role} orders`,
  };
}
