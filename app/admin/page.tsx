import { forbidden, redirect } from "next/navigation";
import { requireUser } from "@/lib/auth/require-user";

/** The admin's landing page is the users list; the sub-menu leads to the others. */
export default async function AdminPage() {
  const user = await requireUser("/admin");
  if (user.role !== "admin") forbidden();
  redirect("/admin/users");
}
