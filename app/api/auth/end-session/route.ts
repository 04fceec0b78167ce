import { getToken } from "next-auth/jwt";
import type { NextRequest } from "next/server";
import { authSecret, env } from "@/lib/env";
import { endSessionUrl } from "@/lib/auth/oidc";

export const dynamic = "force-dynamic";

/**
 * Where the browser goes after signing out of the portal: for a single sign-on session, the
 * identity provider's end-session endpoint (which comes back to /login), so that the next
 * "Sign in with ..." asks for the password again; else null (the sign-in page). Asked by the
 * sign-out button just before it ends the portal's session, which this reads.
 */
export async function GET(req: NextRequest) {
  const token = await getToken({ req, secret: authSecret() });
  const base = (env.NEXTAUTH_URL ?? env.PORTAL_URL ?? req.nextUrl.origin).replace(/\/+$/, "");
  const url = token?.method === "oidc" && typeof token.idToken === "string" ? await endSessionUrl(token.idToken, `${base}/login`) : null;
  return Response.json({ url }, { headers: { "Cache-Control": "no-store" } });
}
