/**
 * Command plans: what a driver sends to a host, as data. A plan is, per pipeline step, a list
 * of exact commands (argument vectors, never shell strings) and files (path, content, mode),
 * each with a short description. Plans are built by pure functions (tested against reviewed
 * golden files), shown to admins as a dry run, and executed by ./runner.ts on a Transport.
 *
 * The Xen and Solaris zones plans were written from shared/reference/hypervisors.md and run
 * against host emulators (tests/emulators/). The Xen plan's deployment, stop/start and
 * destroy also run on a real Xen 4.17 host (a Debian dom0 under QEMU:
 * tests/integration/xen-real.test.ts); its other operations and the zones plans have NOT been
 * run on a real host. `planNotice` says so wherever a plan is shown.
 */

export function planNotice(kind: "xen" | "zones"): string {
  return kind === "xen"
    ? "Deployment, stop/start and destroy were run on a real Xen 4.17 host (Debian dom0 under QEMU, PV guests); migration, snapshots, resize, backup and restore were tested only against host emulators."
    : "Not run on a real Solaris host: these commands follow the zonecfg/zoneadm/ZFS reference and were tested only against host emulators.";
}

/** When a command fails because its work is already there (a rerun after a crash). */
export type AlreadyDone = {
  /** Matched against the command's stderr and stdout. */
  when: RegExp;
  /** How the existing thing is checked against the order; without it, the match alone means done. */
  verify?: {
    argv: string[];
    /** Null when what exists matches the order, else what differs. */
    problem: (stdout: string, code: number) => string | null;
  };
  /** What an admin should do when the existing thing does not match. */
  advice: string;
  /** What the log says instead of the tool's own words (when "not found" is the good answer). */
  note?: string;
};

/** Repeat the command until it succeeds and its output says so (a guest coming up). */
export type Until = {
  /** Matched against stdout of a successful run. */
  ready: RegExp;
  /** What is being waited for, for the log and the error ("zone app01 to run"). */
  what: string;
  attempts: number;
  intervalMs: number;
};

export type RunAction = {
  kind: "run";
  argv: string[];
  description: string;
  /** Bytes fed to the command's standard input. */
  stdin?: string;
  alreadyDone?: AlreadyDone;
  until?: Until;
  /** After exit 0, stdout must match, else the step fails with `problem`. */
  expect?: { stdout: RegExp; problem: string };
  /** Exit codes besides 0 that are fine here, with what they mean for the log (e.g. 124: timed out, forced next). */
  okCodes?: Record<number, string>;
  /** Added to the error when the command fails: what is probably wrong and what to do. */
  hint?: string;
  timeoutMs?: number;
};

export type WriteAction = {
  kind: "write";
  path: string;
  content: string;
  mode: number;
  description: string;
  /** Parts of the content never shown in a dry run or a golden file (a root password hash). */
  redact?: { pattern: RegExp; replacement: string };
};

export type PlanAction = RunAction | WriteAction;

export type PlanStep = {
  /** Pipeline step name (resolve, pack, storage, ..., halt, destroy) or a lifecycle action. */
  step: string;
  description: string;
  actions: PlanAction[];
};

export type Plan = {
  kind: "xen" | "zones";
  host: string;
  guest: string;
  steps: PlanStep[];
};

export const run = (argv: string[], description: string, extra: Omit<RunAction, "kind" | "argv" | "description"> = {}): RunAction => ({
  kind: "run",
  argv,
  description,
  ...extra,
});

export const write = (path: string, content: string, mode: number, description: string, extra: Pick<WriteAction, "redact"> = {}): WriteAction => ({
  kind: "write",
  path,
  content,
  mode,
  description,
  ...extra,
});
