import type { RecipeStep } from "./types";

/**
 * The recipe's own steps as the order page shows them, read from the wait-until-ready step's
 * log (the guest's console): `portal-recipe: step NAME` starts a step, the next one (or
 * `portal-recipe: setup-exit N`) ends it; the step named `check` runs from a good setup-exit
 * until `portal-init: recipe SLUG check: ok|failed`. Steps no line named stay pending.
 */
export type RecipeStepView = RecipeStep & { status: "pending" | "running" | "succeeded" | "failed"; startedAt: string | null; finishedAt: string | null };

export type LogLine = { line: string; at: string };

const stepLine = /portal-recipe: step ([a-z0-9_-]{1,40})\s*$/;
const exitLine = /portal-recipe: setup-exit (\d+)\s*$/;
const checkLine = /portal-init: recipe [a-z0-9-]+ check: (ok|failed)\s*$/;

/** `lines`: the latest attempt's log of wait-until-ready, oldest first; `stepStatus`: that step's status. */
export function recipeProgress(steps: RecipeStep[], lines: LogLine[], stepStatus: string): RecipeStepView[] {
  const views = new Map<string, RecipeStepView>(steps.map((s) => [s.name, { ...s, status: "pending", startedAt: null, finishedAt: null }]));
  let current: RecipeStepView | null = null;
  const finish = (at: string, status: RecipeStepView["status"]) => {
    if (current && current.status === "running") Object.assign(current, { status, finishedAt: at });
    current = null;
  };
  const begin = (name: string, at: string) => {
    const v = views.get(name);
    if (!v) return;
    // A boot again (a retried step): the step starts over.
    Object.assign(v, { status: "running", startedAt: at, finishedAt: null });
    current = v;
  };
  for (const { line, at } of lines) {
    let m: RegExpExecArray | null;
    if ((m = stepLine.exec(line))) {
      finish(at, "succeeded");
      begin(m[1]!, at);
    } else if ((m = exitLine.exec(line))) {
      const ok = m[1] === "0";
      finish(at, ok ? "succeeded" : "failed");
      if (ok) begin("check", at);
    } else if ((m = checkLine.exec(line))) {
      if (!current) begin("check", at);
      finish(at, m[1] === "ok" ? "succeeded" : "failed");
    }
  }
  // The wait ended (failed or cut off) while a step ran: that step failed.
  if (current && (stepStatus === "failed" || stepStatus === "pending")) (current as RecipeStepView).status = "failed";
  return [...views.values()];
}

/** The `app.key=value` words of the latest PORTAL-READY line in the log (what the recipe's check reported). */
export function reportedOutputs(lines: LogLine[]): Record<string, string> {
  const ready = lines.map((l) => l.line).filter((l) => l.includes("PORTAL-READY ")).at(-1);
  const out: Record<string, string> = {};
  if (!ready) return out;
  for (const m of ready.matchAll(/(?:^|\s)app\.([a-zA-Z0-9_-]{1,40})=(\S{1,500})/g)) out[m[1]!] = m[2]!;
  return out;
}
