import { redirect } from "next/navigation";
import { pageUser } from "@/lib/auth/require-user";

export default async function Home() {
  const user = await pageUser();
  redirect(user ? "/catalog" : "/login");
}
