/**
 * What a refused sign-in tells the user, for every method. Credential forms get the text as
 * next-auth's error; single sign-on comes back to /login?error=<code>, which the page looks
 * up here (next-auth's own codes included). No server imports: the sign-in page shows these.
 */
export const signInErrors = {
  "too-many-account": "Too many failed sign-ins for this account; try again in 15 minutes",
  "too-many-address": "Too many failed sign-ins from your network address; try again in 15 minutes",
  disabled: "This account is disabled; ask an administrator of the portal",
  "local-admin": "This e-mail belongs to a local administrator account: sign in with its password",
  "local-admins-only": "Local accounts are for administrators only here: sign in with your organisation's account",
  "directory-down":
    "The directory cannot be reached right now, so directory accounts cannot sign in; try again in a few minutes. Administrators can still sign in with their local account.",
  "directory-no-email": "Your directory account has no e-mail address, which the portal needs; ask your directory's administrators to add one",
  "oidc-no-email": "The identity provider gave no verified e-mail address for your account, which the portal needs; ask its administrators",
  "oidc-down": "The single sign-on service cannot be reached right now; try again in a few minutes",
  "oidc-failed": "Signing in through single sign-on did not work; try again, and tell an administrator if it keeps failing",
  "oidc-denied": "The identity provider did not let you sign in",
} as const;

export type SignInErrorCode = keyof typeof signInErrors;

/** next-auth's error codes on /login?error=... (https://next-auth.js.org/configuration/pages#error-codes) in our words. */
const nextAuthCodes = new Map<string, SignInErrorCode>(Object.entries({
  OAuthSignin: "oidc-down",
  Configuration: "oidc-down",
  OAuthCallback: "oidc-failed",
  Callback: "oidc-failed",
  OAuthCreateAccount: "oidc-failed",
  OAuthAccountNotLinked: "oidc-failed",
  Default: "oidc-failed",
  AccessDenied: "oidc-denied",
} satisfies Record<string, SignInErrorCode>));

/** The message for /login?error=<code>, or null for no error. */
export function signInErrorMessage(code: string | undefined): string | null {
  if (!code) return null;
  if (Object.hasOwn(signInErrors, code)) return signInErrors[code as SignInErrorCode];
  return signInErrors[nextAuthCodes.get(code) ?? "oidc-failed"];
}
