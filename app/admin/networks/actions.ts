"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { runAction } from "@/lib/api/form-action";
import { addRoute, removeRoute } from "@/lib/net/routes";
import { isUuid } from "@/lib/validation/ids";
import { notFound } from "@/lib/errors";

/**
 * The routes form of /admin/networks (works without JavaScript): marks two networks as routed
 * or separates them again, then goes back to the page with what happened or why not.
 */
const pair = z.strictObject({ network: z.string().trim().min(1, "Choose a network"), other: z.string().trim().min(1, "Choose the other network") });

function back(result: { ok: true; message: string } | { ok: false; error: string; fields?: Record<string, string[]> }): never {
  const text = result.ok ? result.message : [result.error, ...Object.values(result.fields ?? {}).flat()].filter((v, i, all) => all.indexOf(v) === i).join(" · ");
  redirect(`/admin/networks?${new URLSearchParams({ [result.ok ? "notice" : "error"]: text.slice(0, 400) })}#routes`);
}

const values = (form: FormData) => ({ network: String(form.get("network") ?? ""), other: String(form.get("other") ?? "") });
const checkedId = (id: string) => {
  if (!isUuid(id)) throw notFound("Network");
  return id;
};

export async function routeNetworksAction(form: FormData): Promise<void> {
  const result = await runAction(pair, values(form), ({ db, actor, body }) => addRoute(db, actor, checkedId(body.network), body.other));
  back(result.ok ? { ok: true, message: result.data.created ? `Routed ${result.data.route.networks.join(" and ")}: applied to the running hosts now` : `${result.data.route.networks.join(" and ")} were routed already` } : result);
}

export async function separateNetworksAction(form: FormData): Promise<void> {
  const result = await runAction(pair, values(form), ({ db, actor, body }) => removeRoute(db, actor, checkedId(body.network), body.other));
  back(result.ok ? { ok: true, message: `${result.data.networks.join(" and ")} are kept apart again: applied to the running hosts now` } : result);
}
