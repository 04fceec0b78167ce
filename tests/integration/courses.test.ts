/**
 * Courses on real PostgreSQL, Redis and workers: a teacher creates a course and uploads a CSV
 * roster (bad lines refuse it whole; unknown students are invited by a one-time link, e-mailed
 * to a real SMTP server on loopback); 30 students each get exactly one lab machine by
 * self-service, even clicking at once and twice; the teacher resets one to the golden image;
 * the course's end retires every machine and frees the addresses.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { and, eq, inArray } from "drizzle-orm";

vi.hoisted(() => {
  process.env.SMTP_URL = "smtp://127.0.0.1:2526";
  process.env.MAIL_FROM = "portal@portal.test";
});

import * as coursesRoute from "@/app/api/v1/courses/route";
import * as courseRoute from "@/app/api/v1/courses/[id]/route";
import * as rosterRoute from "@/app/api/v1/courses/[id]/roster/route";
import * as machineRoute from "@/app/api/v1/courses/[id]/machine/route";
import * as resetRoute from "@/app/api/v1/courses/[id]/machines/[studentId]/reset/route";
import * as resetAllRoute from "@/app/api/v1/courses/[id]/reset-all/route";
import * as acceptRoute from "@/app/api/v1/invitations/accept/route";
import * as ordersRoute from "@/app/api/v1/orders/route";
import { auditEvents, courseMachines, courses, courseStudents, invitations, ipAllocations, mails, orders, simObjects, users } from "@/lib/db/schema";
import { verifyPassword } from "@/lib/auth/password";
import { enqueueMaintenance, getQueue } from "@/lib/jobs/queues";
import { DAY_MS } from "@/lib/time";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { invoke } from "../helpers/http";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, waitForOrder, type Actor } from "../helpers/portal";

const { db } = await bootPortal();
let worker: RunningWorkers;
let sink: SmtpSink;
let teacher: Actor, customer: Actor;
let teacherToken: string, customerToken: string;

beforeAll(async () => {
  sink = await startSmtpSink(2526);
  const pool = await makeGroup(db, { autoApprove: false });
  teacher = await makeUser(db, "approver", pool.slug);
  customer = await makeUser(db, "customer", pool.slug);
  teacherToken = await tokenFor(db, teacher);
  customerToken = await tokenFor(db, customer);
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

function csvRequest(courseId: string, csv: string, token: string) {
  return rosterRoute.POST(
    new Request(`http://portal.test/api/v1/courses/${courseId}/roster`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" }, body: csv }),
    { params: Promise.resolve({ id: courseId }) },
  );
}

async function createCourse(slug: string, extra: Record<string, unknown> = {}) {
  const res = await invoke(coursesRoute.POST, "POST", "/api/v1/courses", {
    token: teacherToken,
    body: { name: `Operating Systems ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: isoDay(new Date()), endsOn: isoDay(new Date(Date.now() + 10 * DAY_MS)), ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("a course with a set number of machines", () => {
  it("gives machines until the block is used up, refuses the next with the reason, and resets all ready machines at once", async () => {
    const courseId = await createCourse(`cap${Date.now().toString(36).slice(-5)}`, { capacity: 2 });
    const emails = [1, 2, 3].map(() => `${unique("c")}@uni.test`);
    const up = await csvRequest(courseId, emails.join("\n"), teacherToken);
    expect(up.status).toBe(200);
    const rows = await db.select().from(users).where(inArray(users.email, emails));
    const byEmail = new Map(rows.map((u) => [u.email, u]));
    const ask = async (email: string) => {
      const u = byEmail.get(email)!;
      return invoke(machineRoute.POST, "POST", "/x", { token: await tokenFor(db, { id: u.id, role: u.role, email }), params: { id: courseId } });
    };
    expect((await ask(emails[0])).status).toBe(201);
    expect((await ask(emails[1])).status).toBe(201);
    const third = await ask(emails[2]);
    expect(third.status).toBe(409);
    expect(third.body.error).toMatch(/^All 2 lab machines of Operating Systems cap\w+ are taken; ask the teacher to raise the course's capacity$/);
    // The teacher raises the block by one: the third student gets a machine.
    const student = await invoke(courseRoute.PATCH, "PATCH", "/x", { token: customerToken, params: { id: courseId }, body: { capacity: 3 } });
    expect(student.status).toBe(404);
    const lower = await invoke(courseRoute.PATCH, "PATCH", "/x", { token: teacherToken, params: { id: courseId }, body: { capacity: 1 } });
    expect(lower.status).toBe(422);
    expect(lower.body.fields.capacity).toEqual(["2 machines are already in use: the capacity cannot be less"]);
    const raised = await invoke(courseRoute.PATCH, "PATCH", "/x", { token: teacherToken, params: { id: courseId }, body: { capacity: 3 } });
    expect(raised.status).toBe(200);
    expect(raised.body.capacity).toBe(3);
    expect((await ask(emails[2])).status).toBe(201);
    const machines = await db.select().from(courseMachines).where(eq(courseMachines.courseId, courseId));
    for (const m of machines) await waitForOrder(db, m.orderId, ["ready"]);

    const all = await invoke(resetAllRoute.POST, "POST", "/x", { token: teacherToken, params: { id: courseId } });
    expect(all.status).toBe(200);
    expect(all.body.reset).toHaveLength(3);
    for (const m of machines) expect((await waitForOrder(db, m.orderId, ["ready", "failed"])).status).toBe("ready");
    const after = await db.select().from(courseMachines).where(eq(courseMachines.courseId, courseId));
    expect(after.map((m) => m.resets)).toEqual([1, 1, 1]);
  });
});

describe("a course of 30 students", () => {
  let courseId: string;
  let slug: string;
  const students = Array.from({ length: 30 }, (_, i) => ({ email: `${unique("s")}@uni.test`, name: `Student ${i + 1}` }));
  const machineOrders = new Map<string, string>();

  it("a customer cannot create a course; bad fields are named", async () => {
    const refused = await invoke(coursesRoute.POST, "POST", "/api/v1/courses", {
      token: customerToken,
      body: { name: "Nope", slug: "nope", image: "linux-test", flavor: "small", startsOn: "2026-01-01", endsOn: "2027-01-01" },
    });
    expect(refused.status).toBe(403);
    const bad = await invoke(coursesRoute.POST, "POST", "/api/v1/courses", {
      token: teacherToken,
      body: { name: "OS", slug: "1os", image: "linux-test", flavor: "small", startsOn: "2026-05-02", endsOn: "2026-05-01" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.fields).toMatchObject({
      name: ["Name needs at least 3 characters"],
      slug: ["Use lowercase letters, digits and hyphens; start with a letter"],
      endsOn: ["The course must end after it starts"],
    });
  });

  it("a roster with bad lines changes nothing and names each line", async () => {
    slug = `os${Date.now().toString(36).slice(-5)}`;
    courseId = await createCourse(slug);
    const res = await csvRequest(courseId, "email,name\nann@uni.test,Ann\nnot-an-email,Bob\n\"broken,Carl\n", teacherToken);
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error).toBe("2 lines are not valid; nothing was added. Fix them and upload again");
    expect(body.fields).toEqual({ "line 3": ['"not-an-email" is not an e-mail address'], "line 4": ["a quoted field is not closed"] });
    expect(await db.select().from(courseStudents).where(eq(courseStudents.courseId, courseId))).toEqual([]);
    expect(await db.select().from(users).where(eq(users.email, "ann@uni.test"))).toEqual([]);
  });

  it("uploading the roster creates student accounts with one-time invitation links (stored hashed, e-mailed) and adds known users as they are", async () => {
    const csv = ["email,name", ...students.map((s) => `${s.email},${s.name}`), `${students[0].email},Again`].join("\n");
    const res = await csvRequest(courseId, csv, teacherToken);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ students: 30, added: 30, alreadyOnRoster: [], mail: { queued: 30, skipped: 0 } });
    expect(body.duplicates).toEqual([{ line: 32, message: `${students[0].email} is already on line 2; kept once` }]);
    expect(body.invitations).toHaveLength(30);

    // The links work once; only their hashes are in the database.
    const link: string = body.invitations[0].link;
    const token = link.split("/invite/")[1];
    expect(token.length).toBeGreaterThanOrEqual(40);
    const stored = await db.select().from(invitations).where(eq(invitations.courseId, courseId));
    expect(stored).toHaveLength(30);
    expect(JSON.stringify(stored)).not.toContain(token);
    // Sent by the worker's mail queue.
    const mail = await waitFor(async () => sink.to(body.invitations[0].email), (m) => m.length > 0, { what: "the invitation e-mail" });
    expect(mail).toHaveLength(1);
    expect(mail[0].subject).toBe(`You are invited to the course Operating Systems ${slug}`);
    expect(mail[0].text).toContain(`/invite/${token}`);
    // Once sent, the outbox no longer holds the link either.
    const outbox = await waitFor(() => db.select().from(mails).where(eq(mails.to, body.invitations[0].email)), (rows) => rows[0]?.status === "sent", { what: "the invitation's mail row to be sent" });
    expect(JSON.stringify(outbox)).not.toContain(token);

    const short = await invoke(acceptRoute.POST, "POST", "/api/v1/invitations/accept", { body: { token, password: "short" } });
    expect(short.status).toBe(422);
    expect(short.body.fields.password).toEqual(["Password needs at least 8 characters"]);
    const accepted = await invoke(acceptRoute.POST, "POST", "/api/v1/invitations/accept", { body: { token, password: "my-lab-password" } });
    expect(accepted.status).toBe(200);
    const [student] = await db.select().from(users).where(eq(users.email, body.invitations[0].email));
    expect(student.role).toBe("student");
    expect(await verifyPassword("my-lab-password", student.passwordHash)).toBe(true);
    const reused = await invoke(acceptRoute.POST, "POST", "/api/v1/invitations/accept", { body: { token, password: "another-password" } });
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatch(/already used/);

    // A second upload of the same file adds nobody twice.
    const again = await (await csvRequest(courseId, csv, teacherToken)).json();
    expect(again).toMatchObject({ added: 0, invitations: [] });
    expect(again.alreadyOnRoster).toHaveLength(30);
    // The 29 who have not set a password are named, for a new link.
    expect(again.notSignedIn).toHaveLength(29);
    expect(again.notSignedIn.map((s: { email: string }) => s.email)).not.toContain(body.invitations[0].email);
  });

  it("30 students clicking at once (ten of them twice) get exactly one machine each, approved inside the course's allocation", async () => {
    const rows = await db.select().from(users).where(inArray(users.email, students.map((s) => s.email)));
    const tokens = new Map<string, string>();
    for (const u of rows) tokens.set(u.id, await tokenFor(db, { id: u.id, role: u.role, email: u.email }));
    const clicks = [...rows, ...rows.slice(0, 10)].map((u) =>
      invoke(machineRoute.POST, "POST", `/api/v1/courses/${courseId}/machine`, { token: tokens.get(u.id), params: { id: courseId } }).then((r) => ({ user: u.id, ...r })),
    );
    const answers = await Promise.all(clicks);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(30);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    for (const a of answers) {
      const seen = machineOrders.get(a.user);
      if (seen) expect(a.body.orderId).toBe(seen);
      else machineOrders.set(a.user, a.body.orderId);
    }
    const machines = await db.select().from(courseMachines).where(eq(courseMachines.courseId, courseId));
    expect(machines).toHaveLength(30);
    expect(new Set(machines.map((m) => m.studentId)).size).toBe(30);
    const [course] = await db.select().from(courses).where(eq(courses.id, courseId));
    const made = await db.select().from(orders).where(eq(orders.groupId, course.groupId));
    expect(made).toHaveLength(30);
    expect(made.map((o) => o.name).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `${slug}-${String(i + 1).padStart(2, "0")}`));
    for (const o of made) expect(o.reason).toBe(`course Operating Systems ${slug}: lab machine inside the course's allocation`);

    // Someone not on the roster gets no machine.
    const stranger = await invoke(machineRoute.POST, "POST", `/api/v1/courses/${courseId}/machine`, { token: customerToken, params: { id: courseId } });
    expect(stranger.status).toBe(404);

    // A lab machine comes from the course page; the catalog never orders into the course's group.
    const someone = tokens.get(rows[0].id);
    const catalog = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: someone, body: { image: "linux-test", flavor: "small", name: unique("cat") } });
    expect(catalog.status).toBe(409);
    expect(catalog.body.error).toBe("You are not in any group yet: ask an admin to add you to one");
    const named = await invoke(ordersRoute.POST, "POST", "/api/v1/orders", { token: someone, body: { image: "linux-test", flavor: "small", name: unique("cat"), group: course.groupId } });
    expect(named.status).toBe(422);
    expect(named.body.fields.group[0]).toMatch(/is a course: get its lab machine on the Courses page$/);
    expect(await db.select().from(orders).where(eq(orders.groupId, course.groupId))).toHaveLength(30);

    for (const o of made) expect((await waitForOrder(db, o.id, ["ready", "failed"], 120_000)).status).toBe("ready");
    const prod = await db.select().from(ipAllocations).where(inArray(ipAllocations.orderId, made.map((o) => o.id)));
    expect(prod).toHaveLength(60); // a service and a production address each
    expect(new Set(prod.map((a) => a.ip)).size).toBe(60);
  });

  it("the teacher sees roster and machines, and resets one machine to the golden image: same name and addresses, disk rebuilt", async () => {
    const view = await invoke(courseRoute.GET, "GET", `/api/v1/courses/${courseId}`, { token: teacherToken, params: { id: courseId } });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ isTeacher: true, students: 30, machines: expect.any(Array), capacity: 30 });
    expect(view.body.roster).toHaveLength(30);
    expect(view.body.roster.filter((r: { invited: boolean }) => r.invited)).toHaveLength(29);

    const [studentId, orderId] = [...machineOrders.entries()][3];
    const before = await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, orderId));
    const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
    const volume = () => db.select().from(simObjects).where(and(eq(simObjects.kind, "volume"), eq(simObjects.name, order.name)));
    expect((await volume())[0].createdCount).toBe(1);

    const student = await db.select().from(users).where(eq(users.id, studentId));
    const studentToken = await tokenFor(db, { id: studentId, role: student[0].role, email: student[0].email });
    const notAllowed = await invoke(resetRoute.POST, "POST", "/x", { token: studentToken, params: { id: courseId, studentId } });
    expect(notAllowed.status).toBe(403);

    const reset = await invoke(resetRoute.POST, "POST", "/x", { token: teacherToken, params: { id: courseId, studentId } });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    const busy = await invoke(resetRoute.POST, "POST", "/x", { token: teacherToken, params: { id: courseId, studentId } });
    expect(busy.status).toBe(409);
    const rebuilt = await waitForOrder(db, orderId, ["ready", "failed"]);
    expect(rebuilt.status).toBe("ready");
    expect(rebuilt.steps.slice(0, 3).map((s) => [s.name, s.status])).toEqual([["halt", "succeeded"], ["destroy", "succeeded"], ["place", "succeeded"]]);
    expect(rebuilt.steps.every((s) => s.status === "succeeded")).toBe(true);
    const after = await db.select().from(ipAllocations).where(eq(ipAllocations.orderId, orderId));
    expect(after.map((a) => [a.ip, a.mac]).sort()).toEqual(before.map((a) => [a.ip, a.mac]).sort());
    expect((await volume())[0]).toMatchObject({ state: "created", createdCount: 2 });
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, orderId), eq(auditEvents.action, "course.machine_reset")));
    expect(audit.map((a) => a.actorId)).toEqual([teacher.id]);
  });

  it("students are warned 7 days and 1 day before the course ends (once each); at the end every machine is retired and its addresses are freed", async () => {
    const [course] = await db.select().from(courses).where(eq(courses.id, courseId));
    const queue = getQueue("maintenance");
    const leaseSweep = async (at: number) => {
      const job = await enqueueMaintenance({ task: "leases", now: new Date(at).toISOString() });
      await waitFor(async () => (await queue.getJob(job!))?.getState(), (s) => s === "completed", { what: "the lease sweep" });
    };
    const warnings = () => sink.messages.filter((m) => m.subject.includes(`Operating Systems ${slug} ends`));
    await leaseSweep(course.endsAt.getTime() - 7 * DAY_MS + 3_600_000);
    await leaseSweep(course.endsAt.getTime() - 7 * DAY_MS + 7_200_000);
    await waitFor(async () => warnings(), (w) => w.length >= 30, { what: "the 7-day warnings by e-mail" });
    expect(warnings()).toHaveLength(30);
    expect(new Set(warnings().flatMap((m) => m.to)).size).toBe(30);
    expect(warnings()[0].subject).toMatch(new RegExp(`^${slug}-\\d\\d is retired in 7 days: Operating Systems ${slug} ends$`));
    await leaseSweep(course.endsAt.getTime() - DAY_MS + 3_600_000);
    await waitFor(async () => warnings(), (w) => w.length >= 60, { what: "the 1-day warnings by e-mail" });
    expect(warnings()).toHaveLength(60);
    expect(warnings().filter((m) => m.subject.includes("retired in 1 day"))).toHaveLength(30);

    const id = await enqueueMaintenance({ task: "courses", now: new Date(course.endsAt.getTime() + 60_000).toISOString() });
    await waitFor(async () => (await queue.getJob(id!))?.getState(), (s) => s === "completed", { what: "the course sweep" });
    const ids = [...machineOrders.values()];
    for (const orderId of ids) expect((await waitForOrder(db, orderId, ["retired", "failed"], 120_000)).status).toBe("retired");
    expect(await db.select().from(ipAllocations).where(inArray(ipAllocations.orderId, ids))).toEqual([]);
    const [ended] = await db.select().from(courses).where(eq(courses.id, courseId));
    expect(ended.status).toBe("ended");
    // Ended: no new machine, and a second sweep changes nothing.
    const late = await enqueueMaintenance({ task: "courses", now: new Date(course.endsAt.getTime() + 120_000).toISOString() });
    await waitFor(async () => (await queue.getJob(late!))?.getState(), (s) => s === "completed", { what: "the second sweep" });
    expect((await queue.getJob(late!))!.returnvalue).toEqual([]);
  });
});
