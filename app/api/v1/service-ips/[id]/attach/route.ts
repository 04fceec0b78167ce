import { apiRoute, json } from "@/lib/api/handler";
import { requestServiceIpAttach } from "@/lib/lifecycle/service-ips";
import { serviceIpAttachInput } from "@/lib/net/service-ip-input";

/**
 * Points the service IP at a running environment of its group on its network: 202, queued (a
 * move when it points elsewhere: off the old guest, onto the new one); 200 when it points there already.
 */
export const POST = apiRoute({ body: serviceIpAttachInput }, async ({ db, actor, params, body }) => {
  const { status, body: answer } = await requestServiceIpAttach(db, actor, params.id, body);
  return json(answer, status);
});
