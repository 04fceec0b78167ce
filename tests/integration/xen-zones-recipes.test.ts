/**
 * The web service recipe, an order's accounts and its settings on Xen and Solaris zones hosts,
 * over real SSH against the host EMULATORS (tests/emulators: xl/LVM, zonecfg/zoneadm/zlogin,
 * and chroot/groupadd/useradd/systemctl/svcadm in a guest's files). Real Xen guests and Solaris
 * zones cannot run here: this checks that the planned commands and files reach the host and
 * leave the guest's files as an admin would check them, NOT that nginx or Apache serve.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XenDriver } from "@/lib/drivers/xen/driver";
import { ZonesDriver } from "@/lib/drivers/zones/driver";
import { StepError, type DeploySpec, type HypervisorDriver, type StepIo } from "@/lib/drivers/types";
import { closeSshConnections } from "@/lib/drivers/transport/ssh";
import { KEY, spec, withWebRecipe } from "../fixtures/plan-orders";
import { prepareXenHost, prepareZonesHost, provisionGuest, recordingIo, runOn, sharedDir, startEmulatedHost, stopEmulatedHosts, type EmulatedHost } from "../helpers/emulated-hosts";

let xenHost: EmulatedHost, solHost: EmulatedHost;
const connect = async (h: DeploySpec["host"]) => [xenHost, solHost].find((e) => e.host.id === h.id)!.transport();
const fast = { pollIntervalMs: 20 };
const xen = new XenDriver(connect, fast);
const zones = new ZonesDriver(connect, fast);

const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n");

beforeAll(async () => {
  [xenHost, solHost] = await Promise.all([
    startEmulatedHost({ name: "xen-r", kind: "xen", port: 3612, sharedLvm: sharedDir("san-recipes") }),
    startEmulatedHost({ name: "sol-r", kind: "zones", port: 3613 }),
  ]);
  await prepareXenHost(xenHost, "golden-linux-test");
  await prepareZonesHost(solHost, { name: "golden-solaris10-sparse" });
}, 60_000);

afterAll(async () => {
  await closeSshConnections();
  await stopEmulatedHosts([xenHost, solHost]);
});

describe("the web service on an emulated Xen host", () => {
  it("adds the accounts and settings to the guest's root, puts the site and nginx in place before boot, and waits for HTTP", async () => {
    const s = { ...withWebRecipe(spec({ name: "xen-webr", image: "linux-test", flavor: "small", host: { name: "xen-r", kind: "xen" }, last: 31 })), host: xenHost.host };
    const { io, lines: log } = recordingIo();
    await provisionGuest(xen, s, io);
    const disk = path.join(sharedDir("san-recipes"), "data/vg0/xen-webr");
    expect(lines(`${disk}/etc/passwd`)).toEqual(["alice:x:1001:1001::/home/alice:/bin/sh", "bob:x:1002:1002::/home/bob:/bin/sh"]);
    expect(lines(`${disk}/etc/group`)).toEqual(["deploy:x:2000:alice,bob", "users:x:2001:alice", "alice:x:1001:", "bob:x:1002:"]);
    expect(readFileSync(`${disk}/home/alice/.ssh/authorized_keys`, "utf8")).toBe(`${KEY}\n`);
    expect(statSync(`${disk}/home/alice/.ssh/authorized_keys`).mode & 0o777).toBe(0o600);
    expect(existsSync(`${disk}/home/bob/.ssh`)).toBe(false);
    expect(readFileSync(`${disk}/etc/sysctl.d/90-portal.conf`, "utf8")).toBe("net.core.somaxconn=1024\n");
    expect(readFileSync(`${disk}/etc/portal/env`, "utf8")).toBe("APP_MODE=production\n");
    expect(readFileSync(`${disk}/var/www/html/index.html`, "utf8")).toContain("<h1>Team page</h1>");
    expect(readFileSync(`${disk}/etc/nginx/portal-private.htpasswd`, "utf8")).toMatch(/^admin:\{SHA\}[A-Za-z0-9+/]{27}=\n$/);
    expect(existsSync(`${disk}/etc/systemd/system/multi-user.target.wants/nginx.service`)).toBe(true);
    expect(log).toContain(`$ chroot ${xenHost.state}/mnt/portal/xen-webr useradd -u 1001 -g 1001 -G deploy,users -m -d /home/alice -s /bin/sh alice`);
    expect(log).toContain("the recipe web 1.0 to answer (The guest answers HTTP on 10.20.0.31 port 80): yes (<!doctype html>)");
    // The password never shows in the log, only its file.
    expect(log.join("\n")).not.toContain("GoldenPasswordNotReal000");

    // A rerun of glue finds the accounts there and says so.
    const again = recordingIo();
    await xen.glue(s, again.io);
    expect(again.lines.filter((l) => /already exists/.test(l)).length).toBeGreaterThanOrEqual(4);
    expect(lines(`${disk}/etc/passwd`)).toHaveLength(2);
    await xen.halt(s, io);
    await xen.destroy(s, io);
  });
});

describe("the web service on an emulated Solaris zones host", () => {
  it("writes the site and variables under the zone's root, then adds the accounts and enables Apache through zlogin", async () => {
    const s = { ...withWebRecipe(spec({ name: "zone-webr", image: "solaris10-sparse", flavor: "small", host: { name: "sol-r", kind: "zones" }, last: 32 })), host: solHost.host };
    const { io, lines: log } = recordingIo();
    await provisionGuest(zones, s, io);
    const root = `${solHost.state}/zones/zone-webr/root`;
    expect(lines(`${root}/etc/passwd`).filter((l) => /^(alice|bob):/.test(l))).toEqual(["alice:x:1001:1001::/export/home/alice:/bin/sh", "bob:x:1002:1002::/export/home/bob:/bin/sh"]);
    expect(readFileSync(`${root}/export/home/alice/.ssh/authorized_keys`, "utf8")).toBe(`${KEY}\n`);
    expect(readFileSync(`${root}/etc/portal/env`, "utf8")).toBe("APP_MODE=production\n");
    expect(readFileSync(`${root}/var/apache2/2.2/htdocs/index.html`, "utf8")).toContain("<h1>Team page</h1>");
    expect(log).toContain("$ zlogin zone-webr 'svcadm enable -s svc:/network/http:apache22'");
    expect(log).toContain("the recipe web 1.0 to answer (Apache is online in the zone): yes (online)");
    expect((await runOn(solHost, ["zlogin", "zone-webr", "svcs -H -o state svc:/network/http:apache22"])).stdout.trim()).toBe("online");
    await zones.halt(s, io);
    await zones.destroy(s, io);
  });

  it("refuses sysctl settings in a zone before anything is written: a zone has no kernel of its own", async () => {
    const base = withWebRecipe(spec({ name: "zone-sysctl", image: "solaris10-sparse", flavor: "small", host: { name: "sol-r", kind: "zones" }, last: 33 }));
    const s = { ...base, settings: { sysctl: { "net.core.somaxconn": "1024" }, env: {} }, host: solHost.host };
    const err = await zones.glue(s, recordingIo().io).catch((e) => e);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toBe("sysctl settings (net.core.somaxconn) cannot be set in a Solaris zone: its kernel is the global zone's");
  });
});
