/** The health route as a load balancer sees it, on a process that has not touched Redis yet. */
import { expect, it } from "vitest";
import { GET } from "@/app/api/health/route";
import { getQueue, upsertSchedulers } from "@/lib/jobs/queues";

it("answers 200 with database and Redis up on its very first call; no worker has created the job schedulers yet: degraded, naming them", async () => {
  const res = await GET();
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = await res.json();
  expect(body).toMatchObject({ status: "degraded", database: { ok: true }, redis: { ok: true }, schedulers: { ok: false, missing: ["reconcile", "leases", "courses", "usage"] } });
  expect(body.schedulers.error).toContain("reconcile, leases, courses, usage");
});

it("is ok once the schedulers exist, and names the one Redis lost", async () => {
  await upsertSchedulers();
  expect(await (await GET()).json()).toEqual({ status: "ok", database: { ok: true }, redis: { ok: true }, schedulers: { ok: true } });
  await getQueue("maintenance").removeJobScheduler("leases");
  const res = await GET();
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: "degraded", schedulers: { ok: false, missing: ["leases"] } });
});
