/**
 * New invitation links on real PostgreSQL and a real SMTP server on loopback: a teacher sends
 * one student, or every student who has not set a password, a new link; the old link stops
 * working and the new one works once; a roster upload names students who never set a password;
 * strangers, students, bad bodies and ended courses are refused and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { and, eq, isNull } from "drizzle-orm";

vi.hoisted(() => {
  process.env.SMTP_URL = "smtp://127.0.0.1:2533";
  process.env.MAIL_FROM = "portal@portal.test";
});

import * as coursesRoute from "@/app/api/v1/courses/route";
import * as rosterRoute from "@/app/api/v1/courses/[id]/roster/route";
import * as invitationsRoute from "@/app/api/v1/courses/[id]/invitations/route";
import * as acceptRoute from "@/app/api/v1/invitations/accept/route";
import { auditEvents, courses, invitations, users } from "@/lib/db/schema";
import { invitationFor } from "@/lib/courses/invitations";
import { verifyPassword } from "@/lib/auth/password";
import { DAY_MS } from "@/lib/time";
import { invoke } from "../helpers/http";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { startWorkers, type RunningWorkers } from "@/workers/runtime";
import { bootPortal, makeGroup, makeUser, tokenFor, unique, waitFor, type Actor } from "../helpers/portal";

const { db } = await bootPortal();
let sink: SmtpSink;
let worker: RunningWorkers;
let teacher: Actor, otherTeacher: Actor, customer: Actor;
let teacherToken: string, otherTeacherToken: string, customerToken: string;

beforeAll(async () => {
  sink = await startSmtpSink(2533);
  const pool = await makeGroup(db, { autoApprove: false });
  teacher = await makeUser(db, "approver", pool.slug);
  otherTeacher = await makeUser(db, "approver", pool.slug);
  customer = await makeUser(db, "customer", pool.slug);
  [teacherToken, otherTeacherToken, customerToken] = await Promise.all([teacher, otherTeacher, customer].map((a) => tokenFor(db, a)));
  // The worker sends the queued e-mails.
  worker = await startWorkers();
});

afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const tokenOf = (link: string) => link.split("/invite/")[1];

async function createCourse(token: string) {
  const slug = `inv${unique("c").slice(2)}`;
  const res = await invoke(coursesRoute.POST, "POST", "/api/v1/courses", {
    token,
    body: { name: `Networks ${slug}`, slug, image: "linux-test", flavor: "small", startsOn: isoDay(new Date()), endsOn: isoDay(new Date(Date.now() + 10 * DAY_MS)) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, name: `Networks ${slug}` };
}

function upload(courseId: string, csv: string, token = teacherToken) {
  return invoke(rosterRoute.POST, "POST", `/api/v1/courses/${courseId}/roster`, { token, params: { id: courseId }, body: { csv } });
}

function renew(courseId: string, body: unknown, token = teacherToken) {
  return invoke(invitationsRoute.POST, "POST", `/api/v1/courses/${courseId}/invitations`, { token, params: { id: courseId }, body });
}

function accept(token: string, password: string) {
  return invoke(acceptRoute.POST, "POST", "/api/v1/invitations/accept", { body: { token, password } });
}

const unusedLinks = (userId: string) => db.select().from(invitations).where(and(eq(invitations.userId, userId), isNull(invitations.usedAt)));

describe("new invitation links", () => {
  let course: { id: string; name: string };
  const ann = { email: `${unique("ann")}@uni.test`, name: "Ann Lost" };
  const bob = { email: `${unique("bob")}@uni.test`, name: "Bob Late" };
  let annId: string, bobId: string;
  let annFirst: string, bobFirst: string;

  beforeAll(async () => {
    course = await createCourse(teacherToken);
    const res = await upload(course.id, `email,name\n${ann.email},${ann.name}\n${bob.email},${bob.name}\n${customer.email},Casey\n`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const byEmail = new Map((res.body.invitations as { studentId: string; email: string; link: string }[]).map((i) => [i.email, i]));
    annId = byEmail.get(ann.email)!.studentId;
    bobId = byEmail.get(bob.email)!.studentId;
    annFirst = tokenOf(byEmail.get(ann.email)!.link);
    bobFirst = tokenOf(byEmail.get(bob.email)!.link);
    // The customer has a password: not named as waiting for one.
    expect(res.body.notSignedIn).toEqual([]);
  });

  it("re-uploading a student who never set a password says so, and one new link replaces the lost one: the old link is not valid, the new one works once", async () => {
    const again = await upload(course.id, `${ann.email}\n`);
    expect(again.body).toMatchObject({ added: 0, alreadyOnRoster: [ann.email], invitations: [], notSignedIn: [{ studentId: annId, email: ann.email, name: ann.name }] });

    const res = await renew(course.id, { studentIds: [annId] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.invitations).toEqual([{ studentId: annId, email: ann.email, name: ann.name, link: expect.stringMatching(/\/invite\/[A-Za-z0-9_-]{40,}$/) }]);
    expect(res.body.mail).toEqual({ queued: 1, skipped: 0 });
    const fresh = tokenOf(res.body.invitations[0].link);
    expect(fresh).not.toBe(annFirst);

    // The e-mail carries the new link and says the old one is void.
    const mail = await waitFor(async () => sink.to(ann.email).filter((m) => m.subject.startsWith("Your new link")), (m) => m.length === 1, { what: "the new link's e-mail" });
    expect(mail[0].subject).toBe(`Your new link for the course ${course.name}`);
    expect(mail[0].text).toContain(`/invite/${fresh}`);
    expect(mail[0].text).toContain("Earlier links no longer work.");

    expect(await invitationFor(db, annFirst)).toEqual({ ok: false, why: "This invitation link is not valid. Ask your teacher for a new one." });
    const old = await accept(annFirst, "ann-lab-password");
    expect(old.status).toBe(422);
    expect(old.body.error).toBe("This invitation link is not valid. Ask your teacher for a new one.");
    expect(await unusedLinks(annId)).toHaveLength(1);
    // Bob's link is untouched.
    expect((await invitationFor(db, bobFirst)).ok).toBe(true);

    expect((await accept(fresh, "ann-lab-password")).status).toBe(200);
    const [row] = await db.select().from(users).where(eq(users.id, annId));
    expect(await verifyPassword("ann-lab-password", row.passwordHash)).toBe(true);
    expect((await accept(fresh, "another-password")).status).toBe(422);

    const [audit] = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, course.id), eq(auditEvents.action, "course.invitations_renew")));
    expect(audit).toMatchObject({ actorId: teacher.id, data: { students: [ann.email], all: false, mail: { queued: 1, skipped: 0 } } });
  });

  it("a student who has set a password gets no new link (409), and nothing changes", async () => {
    const res = await renew(course.id, { studentIds: [annId, bobId] });
    expect(res.status).toBe(409);
    expect(res.body.fields.studentIds).toEqual([`${ann.email} already set a password and signs in with it: no new link needed`]);
    expect((await invitationFor(db, bobFirst)).ok).toBe(true);
    const customerRow = await db.select({ id: users.id }).from(users).where(eq(users.email, customer.email));
    expect((await renew(course.id, { studentIds: [customerRow[0].id] })).status).toBe(409);
  });

  it("all: true sends a new link to every student who has not set a password, only to them", async () => {
    const res = await renew(course.id, { all: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.invitations.map((i: { email: string }) => i.email)).toEqual([bob.email]);
    expect((await invitationFor(db, bobFirst)).ok).toBe(false);
    expect((await invitationFor(db, tokenOf(res.body.invitations[0].link))).ok).toBe(true);
    expect(sink.to(customer.email)).toEqual([]);

    expect((await accept(tokenOf(res.body.invitations[0].link), "bob-lab-password")).status).toBe(200);
    const none = await renew(course.id, { all: true });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ invitations: [], mail: { queued: 0, skipped: 0 } });
  });

  it("two renewals at once leave exactly one working link", async () => {
    const carl = `${unique("carl")}@uni.test`;
    const up = await upload(course.id, `${carl},Carl\n`);
    const carlId = up.body.invitations[0].studentId as string;
    const [a, b] = await Promise.all([renew(course.id, { studentIds: [carlId] }), renew(course.id, { studentIds: [carlId] })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await unusedLinks(carlId)).toHaveLength(1);
    const valid = await Promise.all([a, b].map(async (r) => (await invitationFor(db, tokenOf(r.body.invitations[0].link))).ok));
    expect(valid.sort()).toEqual([false, true]);
  });

  it("an account invited by another course is named when uploaded to this one", async () => {
    const other = await createCourse(otherTeacherToken);
    const dana = `${unique("dana")}@uni.test`;
    expect((await upload(other.id, `${dana},Dana\n`, otherTeacherToken)).status).toBe(200);
    const res = await upload(course.id, `${dana},Dana\n`);
    expect(res.body).toMatchObject({ added: 1, invitations: [], notSignedIn: [{ email: dana, name: "Dana" }] });
    expect((await renew(course.id, { studentIds: [res.body.notSignedIn[0].studentId] })).status).toBe(200);
  });

  it("refuses strangers (404), the course's students (403), bad bodies (422) and an ended course (409), changing nothing", async () => {
    const before = await db.select().from(invitations);
    const missing = await renew("4b0f3a52-8d47-4a8e-9a51-6f0e9f3c2d10", { all: true });
    expect(missing.status).toBe(404);
    const stranger = await renew(course.id, { all: true }, otherTeacherToken);
    expect(stranger.status).toBe(404);
    const student = await renew(course.id, { all: true }, customerToken);
    expect(student.status).toBe(403);
    expect(student.body.error).toBe("Only the course's teacher can do that");

    const neither = await renew(course.id, {});
    expect(neither.status).toBe(422);
    expect(neither.body.fields._).toEqual(["Send studentIds (a list of students) or all: true, not both"]);
    expect((await renew(course.id, { all: true, studentIds: [annId] })).status).toBe(422);
    expect((await renew(course.id, { all: false })).status).toBe(422);
    expect((await renew(course.id, { studentIds: [] })).body.fields.studentIds).toEqual(["Name at least one student"]);
    expect((await renew(course.id, { studentIds: ["not-a-uuid"] })).body.fields["studentIds.0"]).toEqual(["Not a student's id"]);
    const notOnRoster = await renew(course.id, { studentIds: [customer.id, teacher.id] });
    expect(notOnRoster.status).toBe(422);
    expect(notOnRoster.body.fields.studentIds).toEqual([`${teacher.id} is not on the roster`]);

    await db.update(courses).set({ status: "ended" }).where(eq(courses.id, course.id));
    const ended = await renew(course.id, { all: true });
    expect(ended.status).toBe(409);
    expect(ended.body.error).toBe("The course has ended; its roster no longer gets invitations");
    expect(await db.select().from(invitations)).toEqual(before);
  });
});
