/**
 * The consoles of Xen guests (`xl console`) and Solaris zones (`zlogin -C`) over real SSH
 * (OpenSSH on loopback, a pty asked for by ssh2) against the host emulators in
 * tests/emulators: MOCKS of a Xen dom0 and a Solaris global zone, which cannot run here. They
 * record the exact command line and whether it got a terminal, and answer a few shell commands.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import type { DeploySpec } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { spec } from "../fixtures/plan-orders";
import { waitFor } from "../helpers/portal";
import { startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xen: EmulatedHost, sol: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xen, sol].find((e) => e.host.id === h.id)!.transport();

beforeAll(async () => {
  [xen, sol] = await Promise.all([
    startEmulatedHost({ name: "xen-con", kind: "xen", port: 3401 }),
    startEmulatedHost({ name: "sol-con", kind: "zones", port: 3402 }),
  ]);
  // A running domain and a running zone, as the emulators record them.
  mkdirSync(path.join(xen.state, "xen"), { recursive: true });
  writeFileSync(path.join(xen.state, "xen/domains.json"), JSON.stringify({ "xen-con1": { id: 3, memory: 512, vcpus: 1, state: "-b----" } }));
  mkdirSync(path.join(sol.state, "zones"), { recursive: true });
  writeFileSync(path.join(sol.state, "zones/zones.json"), JSON.stringify({ "sol-con1": { state: "running", cfg: { props: { zonepath: `${sol.state}/zones/sol-con1` } } } }));
});

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xen, sol]);
});

async function session(stream: Duplex) {
  let output = "";
  stream.on("data", (c: Buffer) => (output += c.toString("utf8")));
  const until = (pattern: RegExp) => waitFor(async () => output, (o) => pattern.test(o), { what: `console output matching ${pattern}`, timeoutMs: 15_000 });
  return { until };
}

describe("guest consoles over SSH (emulated hosts)", () => {
  it("Xen: `xl console <domain>` on a terminal; a typed command is answered", async () => {
    const s = { ...spec({ name: "xen-con1", image: "linux-test", flavor: "small", host: { name: "xen-con", kind: "xen" }, last: 31 }), host: xen.host };
    const stream = await new XenDriver(connect).openConsole(s);
    const c = await session(stream);
    await c.until(/root@xen-con1:~# /);
    stream.write("hostname\r");
    await c.until(/\r\nxen-con1\r\n/);
    stream.destroy();
    expect(readFileSync(path.join(xen.state, "console-sessions.log"), "utf8").trim().split("\n")).toEqual(["xl console xen-con1 tty=yes"]);
  });

  it("zones: `zlogin -C <zone>` on a terminal; a typed command is answered", async () => {
    const s = { ...spec({ name: "sol-con1", image: "solaris10-sparse", flavor: "small", host: { name: "sol-con", kind: "zones" }, last: 32 }), host: sol.host };
    const stream = await new ZonesDriver(connect).openConsole(s);
    const c = await session(stream);
    await c.until(/\[Connected to zone 'sol-con1' console\]/);
    await c.until(/sol-con1# /);
    stream.write("echo hello zone\r");
    await c.until(/\r\nhello zone\r\n/);
    stream.destroy();
    expect(readFileSync(path.join(sol.state, "console-sessions.log"), "utf8").trim().split("\n")).toEqual(["zlogin -C sol-con1 tty=yes"]);
  });

  it("a console of a domain the host does not have ends with the host's message", async () => {
    const s = { ...spec({ name: "xen-gone1", image: "linux-test", flavor: "small", host: { name: "xen-con", kind: "xen" }, last: 33 }), host: xen.host };
    const stream = await new XenDriver(connect).openConsole(s);
    const closed = new Promise((resolve) => stream.once("close", resolve));
    const c = await session(stream);
    await c.until(/xen-gone1 is an invalid domain identifier/);
    // The command ends, and so does the console: the bridge then tells viewers it closed.
    await closed;
  });
});
