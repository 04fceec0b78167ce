import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { lddLibraries } from "@/lib/drivers/images/build";
import { guestHostKeyPath, initScript, recipeHash } from "@/lib/drivers/images/recipe";

describe("the guest's Debian programs", () => {
  it("take along every library ldd names, the dynamic loader included, and not the vDSO", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ff7de6ce000)",
      "\tlibtomcrypt.so.1 => /lib/x86_64-linux-gnu/libtomcrypt.so.1 (0x00007ff7de5af000)",
      "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007ff7de572000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff7de354000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007ff7de6d0000)",
    ].join("\n");
    expect(lddLibraries(out)).toEqual({
      libraries: ["/lib/x86_64-linux-gnu/libtomcrypt.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"],
      missing: [],
    });
    expect(lddLibraries("\tlibgmp.so.10 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)").missing).toEqual(["libgmp.so.10"]);
  });

  it("are part of the recipe: another build of a program or library is another recipe", () => {
    const parts = { kernelPackage: "linux-image-6.1.0-57-amd64", busyboxSha256: "a".repeat(64), programs: { "/usr/sbin/dropbear": "b".repeat(64) } };
    expect(recipeHash(parts)).toMatch(/^[0-9a-f]{64}$/);
    expect(recipeHash(parts)).toBe(recipeHash({ ...parts }));
    expect(recipeHash({ ...parts, programs: { "/usr/sbin/dropbear": "c".repeat(64) } })).not.toBe(recipeHash(parts));
  });
});

describe("the guest's /init", () => {
  it("is valid busybox sh, keeps the SSH host key on /data and reports ready only after waiting for the SSH server", () => {
    const r = spawnSync("busybox", ["sh", "-n"], { input: initScript, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(guestHostKeyPath.startsWith("/data/")).toBe(true);
    expect(initScript).toContain(`HOSTKEY=$KEYDIR/dropbear_ed25519_host_key`);
    const listening = initScript.indexOf('while [ "$(ssh_port)" = down ]');
    expect(listening).toBeGreaterThan(initScript.indexOf("/usr/sbin/dropbear "));
    expect(initScript.indexOf("\nready\n")).toBeGreaterThan(listening);
  });
});
