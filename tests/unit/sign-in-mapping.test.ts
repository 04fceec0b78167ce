/** The pure parts of directory and single sign-on sign-in: group mapping, LDAP filters, claims, messages. */
import { describe, expect, it } from "vitest";
import { accessFor, normalGroup, type MappingRule } from "@/lib/auth/mapping";
import { escapeFilterValue, fillFilter } from "@/lib/auth/ldap";
import { groupsOf } from "@/lib/auth/oidc";
import { signInErrorMessage, signInErrors } from "@/lib/auth/sign-in-errors";

const physics = "11111111-1111-4111-8111-111111111111";
const chemistry = "22222222-2222-4222-8222-222222222222";
const rules: MappingRule[] = [
  { match: "lab-admins", role: "admin", groupId: null },
  { match: normalGroup("CN=Physics, OU=Groups, DC=lab"), role: "customer", groupId: physics },
  { match: "physics-staff", role: "approver", groupId: physics },
  { match: "chemistry", role: "student", groupId: chemistry },
];

describe("mapping groups to roles and memberships", () => {
  it("compares groups without case and without spaces around , and = in DNs", () => {
    expect(normalGroup("  CN=Physics , OU=Groups,DC = lab ")).toBe("cn=physics,ou=groups,dc=lab");
    expect(accessFor(rules, ["cn=physics,ou=groups,dc=lab"])).toEqual({ role: "customer", memberships: new Map([[physics, "customer"]]) });
    expect(accessFor(rules, ["CN=PHYSICS,OU=GROUPS,DC=LAB"]).role).toBe("customer");
  });

  it("gives the highest role of the matching rules, and each rule's group, as an approver where any rule says approver", () => {
    const access = accessFor(rules, ["chemistry", "cn=physics,ou=groups,dc=lab", "physics-staff"]);
    expect(access.role).toBe("approver");
    expect(access.memberships).toEqual(new Map([[chemistry, "customer"], [physics, "approver"]]));
    // The order of the groups does not matter.
    expect(accessFor(rules, ["physics-staff", "cn=physics,ou=groups,dc=lab", "chemistry"])).toEqual(access);
    expect(accessFor(rules, ["lab-admins", "chemistry"]).role).toBe("admin");
  });

  it("gives no role and no membership when nothing matches, also a near miss", () => {
    expect(accessFor(rules, ["marketing", "cn=physics,ou=groups,dc=lab2", "lab-admins-old"])).toEqual({ role: null, memberships: new Map() });
    expect(accessFor([], ["lab-admins"]).role).toBeNull();
  });
});

describe("LDAP filters", () => {
  it("escapes what the user typed so that it can only be a value (RFC 4515)", () => {
    expect(escapeFilterValue("*")).toBe("\\2a");
    expect(escapeFilterValue("bob)(uid=*")).toBe("bob\\29\\28uid=\\2a");
    expect(escapeFilterValue("a\\b\u0000")).toBe("a\\5cb\\00");
    expect(fillFilter("(|(uid={login})(mail={login}))", { login: "x*)(|(uid=*" })).toBe("(|(uid=x\\2a\\29\\28|\\28uid=\\2a)(mail=x\\2a\\29\\28|\\28uid=\\2a))");
    expect(fillFilter("(member={dn})", { dn: "cn=O'Brien (ext),ou=people" })).toBe("(member=cn=O'Brien \\28ext\\29,ou=people)");
  });
});

describe("the OIDC groups claim", () => {
  it("reads a list, a single string or a dotted path, and ignores what is not a name", () => {
    expect(groupsOf({ groups: ["physics", "", 7, null, "lab-admins"] })).toEqual(["physics", "lab-admins"]);
    expect(groupsOf({ groups: "physics" })).toEqual(["physics"]);
    expect(groupsOf({ realm_access: { roles: ["lab-admins"] } }, "realm_access.roles")).toEqual(["lab-admins"]);
    expect(groupsOf({ realm_access: "nope" }, "realm_access.roles")).toEqual([]);
    expect(groupsOf({})).toEqual([]);
  });
});

describe("sign-in error messages", () => {
  it("are the portal's own words for its codes and next-auth's, and never echo the query", () => {
    expect(signInErrorMessage(undefined)).toBeNull();
    expect(signInErrorMessage("local-admin")).toBe(signInErrors["local-admin"]);
    expect(signInErrorMessage("OAuthSignin")).toBe(signInErrors["oidc-down"]);
    expect(signInErrorMessage("AccessDenied")).toBe(signInErrors["oidc-denied"]);
    expect(signInErrorMessage("<script>alert(1)</script>")).toBe(signInErrors["oidc-failed"]);
    expect(signInErrorMessage("toString")).toBe(signInErrors["oidc-failed"]);
  });
});
