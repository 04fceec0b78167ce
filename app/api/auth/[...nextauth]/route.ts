import NextAuth from "next-auth";
import { signInOptions } from "@/lib/auth/options";

type Context = { params: Promise<{ nextauth: string[] }> };

async function handler(req: Request, context: Context) {
  return NextAuth(req as never, context as never, signInOptions(Object.fromEntries(req.headers)));
}

export { handler as GET, handler as POST };
