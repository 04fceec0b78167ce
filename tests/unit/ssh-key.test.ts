/**
 * SSH public keys as users paste them: real keys made with ssh-keygen are accepted, and their
 * fingerprints equal what `ssh-keygen -lf` printed for them; anything that could smuggle a
 * second line, a shell fragment or a private key into a guest is refused with a reason.
 */
import { describe, expect, it } from "vitest";
import { sshFingerprint } from "@/lib/validation/ssh-fingerprint";
import { sshKeyInput, sshKeyProblem } from "@/lib/validation/ssh-key";

// Made with ssh-keygen -t ed25519 / -t rsa -b 2048 / -t ecdsa; fingerprints from ssh-keygen -lf.
const ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILPlaFvZ5rFXdMUgRAPZwMbePo4z9GWNyjlo35zmdBdN alice@laptop";
const rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCyv8a1lQGZFqnPxiQSpOPx7bzm4PsAVE/puLtURl8clUdm5/newnU8yvc+qHUg6XGv9ZIs63z4Wzwfy70K3kmWvx5UOU8gxWaOzMSqQrmTgF9GPxq9RPqzpTL/EAGYp5yfSz9SHgjREY4LxeeRz+FF9etc/70d/OuMdjC2rCdOhmbxZ8/JPcq9advHukPkKqmc3+qSx7Xmq4P1izGOChNKupobuSkj70qTGh+e7NuqhwqmmaXlgKnMSvQ5EOfvmM0vILVCtVmvosuXC0WOo+RoPdNLSIBoUe2TUK/oQY16SAJ514L/dbAKEBlaglwx5/XlBUUdwp09urot/CPLhoP1 bob work";
const ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHhLNM9w6fKYSwffx4ZvaCIu3XhV5zeMXeUf6pXmjx0Rw36Aw+AeqSJ7gBh4gAnG62HSyXLtPa5vWDCxoecU188= root@vm";

describe("SSH public keys", () => {
  it("accepts real ed25519, RSA and ECDSA keys, with or without a comment", () => {
    for (const key of [ed25519, rsa, ecdsa, ed25519.split(" ").slice(0, 2).join(" ")]) expect(sshKeyProblem(key), key).toBeNull();
  });

  it("computes the fingerprints ssh-keygen prints", () => {
    expect(sshFingerprint(ed25519)).toBe("SHA256:iVlRxRcMfi2ik2JF4Kc98cmxdBroV/GddPaI0GarcXI");
    expect(sshFingerprint(rsa)).toBe("SHA256:yRddXlPZviWkSuNfGWTWajIWadNozgUZCjezpypKlt4");
    expect(sshFingerprint(ecdsa)).toBe("SHA256:+w+9qjaDAm6PQt1QbkbnoBR4amw1eP8s9Hdy4MUc164");
  });

  it("trims what was pasted around the key", () => {
    expect(sshKeyInput.parse({ sshPublicKey: `  ${ed25519}\n` })).toEqual({ sshPublicKey: ed25519 });
  });

  it.each([
    ["a second line", `${ed25519}\nssh-rsa AAAA evil`, "Paste one key on one line"],
    ["a shell fragment in the comment", `${ed25519}; rm -rf /`, "Use the form"],
    ["command substitution", `${ed25519} $(reboot)`, "Use the form"],
    ["quotes", `${ed25519} "x"`, "Use the form"],
    ["authorized_keys options", `command="/bin/sh" ${ed25519}`, "Use the form"],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----", "private key"],
    ["an unknown type", "ssh-dss AAAAC3NzaC1lZDI1NTE5AAAAILPlaFvZ5rFXdMUgRAPZwMbePo4z9GWNyjlo35zmdBdN", "Key type ssh-dss is not supported"],
    ["data of another type", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILPlaFvZ5rFXdMUgRAPZwMbePo4z9GWNyjlo35zmdBdN", "The key data is a ssh-ed25519 key, but the line says ssh-rsa"],
    ["data that is not a key", "ssh-ed25519 AAAAAAAA", "not valid base64 key data"],
    ["an oversized line", `ssh-ed25519 ${"A".repeat(9000)}`, "at most 8192 characters"],
  ])("refuses %s", (_what, line, message) => {
    expect(sshKeyProblem(line)).toContain(message);
    const parsed = sshKeyInput.safeParse({ sshPublicKey: line });
    expect(parsed.success).toBe(false);
  });

  it("asks for a key when the field is empty, and refuses unknown fields", () => {
    expect(sshKeyInput.safeParse({ sshPublicKey: "  " }).error?.issues[0].message).toBe("Paste your public key");
    expect(sshKeyInput.safeParse({ sshPublicKey: ed25519, user: "root" }).success).toBe(false);
  });
});
