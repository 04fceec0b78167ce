/** The health route as a load balancer sees it, on a process that has not touched Redis yet. */
import { expect, it } from "vitest";
import { GET } from "@/app/api/health/route";

it("answers 200 with database and Redis up on its very first call", async () => {
  const res = await GET();
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(await res.json()).toEqual({ status: "ok", database: { ok: true }, redis: { ok: true } });
});
