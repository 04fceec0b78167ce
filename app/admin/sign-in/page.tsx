import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { asc } from "drizzle-orm";
import { getDb } from "@/lib/db/client";
import { groups } from "@/lib/db/schema";
import { requireUser } from "@/lib/auth/require-user";
import { listSignInRules } from "@/lib/auth/sign-in-rules";
import { signInSettingsView } from "@/lib/auth/sign-in-settings";
import { PageHeader } from "@/components/PageHeader";
import { LocalSignInSwitch } from "@/components/admin/sign-in/LocalSignInSwitch";
import { SignInRuleForm } from "@/components/admin/sign-in/SignInRuleForm";
import { SignInRuleList } from "@/components/admin/sign-in/SignInRuleList";

export const metadata: Metadata = { title: "Sign-in" };

function Method({ name, state, detail, testId }: { name: string; state: string; detail: string; testId: string }) {
  return (
    <li className="card p-4" data-testid={testId}>
      <p className="font-medium text-slate-900">{name}</p>
      <p className="text-sm text-slate-700">{state}</p>
      <p className="mt-1 text-xs break-words text-slate-500">{detail}</p>
    </li>
  );
}

export default async function AdminSignInPage() {
  const user = await requireUser("/admin/sign-in");
  if (user.role !== "admin") forbidden();
  const db = await getDb();
  const [settings, rules, groupRows] = await Promise.all([
    signInSettingsView(db),
    listSignInRules(db),
    db.select({ slug: groups.slug, name: groups.name }).from(groups).orderBy(asc(groups.name)),
  ]);
  const { oidc, ldap } = settings.methods;
  return (
    <>
      <PageHeader
        title="Sign-in"
        description="How people sign in, and what the groups of the directory or the identity provider give them in the portal."
      />
      <div className="space-y-8">
        <section aria-labelledby="methods-heading" className="space-y-3">
          <h2 id="methods-heading">Methods</h2>
          <ul className="grid gap-3 md:grid-cols-3">
            <Method
              testId="method-local"
              name="Local accounts"
              state={settings.localAdminsOnly ? "Administrators only" : "Everyone with a local account"}
              detail="Passwords kept by the portal (hashed); accounts created on Admin."
            />
            <Method
              testId="method-ldap"
              name={ldap ? `Directory: ${ldap.name}` : "Directory (LDAP)"}
              state={ldap ? "Configured" : "Not configured"}
              detail={ldap ? ldap.url : "Set LDAP_URL, LDAP_USER_BASE and a search account (see README)."}
            />
            <Method
              testId="method-oidc"
              name={oidc ? `Single sign-on: ${oidc.name}` : "Single sign-on (OIDC)"}
              state={oidc ? "Configured" : "Not configured"}
              detail={oidc ? oidc.issuer : "Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (see README)."}
            />
          </ul>
          <LocalSignInSwitch adminsOnly={settings.localAdminsOnly} possible={Boolean(oidc || ldap)} />
        </section>
        <section aria-labelledby="rules-heading" className="space-y-3">
          <h2 id="rules-heading">Mapping rules ({rules.length})</h2>
          <p className="text-sm text-slate-600">
            At every sign-in through the directory or single sign-on, a user gets the highest role among the rules their groups match (admin, approver,
            customer, student) and joins each rule&apos;s group, as an approver for approver and admin rules. Memberships in groups that a rule names follow
            the directory: they end when the user is no longer in its group there. A user whose groups match no rule signs in with no access and is told so.
          </p>
          <SignInRuleList rules={rules.map((r) => ({ id: r.id, match: r.match, role: r.role, group: r.group && { slug: r.group.slug, name: r.group.name } }))} groups={groupRows} />
        </section>
        <section aria-labelledby="add-rule-heading" className="card p-5">
          <h2 id="add-rule-heading" className="mb-3 text-base">Add a rule</h2>
          <SignInRuleForm groups={groupRows} />
        </section>
      </div>
    </>
  );
}
