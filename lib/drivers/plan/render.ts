import { shellQuoteArgv } from "../transport/quote";
import { planNotice, type Plan, type PlanAction, type PlanStep, type WriteAction } from "./types";

/** The file's content as it may be shown: redacted parts replaced. */
export function shownContent(file: WriteAction): string {
  return file.redact ? file.content.replace(file.redact.pattern, file.redact.replacement) : file.content;
}

export function modeText(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

/** One command as a reader would type it (quoted by the one quoting function). */
export function commandText(argv: readonly string[]): string {
  return shellQuoteArgv(argv);
}

function renderAction(a: PlanAction): string[] {
  if (a.kind === "write") {
    const lines = shownContent(a).replace(/\n$/, "").split("\n");
    return [`# ${a.description}`, `file ${a.path} (mode ${modeText(a.mode)}):`, ...lines.map((l) => `  | ${l}`)];
  }
  const out = [`# ${a.description}`, `$ ${commandText(a.argv)}`];
  if (a.stdin !== undefined) out.push(...a.stdin.replace(/\n$/, "").split("\n").map((l) => `  < ${l}`));
  if (a.until) {
    const test = a.until.ready.source === "(?:)" ? "it succeeds" : `the output matches ${a.until.ready}`;
    out.push(`  (repeated until ${test}: at most ${a.until.attempts} times, every ${a.until.intervalMs / 1000} s)`);
  }
  for (const [code, meaning] of Object.entries(a.okCodes ?? {})) out.push(`  (exit code ${code} is fine: ${meaning})`);
  if (a.expect) {
    const must = a.expect.stdout.source === "^(?![\\s\\S])" ? "it must print nothing" : `its output must match ${a.expect.stdout}`;
    out.push(`  (${must}; else: ${a.expect.problem})`);
  }
  if (a.alreadyDone) {
    out.push(`  (if it says ${a.alreadyDone.when}: already done${a.alreadyDone.verify ? `, when \`${commandText(a.alreadyDone.verify.argv)}\` shows it matches the order` : ""})`);
  }
  return out;
}

export function renderStep(s: PlanStep): string {
  const body = s.actions.length ? s.actions.flatMap(renderAction) : ["# (no commands on the host)"];
  return [`## ${s.step}: ${s.description}`, ...body].join("\n");
}

/** The plan as readable text: one command per line, files with their content. */
export function renderPlan(plan: Plan): string {
  return [`# ${plan.kind} plan for ${plan.guest} on host ${plan.host}`, `# ${planNotice(plan.kind)}`, "", ...plan.steps.map((s) => renderStep(s) + "\n")].join("\n");
}

/** The plan as JSON for the dry-run API and the UI (regular expressions as text). */
export function planJson(plan: Plan) {
  return {
    kind: plan.kind,
    host: plan.host,
    guest: plan.guest,
    notice: planNotice(plan.kind),
    steps: plan.steps.map((s) => ({
      step: s.step,
      description: s.description,
      actions: s.actions.map((a) =>
        a.kind === "write"
          ? { kind: "file" as const, description: a.description, path: a.path, mode: modeText(a.mode), content: shownContent(a) }
          : {
              kind: "command" as const,
              description: a.description,
              argv: a.argv,
              command: commandText(a.argv),
              ...(a.stdin !== undefined ? { stdin: a.stdin } : {}),
              ...(a.until ? { repeatedUntil: `${a.until.what} (at most ${a.until.attempts} times, every ${a.until.intervalMs / 1000} s)` } : {}),
              ...(a.alreadyDone ? { alreadyDoneWhen: String(a.alreadyDone.when), verifiedWith: a.alreadyDone.verify ? commandText(a.alreadyDone.verify.argv) : null } : {}),
            },
      ),
    })),
  };
}

export type PlanJson = ReturnType<typeof planJson>;
