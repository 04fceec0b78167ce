/**
 * What reaches a host is checked before any command is built, and the plan runner turns what
 * a host answers into messages an admin can act on. Runs real local programs (sh) through
 * LocalTransport; no host emulator needed.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deploymentPlan } from "@/lib/drivers/plan/deployment";
import { runPlanStep } from "@/lib/drivers/plan/runner";
import { run, type PlanStep } from "@/lib/drivers/plan/types";
import { LocalTransport } from "@/lib/drivers/transport/local";
import type { RunOptions, Transport } from "@/lib/drivers/transport/types";
import { StepError, type DeploySpec } from "@/lib/drivers/types";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import { KEY, goldenOrders } from "../fixtures/plan-orders";

const tmp = mkdtempSync(path.join(os.tmpdir(), "plan-runner-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const xenSpec = goldenOrders["xen-small"];
const zoneSpec = goldenOrders["zone-capped"];

/** LocalTransport that counts what it is asked to run or write. */
class CountingTransport extends LocalTransport {
  calls: string[] = [];
  override run(argv: readonly string[], options?: RunOptions) {
    this.calls.push(argv.join(" "));
    return super.run(argv, options);
  }
  override writeFile(file: string, content: string | Buffer, options?: { mode?: number }) {
    this.calls.push(`write ${file}`);
    return super.writeFile(file, content, options);
  }
}

function io() {
  const lines: string[] = [];
  return { lines, io: { signal: new AbortController().signal, log: async (l: string) => void lines.push(l) } };
}

describe("fields that reach a host are checked before any command is built", () => {
  const bad: [string, (s: DeploySpec) => DeploySpec][] = [
    ["order id with a line break (it is written into the Xen config)", (s) => ({ ...s, orderId: "00000000-0000-4000-8000-000000000005\nkernel = \"/tmp/evil\"" })],
    ["guest name with ;", (s) => ({ ...s, hostname: "web;reboot" })],
    ["guest name with $()", (s) => ({ ...s, hostname: "web$(id)" })],
    ["guest name with a space", (s) => ({ ...s, hostname: "web 1" })],
    ["guest name with a newline", (s) => ({ ...s, hostname: "web\nreboot" })],
    ["oversized guest name", (s) => ({ ...s, hostname: "a".repeat(200) })],
    ["image slug with backticks", (s) => ({ ...s, image: { ...s.image, slug: "linux`id`" } })],
    ["bridge with a quote", (s) => ({ ...s, addresses: [{ ...s.addresses[0]!, bridge: "xenbr0'" }] })],
    ["MAC with a comma", (s) => ({ ...s, addresses: [{ ...s.addresses[0]!, mac: "02:00:00:1e:00:05,bridge=evil" }] })],
    ["IP with a shell word", (s) => ({ ...s, addresses: [{ ...s.addresses[0]!, ip: "10.0.0.1;reboot" }] })],
    ["SSH key with $()", (s) => ({ ...s, sshPublicKey: `${KEY} $(reboot)` })],
    ["SSH key with a second line", (s) => ({ ...s, sshPublicKey: `${KEY}\nssh-ed25519 AAAA evil` })],
  ];
  for (const [what, change] of bad) {
    for (const spec of [xenSpec, zoneSpec]) {
      it(`${spec.host.kind}: ${what} is refused`, () => {
        expect(() => deploymentPlan(change(spec))).toThrow(/refusing to build commands/);
      });
    }
  }

  it("host settings with paths or names that could change a command are refused, naming the host and the setting", () => {
    const withConfig = (s: DeploySpec, config: Record<string, unknown>) => ({ ...s, host: { ...s.host, config } });
    expect(() => XenDriver.plan(withConfig(xenSpec, { configDir: "/etc/xen; rm -rf /" }))).toThrow(/host xen-1 has invalid settings: configDir/);
    expect(() => XenDriver.plan(withConfig(xenSpec, { mountDir: "/mnt/../etc" }))).toThrow(/mountDir/);
    expect(() => XenDriver.plan(withConfig(xenSpec, { volumeGroup: "vg0 --force" }))).toThrow(/volumeGroup/);
    expect(() => ZonesDriver.plan(withConfig(zoneSpec, { zonesDataset: "rpool/zones$(id)" }))).toThrow(/zonesDataset/);
    expect(() => ZonesDriver.plan(withConfig(zoneSpec, { rootPasswordHash: "secret" }))).toThrow(/rootPasswordHash/);
    expect(() => ZonesDriver.plan(withConfig(zoneSpec, { timezone: "UTC\nroot_password=x" }))).toThrow(/timezone/);
    expect(() => ZonesDriver.plan(withConfig(zoneSpec, { physicalByNetwork: { production: "e1000g1;reboot" } }))).toThrow(/physicalByNetwork/);
  });

  it("a driver step with a bad field runs nothing on the host", async () => {
    const transport = new CountingTransport();
    const driver = new ZonesDriver(async () => transport);
    const err = await driver.createStorage({ ...zoneSpec, hostname: "db;reboot" }, io().io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(transport.calls).toEqual([]);
  });
});

describe("the plan runner", () => {
  const t: Transport = new LocalTransport();
  const step = (...actions: PlanStep["actions"]): PlanStep => ({ step: "test", description: "a test step", actions });

  it("streams output to the step log and fails with the exit code and what the tool said", async () => {
    const { io: i, lines } = io();
    const err = await runPlanStep(step(run(["sh", "-c", "echo working; echo 'disk full' >&2; exit 5"], "fails")), t, i).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/failed on local with exit code 5: disk full/);
    expect(lines).toContain("  working");
    expect(lines).toContain("  ! disk full");
  });

  it("explains a missing program", async () => {
    const err = await runPlanStep(step(run(["sh", "-c", "exit 127"], "no such tool")), t, io().io).catch((e) => e);
    expect(err.message).toMatch(/sh is not installed on local/);
  });

  it("treats 'already exists' as done only when the existing thing matches, else says what to do", async () => {
    const exists = (verify: string) =>
      run(["sh", "-c", "echo 'Zone exists, input not from terminal' >&2; exit 1"], "create", {
        alreadyDone: { when: /Zone exists/, verify: { argv: ["sh", "-c", `echo ${verify}`], problem: (out) => (out.trim() === "same" ? null : `it is ${out.trim()}`) }, advice: "Delete it first." },
      });
    const ok = io();
    await runPlanStep(step(exists("same")), t, ok.io);
    expect(ok.lines.some((l) => l.startsWith("already done") && l.endsWith("it matches this order"))).toBe(true);
    const err = await runPlanStep(step(exists("different")), t, io().io).catch((e) => e);
    expect(err.message).toMatch(/Zone exists.*does not match this order: it is different\. Delete it first\./);
  });

  it("repeats a command until its output says ready, and gives up with the last answer", async () => {
    const counter = `${tmp}/n`;
    const script = `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ] && echo running || echo installed`;
    const { io: i, lines } = io();
    await runPlanStep(step(run(["sh", "-c", script], "wait", { until: { ready: /^running$/m, what: "zone to run", attempts: 5, intervalMs: 10 } })), t, i);
    expect(lines.some((l) => l.startsWith("zone to run: yes"))).toBe(true);
    const err = await runPlanStep(step(run(["sh", "-c", "echo installed"], "wait", { until: { ready: /^running$/m, what: "zone to run", attempts: 3, intervalMs: 5 } })), t, io().io).catch((e) => e);
    expect(err.message).toMatch(/gave up waiting for zone to run on local after 3 tries \(last answer: installed\)/);
  });

  it("logs files it writes without their content", async () => {
    const { io: i, lines } = io();
    const file = `${tmp}/sysidcfg`;
    await runPlanStep(step({ kind: "write", path: file, content: "root_password=$5$abc$def\n", mode: 0o600, description: "sysidcfg" }), t, i);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines.join("\n")).not.toContain("root_password");
  });
});
