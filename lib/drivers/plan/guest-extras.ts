/**
 * What an order adds to a Xen or zones guest besides the image: accounts, system settings and
 * the recipe's command plan (DeploySpec.accounts, settings, recipePlan), as plan actions.
 *
 * Xen: everything is done on the guest's mounted root before its first boot, with `chroot`
 * into it (groupadd, useradd, the recipe's commands) and files written below the mount point;
 * the dom0 needs no key to the guest. sysctl values go to /etc/sysctl.d (applied at boot).
 * Zones: files are written under the zone's root before boot; accounts and the recipe's
 * commands run through `zlogin` once the zone runs (zlogin hands its words to the zone's
 * shell as one line, so each command is quoted with quote.ts); sysctl does not exist in a
 * Solaris zone (its kernel is the global zone's), so an order asking for it fails there.
 *
 * Tested only against the host emulators (tests/emulators) and golden files; NOT run on a real
 * Xen guest or Solaris zone.
 */
import { shellQuoteArgv } from "../transport/quote";
import { renderAccounts, renderSettings, checkRecipe } from "../qemu/glue";
import { StepError, type DeploySpec, type GuestAccount, type GuestHostPlan } from "../types";
import { run, write, type PlanAction, type RunAction } from "./types";

/** A guest file path a recipe may write (as the QEMU glue allows), and a command word. */
const guestPath = /^\/(etc|srv|opt|var|data)(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,99}){1,8}$/;
const commandWord = /^[A-Za-z0-9_./:@%+=,{}-]{1,300}$/;
const readyPattern = /^[^\0\n\r]{1,200}$/;

const alreadyThere = { when: /already exists|already in use/, advice: "", note: "already there (a rerun): kept" };

/** Extra groups as the QEMU glue numbers them (sorted, gid 2000 up): the same ids on every kind. */
function extraGroups(accounts: GuestAccount[]): { name: string; gid: number }[] {
  const { group } = renderAccounts(accounts);
  return group
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(":"))
    .filter(([, , gid]) => Number(gid) >= 2000)
    .map(([name, , gid]) => ({ name: name!, gid: Number(gid) }));
}

/** Checks accounts, settings and the recipe plan once more before they become commands (StepError naming what is refused). */
export function checkGuestExtras(spec: DeploySpec): void {
  try {
    if (spec.accounts?.length) renderAccounts(spec.accounts);
    if (spec.settings) renderSettings(spec.settings);
    if (spec.recipe) checkRecipe(spec.recipe);
  } catch (err) {
    throw new StepError(`refusing to build commands: ${(err as Error).message.replace(/^glue: /, "")}`);
  }
  const plan = spec.recipePlan;
  if (!plan) return;
  for (const f of plan.files) {
    if (!guestPath.test(f.path) || f.path.split("/").includes("..")) throw new StepError(`refusing to build commands: recipe file path ${JSON.stringify(f.path)} is not allowed`);
  }
  for (const c of [...plan.commands.map((c) => c.argv), plan.check.argv]) {
    if (c.length === 0 || !c.every((w) => commandWord.test(w)) || !/^[A-Za-z0-9_./-]+$/.test(c[0]!)) {
      throw new StepError(`refusing to build commands: recipe command ${JSON.stringify(c.join(" ").slice(0, 80))} is not allowed`);
    }
  }
  if (!readyPattern.test(plan.check.ready)) throw new StepError("refusing to build commands: the recipe's readiness pattern is not allowed");
}

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf("/")) || "/";
}

/** Xen: the actions in the glue step, on the guest's root mounted at `mnt` (before it is unmounted). */
export function xenGuestExtras(spec: DeploySpec, mnt: string): PlanAction[] {
  checkGuestExtras(spec);
  const chroot = (argv: string[], description: string, extra: Partial<RunAction> = {}) => run(["chroot", mnt, ...argv], description, extra);
  const actions: PlanAction[] = [];
  const accounts = spec.accounts ?? [];
  for (const g of extraGroups(accounts)) actions.push(chroot(["groupadd", "-g", String(g.gid), g.name], `Group ${g.name} for the order's accounts`, { alreadyDone: alreadyThere }));
  for (const a of accounts) {
    actions.push(chroot(["groupadd", "-g", String(a.uid), a.name], `Group ${a.name} of account ${a.name}`, { alreadyDone: alreadyThere }));
    actions.push(
      chroot(["useradd", "-u", String(a.uid), "-g", String(a.uid), ...(a.groups.length ? ["-G", a.groups.join(",")] : []), "-m", "-d", `/home/${a.name}`, "-s", "/bin/sh", a.name], `Account ${a.name} (uid ${a.uid})`, {
        alreadyDone: alreadyThere,
      }),
    );
    if (a.sshKeys.trim()) {
      actions.push(run(["install", "-d", "-m", "700", `${mnt}/home/${a.name}/.ssh`], `${a.name}'s .ssh directory, private`));
      actions.push(write(`${mnt}/home/${a.name}/.ssh/authorized_keys`, `${a.sshKeys.trim()}\n`, 0o600, `${a.name}'s SSH public keys`));
      actions.push(chroot(["chown", "-R", `${a.name}:${a.name}`, `/home/${a.name}/.ssh`], `${a.name} owns its keys`));
    }
  }
  const settings = spec.settings ? renderSettings(spec.settings) : { sysctl: "", env: "" };
  if (settings.sysctl) actions.push(write(`${mnt}/etc/sysctl.d/90-portal.conf`, settings.sysctl, 0o644, "The order's sysctl values, applied at every boot (systemd-sysctl)"));
  if (settings.env) {
    actions.push(run(["install", "-d", "-m", "755", `${mnt}/etc/portal`], "Folder for the service's variables"));
    actions.push(write(`${mnt}/etc/portal/env`, settings.env, 0o600, "The service's environment variables (KEY=value lines)"));
  }
  const plan = spec.recipePlan;
  if (plan) {
    for (const d of [...new Set(plan.files.map((f) => dirOf(f.path)))]) actions.push(run(["install", "-d", "-m", "755", `${mnt}${d}`], `Folder ${d} for the recipe ${plan.slug}`));
    for (const f of plan.files) actions.push(write(`${mnt}${f.path}`, f.content, f.mode, f.description, redactSecrets(f)));
    for (const c of plan.commands) actions.push(chroot(c.argv, c.description));
  }
  return actions;
}

/** Xen: the recipe's probe at the end of wait-until-ready, from the dom0. */
export function xenRecipeCheck(spec: DeploySpec): RunAction[] {
  const plan = spec.recipePlan;
  if (!plan) return [];
  return [recipeCheck(plan, plan.check.argv)];
}

function recipeCheck(plan: GuestHostPlan, argv: string[]): RunAction {
  return run(argv, plan.check.description, {
    until: { ready: new RegExp(plan.check.ready, "m"), what: `the recipe ${plan.slug} ${plan.version} to answer (${plan.check.description})`, attempts: 60, intervalMs: 2000 },
    hint: `The recipe ${plan.slug} did not come up: look at the guest's service (its log) and retry the step`,
  });
}

/** Password files and the like: what the plan shows keeps their shape, not their content. */
function redactSecrets(f: GuestHostPlan["files"][number]) {
  return /passw|htpasswd|secret/i.test(f.path) ? { redact: { pattern: /:[^:\n]*$/gm, replacement: ":<hash, not shown>" } } : {};
}

/** Zones: files under the zone's root, written in the glue step before the first boot. */
export function zoneGuestFiles(spec: DeploySpec, root: string): PlanAction[] {
  checkGuestExtras(spec);
  if (spec.settings && Object.keys(spec.settings.sysctl).length) {
    throw new StepError(`sysctl settings (${Object.keys(spec.settings.sysctl).join(", ")}) cannot be set in a Solaris zone: its kernel is the global zone's`);
  }
  const actions: PlanAction[] = [];
  const settings = spec.settings ? renderSettings(spec.settings) : { sysctl: "", env: "" };
  if (settings.env) {
    actions.push(run(["mkdir", "-p", `${root}/etc/portal`], "Folder for the service's variables"));
    actions.push(write(`${root}/etc/portal/env`, settings.env, 0o600, "The service's environment variables (KEY=value lines)"));
  }
  const plan = spec.recipePlan;
  if (plan) {
    for (const d of [...new Set(plan.files.map((f) => dirOf(f.path)))]) actions.push(run(["mkdir", "-p", `${root}${d}`], `Folder ${d} for the recipe ${plan.slug}`));
    for (const f of plan.files) actions.push(write(`${root}${f.path}`, f.content, f.mode, f.description, redactSecrets(f)));
  }
  return actions;
}

/** Zones: accounts and the recipe's commands through zlogin once the zone runs, then the recipe's probe. */
export function zoneGuestCommands(spec: DeploySpec, root: string): PlanAction[] {
  checkGuestExtras(spec);
  const zone = spec.hostname;
  const zlogin = (argv: string[], description: string, extra: Partial<RunAction> = {}) => run(["zlogin", zone, shellQuoteArgv(argv)], description, extra);
  const actions: PlanAction[] = [];
  const accounts = spec.accounts ?? [];
  for (const g of extraGroups(accounts)) actions.push(zlogin(["groupadd", "-g", String(g.gid), g.name], `Group ${g.name} for the order's accounts`, { alreadyDone: alreadyThere }));
  for (const a of accounts) {
    actions.push(zlogin(["groupadd", "-g", String(a.uid), a.name], `Group ${a.name} of account ${a.name}`, { alreadyDone: alreadyThere }));
    actions.push(
      zlogin(["useradd", "-u", String(a.uid), "-g", a.name, ...(a.groups.length ? ["-G", a.groups.join(",")] : []), "-d", `/export/home/${a.name}`, "-m", "-s", "/bin/sh", a.name], `Account ${a.name} (uid ${a.uid})`, {
        alreadyDone: alreadyThere,
      }),
    );
    if (a.sshKeys.trim()) {
      actions.push(zlogin(["mkdir", "-p", `/export/home/${a.name}/.ssh`], `${a.name}'s .ssh directory`));
      actions.push(write(`${root}/export/home/${a.name}/.ssh/authorized_keys`, `${a.sshKeys.trim()}\n`, 0o600, `${a.name}'s SSH public keys`));
      actions.push(zlogin(["chown", "-R", `${a.name}:${a.name}`, `/export/home/${a.name}/.ssh`], `${a.name} owns its keys`));
      actions.push(zlogin(["chmod", "700", `/export/home/${a.name}/.ssh`], "Private"));
    }
  }
  const plan = spec.recipePlan;
  if (plan) {
    for (const c of plan.commands) actions.push(zlogin(c.argv, c.description));
    actions.push(recipeCheck(plan, ["zlogin", zone, shellQuoteArgv(plan.check.argv)]));
  }
  return actions;
}
