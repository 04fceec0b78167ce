import { apiRoute, json } from "@/lib/api/handler";
import { reinstallInput } from "@/lib/lifecycle/input";
import { requestReinstall } from "@/lib/lifecycle/reinstall";

/** Rebuilds the environment from its image (name, addresses and MACs stay; the data filesystem too when asked); owner or admin; 202. */
export const POST = apiRoute({ body: reinstallInput }, async ({ db, actor, params, body }) => json(await requestReinstall(db, actor, params.id, body), 202));
