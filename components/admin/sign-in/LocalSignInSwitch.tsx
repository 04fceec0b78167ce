"use client";

import { useAction } from "../../policy/useAction";

/** Local sign-in for everyone, or for admins only (possible once a directory or single sign-on is configured). */
export function LocalSignInSwitch({ adminsOnly, possible }: { adminsOnly: boolean; possible: boolean }) {
  const action = useAction();
  return (
    <div className="space-y-2">
      <label className="flex items-start gap-2 text-sm">
        <input
          type="checkbox"
          className="mt-0.5"
          checked={adminsOnly}
          disabled={action.busy !== null || (!possible && !adminsOnly)}
          onChange={(e) =>
            action.run(
              "local",
              "/api/v1/sign-in/settings",
              "PUT",
              { localAdminsOnly: e.target.checked },
              e.target.checked ? "Local sign-in is for admins only now" : "Local sign-in is open to every local account again",
            )
          }
        />
        <span>
          <span className="font-medium text-slate-900">Local accounts for administrators only</span>
          <span className="block text-slate-600">
            {possible
              ? "Everybody else signs in through the directory or single sign-on; local admins keep their password, also when the directory is down."
              : "Configure a directory (LDAP_URL) or single sign-on (OIDC_ISSUER) first: otherwise nobody but the admins could sign in."}
          </span>
        </span>
      </label>
      {action.message ? <p role={action.message.ok ? "status" : "alert"} className={`text-sm ${action.message.ok ? "text-emerald-700" : "text-rose-700"}`}>{action.message.text}</p> : null}
    </div>
  );
}
