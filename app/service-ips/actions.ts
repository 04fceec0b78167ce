"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { formValues, runAction } from "@/lib/api/form-action";
import { releaseServiceIp, reserveServiceIp } from "@/lib/net/service-ips";
import { serviceIpAttachInput, serviceIpInput } from "@/lib/net/service-ip-input";
import { requestServiceIpAttach, requestServiceIpDetach } from "@/lib/lifecycle/service-ips";
import { isUuid } from "@/lib/validation/ids";
import { notFound } from "@/lib/errors";

/**
 * The service IP forms (the Service IPs page and the order page's card) post here, so they
 * work without JavaScript; each goes back to the page it came from with what happened
 * (`sip_notice`) or why not (`sip_error`), both messages the portal writes for users.
 */

/** Where a form may send the browser back to: the Service IPs page or an order's page, nothing else. */
function backTo(form: FormData): string {
  const back = String(form.get("back") ?? "");
  return back === "/service-ips" || /^\/orders\/[0-9a-f-]{36}$/.test(back) ? back : "/service-ips";
}

function answer(back: string, result: { ok: true; message: string } | { ok: false; error: string; fields?: Record<string, string[]> }): never {
  const text = result.ok ? result.message : [result.error, ...Object.values(result.fields ?? {}).flat()].filter((v, i, all) => all.indexOf(v) === i).join(" · ");
  redirect(`${back}?${new URLSearchParams({ [result.ok ? "sip_notice" : "sip_error"]: text.slice(0, 400) })}#service-ips`);
}

const idOnly = z.strictObject({ id: z.string() });
const withId = (id: string) => {
  if (!isUuid(id)) throw notFound("Service IP");
  return id;
};

export async function reserveServiceIpAction(form: FormData): Promise<void> {
  const values = formValues(form, ["network", "name", "group"] as const);
  const result = await runAction(serviceIpInput, { network: values.network, name: values.name, ...(values.group ? { group: values.group } : {}) }, ({ db, actor, body }) =>
    reserveServiceIp(db, actor, body),
  );
  answer(backTo(form), result.ok ? { ok: true, message: `Reserved ${result.data.name}: ${result.data.ip} on ${result.data.network.name}` } : result);
}

export async function attachServiceIpAction(form: FormData): Promise<void> {
  const id = String(form.get("id") ?? "");
  const result = await runAction(serviceIpAttachInput, { environment: String(form.get("environment") ?? "") }, ({ db, actor, body }) =>
    requestServiceIpAttach(db, actor, withId(id), body),
  );
  answer(
    backTo(form),
    result.ok
      ? { ok: true, message: result.data.status === 200 ? `${result.data.body.name} already points there` : `${result.data.body.name} (${result.data.body.ip}): ${result.data.body.pending?.kind === "move" ? "move" : "attachment"} queued` }
      : result,
  );
}

export async function detachServiceIpAction(form: FormData): Promise<void> {
  const result = await runAction(idOnly, { id: String(form.get("id") ?? "") }, ({ db, actor, body }) => requestServiceIpDetach(db, actor, withId(body.id)));
  answer(backTo(form), result.ok ? { ok: true, message: `${result.data.body.name} (${result.data.body.ip}): detach ${result.data.status === 200 ? "done" : "queued"}` } : result);
}

export async function releaseServiceIpAction(form: FormData): Promise<void> {
  const result = await runAction(idOnly, { id: String(form.get("id") ?? "") }, ({ db, actor, body }) => releaseServiceIp(db, actor, withId(body.id)));
  answer(backTo(form), result.ok ? { ok: true, message: "Released: its address went back to the network" } : result);
}
