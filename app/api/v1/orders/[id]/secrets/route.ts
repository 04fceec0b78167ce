import { apiRoute, json } from "@/lib/api/handler";
import { orderForActor } from "@/lib/orders/queries";
import { revealOrderSecrets } from "@/lib/recipes/reveal";

export const dynamic = "force-dynamic";

/** The owner's one look at the passwords the order's recipe made; afterwards only their hash is kept. */
export const POST = apiRoute({}, async ({ db, actor, params }) => {
  const order = await orderForActor(db, actor, params.id);
  const res = json(await revealOrderSecrets(db, actor, order));
  res.headers.set("Cache-Control", "no-store");
  return res;
});
