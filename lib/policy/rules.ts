import type { Role } from "../db/schema/enums";
import type { RuleConditions } from "./input";

/**
 * The policy engine: ordered rules an admin edits; the first enabled rule whose conditions all
 * hold decides whether an order is approved at once, held for an approver, or refused. Every
 * decision carries the rule that made it and an explanation in plain words generated from the
 * rule, so customers and approvers read the same reason. Pure: no database here.
 */

export type Outcome = "approve" | "hold" | "refuse";

export type Rule = {
  id: string;
  name: string;
  enabled: boolean;
  outcome: Outcome;
  conditions: RuleConditions;
  note?: string | null;
};

/** What a rule looks at. */
export type PolicyRequest = {
  role: Role;
  group: { id: string; name: string; autoApprove: boolean };
  image: { id: string; name: string; os: "linux" | "solaris"; licensed: boolean };
  flavor: { vcpus: number; memoryMb: number };
  purpose: string;
  leaseDays: number;
};

/** Names for the ids rules refer to, so explanations say "Physics", not a uuid. */
export type RuleNames = { groups: Map<string, string>; images: Map<string, string> };

export type PolicyDecision = {
  outcome: Outcome;
  /** A rule id, or `default:<name>` when no rule matched. */
  ruleKey: string;
  ruleId: string | null;
  ruleName: string;
  explanation: string;
};

export function matches(c: RuleConditions, r: PolicyRequest): boolean {
  const memoryGb = r.flavor.memoryMb / 1024;
  const checks: boolean[] = [
    !c.groups?.length || c.groups.includes(r.group.id),
    !c.roles?.length || c.roles.includes(r.role),
    !c.images?.length || c.images.includes(r.image.id),
    c.os === undefined || c.os === r.image.os,
    c.licensed === undefined || c.licensed === r.image.licensed,
    !c.purposes?.length || (c.purposes as string[]).includes(r.purpose),
    c.vcpusOver === undefined || r.flavor.vcpus > c.vcpusOver,
    c.vcpusAtMost === undefined || r.flavor.vcpus <= c.vcpusAtMost,
    c.memoryGbOver === undefined || memoryGb > c.memoryGbOver,
    c.memoryGbAtMost === undefined || memoryGb <= c.memoryGbAtMost,
    c.leaseDaysOver === undefined || r.leaseDays > c.leaseDaysOver,
    c.leaseDaysAtMost === undefined || r.leaseDays <= c.leaseDaysAtMost,
  ];
  return checks.every(Boolean);
}

/** "a", "a or b", "a, b or c" */
function list(words: string[], joiner: "or" | "and"): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${joiner} ${words.at(-1)}`;
}

const roleNouns: Record<Role, string> = { admin: "admins", approver: "approvers", customer: "customers", student: "students" };
const osWords = { linux: "Linux", solaris: "Solaris" } as const;

function range(over: number | undefined, atMost: number | undefined, unit: string): string | null {
  if (over !== undefined && atMost !== undefined) return `of ${over + 1} to ${atMost} ${unit}`;
  if (over !== undefined) return `over ${over} ${unit}`;
  if (atMost !== undefined) return `of at most ${atMost} ${unit}`;
  return null;
}

function sizeRange(over: number | undefined, atMost: number | undefined, unit: string): string | null {
  if (over !== undefined && atMost !== undefined) return `${over + 1} to ${atMost} ${unit}`;
  if (over !== undefined) return `more than ${over} ${unit}`;
  if (atMost !== undefined) return `at most ${atMost} ${unit}`;
  return null;
}

/**
 * The rule in plain words, as customers and approvers read it:
 * "held: leases over 30 days need approval",
 * "refused: Solaris database images are not available to students".
 */
export function explainRule(rule: Pick<Rule, "outcome" | "conditions" | "note">, names: RuleNames): string {
  const c = rule.conditions;
  const imageWords: string[] = [];
  if (c.os) imageWords.push(osWords[c.os]);
  if (c.licensed !== undefined) imageWords.push(c.licensed ? "licensed" : "unlicensed");
  if (c.purposes?.length) imageWords.push(list(c.purposes, "or"));
  let thing: string | null = null;
  if (c.images?.length) {
    const named = list(c.images.map((id) => names.images.get(id) ?? "(removed image)"), "or");
    thing = imageWords.length ? `${imageWords.join(" ")} images (${named})` : `${named} images`;
  } else if (imageWords.length) {
    thing = `${imageWords.join(" ")} images`;
  }
  const lease = range(c.leaseDaysOver, c.leaseDaysAtMost, "days");
  const sizes = [sizeRange(c.vcpusOver, c.vcpusAtMost, "vCPUs"), sizeRange(c.memoryGbOver, c.memoryGbAtMost, "GiB memory")].filter(
    (x): x is string => x !== null,
  );
  const quals: string[] = [];
  if (!thing && lease && sizes.length === 0) thing = `leases ${lease}`;
  else if (lease) quals.push(`leases ${lease}`);
  if (sizes.length) quals.unshift(list(sizes, "and"));
  const subject = `${thing ?? "orders"}${quals.length ? ` with ${list(quals, "and")}` : ""}`;

  const who = c.roles?.length ? list(c.roles.map((r) => roleNouns[r]), "and") : null;
  const where = c.groups?.length
    ? ` in group${c.groups.length > 1 ? "s" : ""} ${list(c.groups.map((id) => names.groups.get(id) ?? "(removed group)"), "or")}`
    : "";
  let text: string;
  if (rule.outcome === "refuse") text = `refused: ${subject} are not available${who ? ` to ${who}` : ""}${where}`;
  else if (rule.outcome === "hold") text = `held: ${subject} need approval${who ? ` for ${who}` : ""}${where}`;
  else text = `auto-approved: ${subject} need no approval${who ? ` for ${who}` : ""}${where}`;
  return rule.note ? `${text} (${rule.note})` : text;
}

/**
 * When no rule matches, the portal behaves as it always did: admins and approvers are
 * trusted; customers and students wait for an approver unless their group approves
 * automatically.
 */
export function defaultDecision(r: Pick<PolicyRequest, "role" | "group">): PolicyDecision {
  if (r.role === "admin" || r.role === "approver") {
    return { outcome: "approve", ruleKey: "default:trusted-role", ruleId: null, ruleName: "Default: trusted roles", explanation: `auto-approved: orders by ${r.role}s need no approval` };
  }
  if (r.group.autoApprove) {
    return {
      outcome: "approve",
      ruleKey: "default:group-auto-approve",
      ruleId: null,
      ruleName: "Default: group approves automatically",
      explanation: `auto-approved: group ${r.group.name} approves orders automatically`,
    };
  }
  return {
    outcome: "hold",
    ruleKey: "default:group-requires-approval",
    ruleId: null,
    ruleName: "Default: group requires approval",
    explanation: `held for approval: group ${r.group.name} requires an approver for ${r.role} orders`,
  };
}

const outcomeWords: Record<Outcome, string> = { approve: "Approved automatically", hold: "Held for approval", refuse: "Refused" };
/** How explanations begin (explainRule, defaultDecision): the outcome, which decisionSentence says itself. */
const OUTCOME_PREFIX = /^(held for approval|held|auto-approved|refused):\s*/;

/**
 * A decision as one sentence that names the outcome and the rule once:
 * `Held for approval by rule "Long leases": leases over 30 days need approval`. The built-in
 * defaults are all the rule "Default" (their names repeat what the explanation says).
 */
export function decisionSentence(d: { outcome: string; rule: string; ruleKey: string; explanation: string }): string {
  const rule = d.ruleKey.startsWith("default:") ? "Default" : d.rule;
  const outcome = outcomeWords[d.outcome as Outcome] ?? d.outcome;
  return `${outcome} by rule "${rule}": ${d.explanation.replace(OUTCOME_PREFIX, "")}`;
}

/** The first enabled matching rule decides; otherwise the default. */
export function evaluate(rules: Rule[], request: PolicyRequest, names: RuleNames): PolicyDecision {
  for (const rule of rules) {
    if (!rule.enabled || !matches(rule.conditions, request)) continue;
    return { outcome: rule.outcome, ruleKey: rule.id, ruleId: rule.id, ruleName: rule.name, explanation: explainRule(rule, names) };
  }
  return defaultDecision(request);
}
