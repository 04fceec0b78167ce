import { cache } from "react";
import { redirect } from "next/navigation";
import { currentUser } from "./session";

/**
 * The signed-in user for this request. The layout and the page both ask; `cache` makes that
 * one session check and one database read per request.
 */
export const pageUser = cache(currentUser);

/**
 * For pages: the signed-in user, or a redirect to the sign-in page that comes back to `path`
 * afterwards. Role checks stay in the page, which shows an access-denied message instead.
 */
export async function requireUser(path: string) {
  const user = await pageUser();
  if (!user) redirect(`/login?next=${encodeURIComponent(path)}`);
  return user;
}
