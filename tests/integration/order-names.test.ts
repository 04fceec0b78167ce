/** A host name belongs to one live order at a time, even when orders race. */
import { expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { cancelOrder } from "@/lib/orders/queries";
import { orders } from "@/lib/db/schema";
import { bootPortal, order, unique } from "../helpers/portal";

const { db, admin } = await bootPortal();

it("of five simultaneous orders for the same name, one is accepted and the others get 409", async () => {
  const name = unique("race");
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => order(db, admin, { name })));
  const accepted = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  expect(accepted).toHaveLength(1);
  expect(refused.map((r) => r.reason.status)).toEqual([409, 409, 409, 409]);
  expect(refused[0].reason.fields).toEqual({ name: ["Name already in use"] });
  expect(await db.select().from(orders).where(eq(orders.name, name))).toHaveLength(1);
});

it("a name is free again once its order is cancelled", async () => {
  const name = unique("again");
  const first = await order(db, admin, { name });
  await expect(order(db, admin, { name })).rejects.toMatchObject({ status: 409 });
  await cancelOrder(db, admin, first.id);
  const second = await order(db, admin, { name });
  expect(second.status).toBe("queued");
  expect(second.id).not.toBe(first.id);
});
