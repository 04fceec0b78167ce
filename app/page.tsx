import { redirect } from "next/navigation";
import { pageUser } from "@/lib/auth/require-user";

/**
 * Where signing in lands: students get lab machines from their courses, not from the catalog
 * (whose orders need a customer group); everyone else orders from the catalog.
 */
export default async function Home() {
  const user = await pageUser();
  if (!user) redirect("/login");
  redirect(user.role === "student" ? "/courses" : "/catalog");
}
