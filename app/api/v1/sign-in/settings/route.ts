import { apiRoute, json } from "@/lib/api/handler";
import { signInSettingsInput } from "@/lib/auth/sign-in-input";
import { setSignInSettings, signInSettingsView } from "@/lib/auth/sign-in-settings";

export const dynamic = "force-dynamic";

/** The configured sign-in methods, and whether local accounts are for admins only (admins). */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db }) => json(await signInSettingsView(db)));

export const PUT = apiRoute({ body: signInSettingsInput, roles: ["admin"] }, async ({ db, actor, body }) => json(await setSignInSettings(db, actor, body)));
