import { apiRoute, json } from "@/lib/api/handler";
import { requestReinstall } from "@/lib/lifecycle/reinstall";

/** Rebuilds the environment from its image (name, addresses and MACs stay; the disk is new); owner or admin; 202. */
export const POST = apiRoute({}, async ({ db, actor, params }) => json(await requestReinstall(db, actor, params.id), 202));
