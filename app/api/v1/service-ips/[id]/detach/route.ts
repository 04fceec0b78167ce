import { apiRoute, json } from "@/lib/api/handler";
import { requestServiceIpDetach } from "@/lib/lifecycle/service-ips";

/** Takes the service IP off the environment it points at: 202, queued (200 when its environment is being retired: done at once). */
export const POST = apiRoute({}, async ({ db, actor, params }) => {
  const { status, body } = await requestServiceIpDetach(db, actor, params.id);
  return json(body, status);
});
