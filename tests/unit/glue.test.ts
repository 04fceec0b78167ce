import { spawnSync } from "node:child_process";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildGlueArchive, glueConfig, parseReadyLine, type GlueInput } from "@/lib/drivers/qemu/glue";
import { cpioNewc } from "@/lib/drivers/images/cpio";

const input: GlueInput = {
  hostname: "web-01",
  nics: [
    { mac: "02:00:00:1E:00:05", ip: "10.30.0.5", prefix: 24, gateway: "10.30.0.1", purpose: "production" },
    { mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24, gateway: null, purpose: "service" },
  ],
  authorizedKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1 someone@example.org",
  motd: "web-01: order 1234",
  serviceIps: ["10.20.0.200"],
};

/** What GNU cpio (the reference reader of the format) makes of an archive. */
function cpio(args: string[], archive: Buffer): string {
  const r = spawnSync("cpio", args, { input: archive, encoding: "buffer" });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout.toString("utf8");
}

describe("glue archive", () => {
  it("is a gzip'd newc cpio that GNU cpio lists and extracts: config, keys, motd", async () => {
    const archive = gunzipSync(await buildGlueArchive(input));
    expect(cpio(["-t", "--quiet"], archive).trim().split("\n")).toEqual(["portal", "portal/config", "portal/authorized_keys", "portal/motd"]);
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/config"], archive)).toBe(
      "hostname web-01\nnic 02:00:00:1e:00:05 10.30.0.5/24 10.30.0.1\nnic 02:00:00:14:00:05 10.20.0.5/24 -\nservice-ip 10.20.0.200\n",
    );
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/authorized_keys"], archive)).toBe(`${input.authorizedKeys}\n`);
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/motd"], archive)).toBe("web-01: order 1234\n");
    const listing = cpio(["-tv", "--quiet"], archive);
    expect(listing).toMatch(/^-rw------- .* portal\/authorized_keys$/m);
  });

  it("keeps file contents of any length intact (padding to 4 bytes)", () => {
    for (const n of [0, 1, 2, 3, 4, 5, 4097]) {
      const data = Buffer.alloc(n, 0x61);
      const out = cpio(["-i", "--quiet", "--to-stdout", "f"], cpioNewc([{ type: "file", path: "f", data }]));
      expect(out.length, `size ${n}`).toBe(n);
    }
  });

  it("refuses values the guest's shell would read as something else", () => {
    expect(() => glueConfig({ ...input, hostname: "web-01\nnic evil" })).toThrow(/invalid hostname/);
    expect(() => glueConfig({ ...input, nics: [{ ...input.nics[0]!, mac: "02:00:00:1e:00:05 x" }] })).toThrow(/invalid MAC/);
    expect(() => glueConfig({ ...input, nics: [{ ...input.nics[0]!, ip: "10.30.0.5; reboot" }] })).toThrow(/invalid IP/);
    expect(() => glueConfig({ ...input, nics: [{ ...input.nics[0]!, prefix: 33 }] })).toThrow(/invalid prefix/);
    expect(() => glueConfig({ ...input, nics: [{ ...input.nics[0]!, gateway: "$(id)" }] })).toThrow(/invalid gateway/);
    expect(() => glueConfig({ ...input, serviceIps: ["10.20.0.256"] })).toThrow(/invalid service IP/);
    expect(() => cpioNewc([{ type: "file", path: "../etc/passwd", data: "x" }])).toThrow(/bad path/);
  });
});

describe("PORTAL-READY line", () => {
  it("reads hostname, uptime, disk, NICs in order and service IPs, also after console noise", () => {
    const line = "\r[    2.1] random: crng init\rPORTAL-READY hostname=web-01 uptime=12.34 disk=10737418240 nic=02:00:00:1e:00:05,10.30.0.5/24 nic=02:00:00:14:00:05,10.20.0.5/24 service-ip=10.20.0.200";
    expect(parseReadyLine(line)).toEqual({
      hostname: "web-01",
      uptimeSeconds: 12.34,
      diskBytes: 10737418240,
      nics: [{ mac: "02:00:00:1e:00:05", ip: "10.30.0.5", prefix: 24 }, { mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24 }],
      serviceIps: ["10.20.0.200"],
    });
  });

  it("reads the last NIC when the console echoed a status asked for while the line was printed", () => {
    const line = "PORTAL-READY hostname=web-01 uptime=15.75 disk=10737418240 nic=02:00:00:1e:00:05,10.30.0.5/24 nic=02:00:00:14:00:05,10.20.0.5/24status";
    expect(parseReadyLine(line)?.nics).toEqual([{ mac: "02:00:00:1e:00:05", ip: "10.30.0.5", prefix: 24 }, { mac: "02:00:00:14:00:05", ip: "10.20.0.5", prefix: 24 }]);
  });

  it("is not fooled by progress lines or a line without hostname and uptime", () => {
    expect(parseReadyLine("portal-init: eth0 02:00:00:1e:00:05 10.30.0.5/24")).toBeNull();
    expect(parseReadyLine("PORTAL-READY disk=0")).toBeNull();
  });
});

describe("glue: recipe, accounts and settings", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1abcdefghijklmnop dev@example.org";
  const full: GlueInput = {
    ...input,
    recipe: { slug: "web", version: "1.0", timeoutSeconds: 60, files: [{ path: "/srv/www/index.html", data: "<h1>Hi</h1>\n" }], setup: "echo step serve\nhttpd -p 80 -h /srv/www\n", check: "wget -qO- http://127.0.0.1/ >/dev/null && echo url=http://x/\n" },
    accounts: [
      { name: "alice", uid: 1001, groups: ["deploy", "users"], sshKeys: key },
      { name: "bob", uid: 1002, groups: ["deploy"], sshKeys: "" },
    ],
    settings: { sysctl: { "net.core.somaxconn": "1024" }, env: { APP_MODE: "production" } },
  };

  it("puts the recipe's files, setup and check, the accounts and the settings into the archive", async () => {
    const archive = gunzipSync(await buildGlueArchive(full));
    const names = cpio(["-t", "--quiet"], archive).trim().split("\n");
    expect(names).toEqual(expect.arrayContaining([
      "portal/recipe/name", "portal/recipe/setup", "portal/recipe/check", "portal/recipe/files/srv/www/index.html",
      "portal/accounts/passwd", "portal/accounts/group", "portal/accounts/keys/alice", "portal/accounts/keys/bob",
      "portal/settings/sysctl", "portal/settings/env",
    ]));
    // Every folder comes before what it holds (the kernel makes no parents).
    expect(names.indexOf("portal/recipe/files/srv")).toBeLessThan(names.indexOf("portal/recipe/files/srv/www"));
    expect(names.indexOf("portal/recipe/files/srv/www")).toBeLessThan(names.indexOf("portal/recipe/files/srv/www/index.html"));
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/recipe/name"], archive)).toBe("web 1.0 60\n");
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/accounts/passwd"], archive)).toBe(
      "alice:x:1001:1001::/data/home/alice:/bin/sh\nbob:x:1002:1002::/data/home/bob:/bin/sh\n",
    );
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/accounts/group"], archive)).toBe(
      "alice:x:1001:\nbob:x:1002:\ndeploy:x:2000:alice,bob\nusers:x:2001:alice\n",
    );
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/settings/sysctl"], archive)).toBe("net.core.somaxconn=1024\n");
    expect(cpio(["-i", "--quiet", "--to-stdout", "portal/settings/env"], archive)).toBe("APP_MODE=production\n");
  });

  it("refuses names, values and paths a shell or the guest's files would misread", async () => {
    const bad: Partial<GlueInput>[] = [
      { accounts: [{ name: "root", uid: 1001, groups: [], sshKeys: "" }] },
      { accounts: [{ name: "al;ice", uid: 1001, groups: [], sshKeys: "" }] },
      { accounts: [{ name: "alice", uid: 0, groups: [], sshKeys: "" }] },
      { accounts: [{ name: "alice", uid: 1001, groups: ["a b"], sshKeys: "" }] },
      { accounts: [{ name: "alice", uid: 1001, groups: [], sshKeys: "ssh-ed25519 AAAA$(reboot)" }] },
      { settings: { sysctl: { "net.core.somaxconn": "1; reboot" }, env: {} } },
      { settings: { sysctl: { "../x": "1" }, env: {} } },
      { settings: { sysctl: {}, env: { path: "x" } } },
      { settings: { sysctl: {}, env: { APP: "`id`" } } },
      { settings: { sysctl: {}, env: { APP: "a\nb" } } },
      { recipe: { ...full.recipe!, files: [{ path: "/etc/../root/x", data: "" }] } },
      { recipe: { ...full.recipe!, files: [{ path: "/bin/sh", data: "" }] } },
      { recipe: { ...full.recipe!, slug: "Web App" } },
    ];
    for (const b of bad) await expect(buildGlueArchive({ ...input, ...b }), JSON.stringify(b)).rejects.toThrow(/glue: /);
  });

  it("reads what the guest reports back: recipe, its check's words, accounts, settings", () => {
    const r = parseReadyLine(
      "PORTAL-READY hostname=web-01 uptime=9.5 disk=0 nic=02:00:00:1e:00:05,10.30.0.5/24 users=alice,bob sysctl.net.core.somaxconn=1024 env=APP_MODE recipe=web/1.0 recipe-check=ok app.url=http://10.30.0.5/",
    );
    expect(r?.recipe).toEqual({ name: "web/1.0", check: "ok" });
    expect(r?.app).toEqual({ url: "http://10.30.0.5/" });
    expect(r?.users).toEqual(["alice", "bob"]);
    expect(r?.sysctl).toEqual({ "net.core.somaxconn": "1024" });
    expect(r?.env).toEqual(["APP_MODE"]);
  });
});
