import { apiRoute, json } from "@/lib/api/handler";
import { dryRunPlan } from "@/lib/orders/plan";
import { planInput } from "@/lib/orders/plan-input";

export const dynamic = "force-dynamic";

/** Dry run (admins): the exact commands and files an order would run on its host; runs nothing. */
export const POST = apiRoute({ body: planInput, roles: ["admin"] }, async ({ db, actor, body }) => json(await dryRunPlan(db, actor, body)));
