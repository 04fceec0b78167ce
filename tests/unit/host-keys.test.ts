/**
 * Private keys as admins paste them: what ssh-keygen writes is accepted, its public half and
 * fingerprint are what ssh-keygen says; keys with a passphrase and public keys are refused.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inspectPrivateKey } from "@/lib/hosts/keys";
import { privateKeyShapeProblem } from "@/lib/hosts/input";

const dir = mkdtempSync(path.join(os.tmpdir(), "portal-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, args: string[]): { privateKey: string; publicKey: string; fingerprint: string } {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-C", "", "-f", file, ...args]);
  const fingerprint = /SHA256:\S+/.exec(execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], { encoding: "utf8" }))![0];
  return { privateKey: readFileSync(file, "utf8").trim(), publicKey: readFileSync(`${file}.pub`, "utf8").trim(), fingerprint };
}

describe("inspectPrivateKey", () => {
  it.each([
    ["ed25519 (OpenSSH format)", ["-t", "ed25519", "-N", ""]],
    ["RSA 2048 (OpenSSH format)", ["-t", "rsa", "-b", "2048", "-N", ""]],
    ["RSA 2048 (PEM, PKCS#1)", ["-t", "rsa", "-b", "2048", "-m", "PEM", "-N", ""]],
    ["ECDSA P-256 (PEM)", ["-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", ""]],
  ])("accepts %s with the public key and fingerprint ssh-keygen gives", (name, args) => {
    const k = keygen(name.replace(/\W+/g, "-"), args);
    expect(privateKeyShapeProblem(k.privateKey)).toBeNull();
    const seen = inspectPrivateKey(k.privateKey);
    expect(seen).toEqual({ publicKey: `${k.publicKey.split(" ").slice(0, 2).join(" ")} portal`, fingerprint: k.fingerprint });
  });

  it("refuses a key with a passphrase, a public key and garbage, without quoting them", () => {
    const locked = keygen("locked", ["-t", "ed25519", "-N", "a passphrase"]);
    const refused = inspectPrivateKey(locked.privateKey);
    expect(refused).toEqual({ problem: "This private key cannot be used: it is protected by a passphrase" });
    expect(inspectPrivateKey(locked.publicKey)).toEqual({ problem: expect.stringMatching(/public key|cannot be/) });
    const garbage = inspectPrivateKey("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----");
    expect("problem" in garbage && garbage.problem).toMatch(/cannot be (used|read)/);
    expect(JSON.stringify(refused)).not.toContain(locked.privateKey.split("\n")[1]);
  });
});
