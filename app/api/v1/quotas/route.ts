import { apiRoute, json } from "@/lib/api/handler";
import { limitsView } from "@/lib/policy/groups";
import { myQuotas, type QuotaLine } from "@/lib/policy/quota";

export const dynamic = "force-dynamic";

/** Memory in GiB, like the forms. */
function lines(ls: QuotaLine[]) {
  const pick = (k: "limit" | "used" | "left" | "need") => limitsView(Object.fromEntries(ls.map((l) => [l.resource, l[k]])) as never);
  return { limit: pick("limit"), used: pick("used"), left: pick("left") };
}

/** My quotas: per group I belong to and my own, each with limit, used and left (null: no limit). */
export const GET = apiRoute({}, async ({ db, actor }) => {
  const q = await myQuotas(db, actor.id);
  return json({
    user: { id: q.user.id, email: q.user.email, ...lines(q.user.lines) },
    groups: q.groups.map((g) => ({ id: g.id, slug: g.slug, name: g.name, kind: g.kind, role: g.role, ...lines(g.lines) })),
  });
});
