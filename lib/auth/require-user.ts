import { redirect } from "next/navigation";
import { currentUser } from "./session";

/**
 * For pages: the signed-in user, or a redirect to the sign-in page that comes back to `path`
 * afterwards. Role checks stay in the page, which shows an access-denied message instead.
 */
export async function requireUser(path: string) {
  const user = await currentUser();
  if (!user) redirect(`/login?next=${encodeURIComponent(path)}`);
  return user;
}
