/**
 * What an admin types when registering a host: addresses, user names, keys and names are
 * checked strictly, and a refusal says which characters are not allowed.
 */
import { describe, expect, it } from "vitest";
import { hostAddressProblem, hostRegistrationInput, hostUpdateInput, isIpv4, isIpv6, privateKeyShapeProblem } from "@/lib/hosts/input";

const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----";
const base = { name: "xen-01", kind: "xen", address: "xen-01.example.org", sshUser: "portal", privateKey: key };

function fieldErrors(input: unknown) {
  const r = hostRegistrationInput.safeParse(input);
  if (r.success) return {};
  const out: Record<string, string> = {};
  for (const i of r.error.issues) out[String(i.path[0])] ??= i.message;
  return out;
}

describe("host addresses", () => {
  it.each(["xen-01", "xen-01.example.org", "Solaris10-A.corp", "10.0.0.5", "0.0.0.0", "255.255.255.255", "::1", "fd00::5", "2001:db8::1:2", "::ffff:10.0.0.1", "local"])(
    "accepts %s",
    (a) => expect(hostAddressProblem(a)).toBeNull(),
  );

  it.each([
    ["127.0.0.1; reboot", /cannot contain ; space/],
    ["$(id)", /cannot contain \$ \( \)/],
    ["`id`.example.org", /cannot contain `/],
    ["a'b", /cannot contain '/],
    ['a"b', /cannot contain "/],
    ["host\nother", /cannot contain line break/],
    ["-oProxyCommand=sh", /cannot contain =/],
    ["-host", /Host name parts/],
    ["host-.example.org", /Host name parts/],
    ["a..b", /Host name parts/],
    ["256.0.0.1", /not a valid IPv4/],
    ["10.0.0", /not a valid IPv4/],
    ["010.0.0.1", /not a valid IPv4/],
    ["fd00::g", /cannot contain|not a valid IPv6/],
    ["1:2:3:4:5:6:7:8:9", /not a valid IPv6/],
    ["[::1]", /cannot contain \[ \]/],
    ["fe80::1%eth0", /cannot contain %/],
    [`${"a".repeat(64)}.org`, /Host name parts/],
    ["a".repeat(254), /at most 253/],
    ["", /Enter the host/],
  ])("refuses %j", (a, message) => expect(hostAddressProblem(a)).toMatch(message));

  it("IPv4 and IPv6 checks", () => {
    expect(isIpv4("192.168.1.1")).toBe(true);
    expect(isIpv4("192.168.1.01")).toBe(false);
    expect(isIpv6("2001:db8::")).toBe(true);
    expect(isIpv6("2001:db8:::1")).toBe(false);
  });
});

describe("private keys (shape; the server also parses them)", () => {
  it("accepts an OpenSSH, RSA, EC or PKCS#8 frame", () => {
    expect(privateKeyShapeProblem(key)).toBeNull();
    expect(privateKeyShapeProblem(key.replaceAll("OPENSSH PRIVATE", "RSA PRIVATE"))).toBeNull();
    expect(privateKeyShapeProblem(key.replaceAll("OPENSSH PRIVATE", "PRIVATE"))).toBeNull();
  });

  it.each([
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL alice", /public key/],
    ["-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----", /passphrase/],
    ["-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc\n-----END RSA PRIVATE KEY-----", /passphrase/],
    ["-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", /whole private key/],
    ["-----BEGIN OPENSSH PRIVATE KEY-----\nabc", /whole private key/],
    [`-----BEGIN OPENSSH PRIVATE KEY-----\n${"A".repeat(17_000)}\n-----END OPENSSH PRIVATE KEY-----`, /at most 16384/],
  ])("refuses %#", (k, message) => expect(privateKeyShapeProblem(k)).toMatch(message));
});

describe("the registration form", () => {
  it("accepts a complete SSH host with defaults for port and limit, trimming what was pasted", () => {
    const parsed = hostRegistrationInput.parse({ ...base, address: " 10.0.0.5 ", privateKey: `\n${key}\n\n` });
    expect(parsed).toMatchObject({ address: "10.0.0.5", port: 22, maxConcurrency: 4, privateKey: key });
  });

  it("takes numbers from a form's strings and treats empty optional fields as not given", () => {
    expect(hostRegistrationInput.parse({ ...base, port: "2222", maxConcurrency: "2", hostKeyFingerprint: "" })).toMatchObject({ port: 2222, maxConcurrency: 2 });
    expect(hostRegistrationInput.parse({ ...base, hostKeyFingerprint: "" }).hostKeyFingerprint).toBeUndefined();
  });

  it("names every problem at once, one message per field", () => {
    expect(fieldErrors({ name: "Xen 01", kind: "xen", address: "x;y", port: "22;", sshUser: "root`id`", privateKey: "", maxConcurrency: 0 })).toEqual({
      name: "A host name cannot contain X space: use lowercase letters, digits and hyphens, like xen-01",
      address: "A host address cannot contain ;: use a host name like xen-01.example.org or an IP address",
      port: "The SSH port is a whole number from 1 to 65535",
      sshUser: "A user name cannot contain `: use lowercase letters, digits, _ and -",
      privateKey: "Paste the private key the portal logs in with",
      maxConcurrency: "Commands at once is a whole number from 1 to 10",
    });
  });

  it("a local host needs no SSH user or key, and takes none", () => {
    expect(hostRegistrationInput.safeParse({ name: "kvm-local", kind: "qemu", address: "local" }).success).toBe(true);
    expect(fieldErrors({ name: "kvm-local", kind: "qemu", address: "local", sshUser: "portal" })).toEqual({
      address: "A local host needs no SSH user or key; leave them empty or enter the host's address",
    });
  });

  it("refuses unknown fields and sim hosts", () => {
    expect(hostRegistrationInput.safeParse({ ...base, command: "reboot" }).success).toBe(false);
    expect(fieldErrors({ ...base, kind: "sim" })).toEqual({ kind: "Kind is qemu, xen or zones" });
  });

  it("changes: a fingerprint or null, limits, users, no unknown fields", () => {
    expect(hostUpdateInput.parse({ hostKeyFingerprint: null })).toEqual({ hostKeyFingerprint: null });
    expect(hostUpdateInput.safeParse({ hostKeyFingerprint: "SHA256:" + "A".repeat(43) }).success).toBe(true);
    expect(hostUpdateInput.safeParse({ hostKeyFingerprint: "MD5:aa:bb" }).success).toBe(false);
    expect(hostUpdateInput.safeParse({ sshUser: "ops;id" }).success).toBe(false);
    expect(hostUpdateInput.safeParse({ address: "elsewhere" }).success).toBe(false);
  });
});
