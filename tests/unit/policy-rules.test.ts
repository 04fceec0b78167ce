/** The policy engine: which rule decides, and the words customers and approvers read. */
import { describe, expect, it } from "vitest";
import { decisionSentence, evaluate, explainRule, matches, type PolicyRequest, type Rule, type RuleNames } from "@/lib/policy/rules";
import { ruleConditions, ruleInput } from "@/lib/policy/input";

const names: RuleNames = {
  groups: new Map([["g-physics", "Physics"], ["g-ops", "Ops"]]),
  images: new Map([["i-oracle", "Solaris 10 whole-root zone, capped CPU"], ["i-test", "Linux test server"]]),
};

const request = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({
  role: "customer",
  group: { id: "g-physics", name: "Physics", autoApprove: false },
  image: { id: "i-test", name: "Linux test server", os: "linux", licensed: false },
  flavor: { vcpus: 1, memoryMb: 1024 },
  purpose: "test",
  leaseDays: 14,
  ...over,
});

const rule = (id: string, outcome: Rule["outcome"], conditions: Rule["conditions"], extra: Partial<Rule> = {}): Rule => ({
  id, name: `Rule ${id}`, enabled: true, outcome, conditions, note: null, ...extra,
});

describe("explanations generated from the rule", () => {
  it("says what a lease rule holds", () => {
    expect(explainRule(rule("r", "hold", { leaseDaysOver: 30 }), names)).toBe("held: leases over 30 days need approval");
  });

  it("says what is refused to whom", () => {
    expect(explainRule(rule("r", "refuse", { os: "solaris", purposes: ["database"], roles: ["student"] }), names)).toBe(
      "refused: Solaris database images are not available to students",
    );
  });

  it("names groups and images by their names, not their ids", () => {
    expect(explainRule(rule("r", "approve", { images: ["i-test"], groups: ["g-ops", "g-physics"] }), names)).toBe(
      "auto-approved: Linux test server images need no approval in groups Ops or Physics",
    );
  });

  it("describes sizes, licences and lease ranges, and appends the admin's note", () => {
    expect(explainRule(rule("r", "hold", { vcpusOver: 4, memoryGbOver: 16 }), names)).toBe("held: orders with more than 4 vCPUs and more than 16 GiB memory need approval");
    expect(explainRule(rule("r", "hold", { licensed: true, leaseDaysOver: 7 }, { note: "licences are counted per core" }), names)).toBe(
      "held: licensed images with leases over 7 days need approval (licences are counted per core)",
    );
    expect(explainRule(rule("r", "approve", { vcpusAtMost: 2, leaseDaysAtMost: 7, roles: ["customer", "student"] }), names)).toBe(
      "auto-approved: orders with at most 2 vCPUs and leases of at most 7 days need no approval for customers and students",
    );
    expect(explainRule(rule("r", "refuse", { leaseDaysOver: 90, leaseDaysAtMost: 365 }), names)).toBe("refused: leases of 91 to 365 days are not available");
  });

  it("says so when a rule names an image that was removed", () => {
    expect(explainRule(rule("r", "refuse", { images: ["gone"] }), names)).toBe("refused: (removed image) images are not available");
  });
});

describe("rule evaluation", () => {
  it("matches only when every condition it sets holds", () => {
    const c = { os: "solaris" as const, roles: ["student" as const], vcpusOver: 2 };
    const solarisStudent = request({ role: "student", image: { id: "i-oracle", name: "x", os: "solaris", licensed: true }, flavor: { vcpus: 4, memoryMb: 4096 } });
    expect(matches(c, solarisStudent)).toBe(true);
    expect(matches(c, { ...solarisStudent, role: "customer" })).toBe(false);
    expect(matches(c, { ...solarisStudent, flavor: { vcpus: 2, memoryMb: 4096 } })).toBe(false);
    expect(matches({}, request())).toBe(true);
  });

  it("compares bounds as over (strictly more) and at most (inclusive)", () => {
    expect(matches({ leaseDaysOver: 30 }, request({ leaseDays: 30 }))).toBe(false);
    expect(matches({ leaseDaysOver: 30 }, request({ leaseDays: 31 }))).toBe(true);
    expect(matches({ memoryGbAtMost: 4 }, request({ flavor: { vcpus: 1, memoryMb: 4096 } }))).toBe(true);
    expect(matches({ memoryGbAtMost: 4 }, request({ flavor: { vcpus: 1, memoryMb: 4097 } }))).toBe(false);
  });

  it("lets the first matching enabled rule decide, with its id and explanation", () => {
    const rules = [
      rule("off", "refuse", {}, { enabled: false }),
      rule("long", "hold", { leaseDaysOver: 30 }),
      rule("physics", "approve", { groups: ["g-physics"] }),
    ];
    expect(evaluate(rules, request({ leaseDays: 60 }), names)).toEqual({
      outcome: "hold", ruleKey: "long", ruleId: "long", ruleName: "Rule long", explanation: "held: leases over 30 days need approval",
    });
    expect(evaluate(rules, request({ leaseDays: 10 }), names)).toMatchObject({ outcome: "approve", ruleId: "physics", explanation: "auto-approved: orders need no approval in group Physics" });
  });

  it("falls back to today's behaviour when no rule matches", () => {
    const rules = [rule("ops", "approve", { groups: ["g-ops"] })];
    expect(evaluate(rules, request(), names)).toMatchObject({ outcome: "hold", ruleId: null, ruleKey: "default:group-requires-approval" });
    expect(evaluate(rules, request({ role: "approver" }), names)).toMatchObject({ outcome: "approve", ruleKey: "default:trusted-role" });
    expect(evaluate([], request({ group: { id: "g-x", name: "X", autoApprove: true } }), names)).toMatchObject({ outcome: "approve", ruleKey: "default:group-auto-approve" });
  });
});

describe("the decision as customers and approvers read it", () => {
  const sentence = (d: ReturnType<typeof evaluate>) => decisionSentence({ outcome: d.outcome, rule: d.ruleName, ruleKey: d.ruleKey, explanation: d.explanation });

  it("names the outcome and the rule once, then says why", () => {
    expect(sentence(evaluate([], request(), names))).toBe('Held for approval by rule "Default": group Physics requires an approver for customer orders');
    expect(sentence(evaluate([rule("long", "hold", { leaseDaysOver: 30 }, { name: "Long leases" })], request({ leaseDays: 60 }), names))).toBe(
      'Held for approval by rule "Long leases": leases over 30 days need approval',
    );
    expect(sentence(evaluate([], request({ group: { id: "g-x", name: "X", autoApprove: true } }), names))).toBe(
      'Approved automatically by rule "Default": group X approves orders automatically',
    );
    expect(sentence(evaluate([rule("no", "refuse", { os: "linux" }, { name: "No Linux" })], request(), names))).toBe(
      'Refused by rule "No Linux": Linux images are not available',
    );
  });
});

describe("rule input", () => {
  it("refuses unknown conditions and bad values with a message per field", () => {
    const bad = ruleInput.safeParse({ name: "", outcome: "allow", conditions: { leaseDayOver: 3, vcpusOver: -1 } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["name", "outcome", "conditions", "conditions.vcpusOver"]));
    expect(ruleConditions.safeParse({ roles: ["student"], os: "solaris" }).success).toBe(true);
  });
});
