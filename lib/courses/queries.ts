import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import {
  courseMachines, courses, courseStudents, environments, flavors, groups, images, ipAllocations, memberships,
  networks, orders, users,
} from "../db/schema";
import { conflict, forbidden, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { parseRoster } from "./roster";
import { courseForActor, teacherCourse } from "./access";
import { INVITED_PASSWORD, invitationMails, issueInvitations, mailCount } from "./invitations";
import { dispatchMail, queueMail } from "../mail/outbox";
import type { CourseInput } from "./input";
import type { z } from "zod";
import type { courseUpdateInput } from "./input";
import { catalogChoiceErrors, defaultProductionNetwork, findFlavor, findImage, findNetwork } from "../catalog/queries";
import { notify } from "../notifications/queries";
import { DAY_MS } from "../time";
import type { Actor } from "../auth/actor";

export const dayStart = (isoDay: string) => new Date(`${isoDay}T00:00:00Z`);

/**
 * A teacher (an approver or admin) creates a course: a new group of kind "course" with the
 * teacher as its approver, and the course's dates, image, size and capacity.
 */
export async function createCourse(db: Db, actor: Actor, input: CourseInput, now = new Date()) {
  if (actor.role !== "approver" && actor.role !== "admin") throw forbidden("Only teachers (approvers) and admins can create courses");
  const [image, flavor, network] = await Promise.all([
    findImage(db, input.image),
    findFlavor(db, input.flavor),
    input.network ? findNetwork(db, input.network) : defaultProductionNetwork(db),
  ]);
  const fields = catalogChoiceErrors(input, { image, flavor, network });
  const endsAt = new Date(dayStart(input.endsOn).getTime() + DAY_MS);
  if (endsAt <= now) fields.endsOn = ["The course would already be over: choose a later end date"];
  if (Object.keys(fields).length || !image || !flavor || !network) throw new UserError("The course has invalid fields", 422, fields);

  const course = await db.transaction(async (tx) => {
    const [taken] = await tx.select({ id: groups.id }).from(groups).where(eq(groups.slug, input.slug));
    if (taken) throw conflict(`The short name ${input.slug} is already used by another group or course`, "slug");
    const [group] = await tx.insert(groups).values({ slug: input.slug, name: input.name, kind: "course", autoApprove: false }).returning();
    await tx.insert(memberships).values({ userId: actor.id, groupId: group.id, role: "approver" });
    const [course] = await tx
      .insert(courses)
      .values({
        groupId: group.id, slug: input.slug, name: input.name, teacherId: actor.id, imageId: image.id, flavorId: flavor.id,
        networkId: network.id, startsAt: dayStart(input.startsOn), endsAt, capacity: input.capacity ?? null,
      })
      .returning();
    return course;
  });
  await writeAudit(db, {
    actorId: actor.id, action: "course.create", targetType: "course", targetId: course.id,
    data: { slug: course.slug, image: image.slug, flavor: flavor.slug, startsOn: input.startsOn, endsOn: input.endsOn, capacity: input.capacity ?? null },
  });
  return { id: course.id, slug: course.slug, name: course.name };
}

/** The teacher changes the capacity or moves the end date (not into the past, not before the start). */
export async function updateCourse(db: Db, actor: Actor, courseId: string, input: z.infer<typeof courseUpdateInput>, now = new Date()) {
  const course = await teacherCourse(db, actor, courseId);
  if (course.status === "ended") throw conflict("The course has ended; it can no longer change");
  const set: Partial<typeof courses.$inferInsert> = {};
  if (input.capacity !== undefined) {
    const [taken] = await db.select({ n: count() }).from(courseMachines).where(eq(courseMachines.courseId, courseId));
    if (input.capacity !== null && input.capacity < taken.n) {
      throw new UserError("Invalid input", 422, { capacity: [`${taken.n} machines are already in use: the capacity cannot be less`] });
    }
    set.capacity = input.capacity;
  }
  if (input.endsOn !== undefined) {
    const endsAt = new Date(dayStart(input.endsOn).getTime() + DAY_MS);
    if (endsAt <= now) throw new UserError("Invalid input", 422, { endsOn: ["The course would already be over: choose a later end date"] });
    if (endsAt <= course.startsAt) throw new UserError("Invalid input", 422, { endsOn: ["The course must end after it starts"] });
    set.endsAt = endsAt;
  }
  await db.update(courses).set(set).where(eq(courses.id, courseId));
  await writeAudit(db, { actorId: actor.id, action: "course.update", targetType: "course", targetId: courseId, data: { ...input } });
  return courseView(db, actor, courseId);
}

/**
 * Adds the students of a CSV roster to the course. Unknown e-mails get a student account
 * and an invitation link (one-time, stored hashed) to set a password; known users are added
 * as they are. A roster with a bad line changes nothing: every bad line is reported. Students
 * of the roster who have an account but no password yet are named, so that the teacher can
 * send them a new link.
 */
export async function uploadRoster(db: Db, actor: Actor, courseId: string, csv: string, now = new Date()) {
  const course = await teacherCourse(db, actor, courseId);
  if (course.status === "ended") throw conflict("The course has ended; its roster can no longer change");
  const parsed = parseRoster(csv);
  if (parsed.errors.length) {
    const fields: Record<string, string[]> = {};
    for (const e of parsed.errors) (fields[`line ${e.line}`] ??= []).push(e.message);
    throw new UserError(
      `${parsed.errors.length} line${parsed.errors.length === 1 ? " is" : "s are"} not valid; nothing was added. Fix ${parsed.errors.length === 1 ? "it" : "them"} and upload again`,
      422,
      fields,
    );
  }
  if (parsed.students.length === 0) throw new UserError("The roster has no students: one e-mail address a line, optionally a name after a comma", 422, { roster: ["No students found"] });

  const emails = parsed.students.map((s) => s.email);
  const result = await db.transaction(async (tx) => {
    const known = await tx.select().from(users).where(inArray(users.email, emails));
    const byEmail = new Map(known.map((u) => [u.email, u]));
    const created: { id: string; email: string; name: string }[] = [];
    const fresh = parsed.students.filter((s) => !byEmail.has(s.email));
    if (fresh.length) {
      // Another upload may create the same student at the same moment: theirs wins, ours joins it.
      const rows = await tx
        .insert(users)
        .values(fresh.map((s) => ({ email: s.email, name: s.name, role: "student" as const, passwordHash: INVITED_PASSWORD })))
        .onConflictDoNothing({ target: users.email })
        .returning({ id: users.id, email: users.email, name: users.name });
      created.push(...rows);
      const all = await tx.select().from(users).where(inArray(users.email, fresh.map((s) => s.email)));
      for (const u of all) byEmail.set(u.email, u);
    }
    const ids = parsed.students.map((s) => byEmail.get(s.email)!.id);
    await tx
      .insert(memberships)
      .values(ids.map((userId) => ({ userId, groupId: course.groupId, role: "customer" as const })))
      .onConflictDoNothing();
    const added = await tx
      .insert(courseStudents)
      .values(ids.map((userId) => ({ courseId, userId })))
      .onConflictDoNothing()
      .returning({ userId: courseStudents.userId });
    const invites = await issueInvitations(tx, created, { actorId: actor.id, courseId }, now);
    const mailIds = await queueMail(tx, invitationMails(course, actor, invites, false));
    return { added: new Set(added.map((a) => a.userId)), invites, byEmail, mailIds };
  });
  await dispatchMail(result.mailIds);

  const userOf = (s: { email: string }) => result.byEmail.get(s.email)!;
  const invitedIds = new Set(result.invites.map((i) => i.studentId));
  const addedExisting = parsed.students.filter((s) => result.added.has(userOf(s).id) && !invitedIds.has(userOf(s).id));
  // Accounts made earlier (by this course or another) whose owner never set a password: their
  // link was lost or has expired, and only a new one lets them in.
  const notSignedIn = parsed.students
    .map(userOf)
    .filter((u) => u.passwordHash === INVITED_PASSWORD && !invitedIds.has(u.id))
    .map((u) => ({ studentId: u.id, email: u.email, name: u.name }));
  const mail = mailCount(result.invites, result.mailIds);
  await notify(
    db,
    addedExisting.map((s) => ({
      userId: userOf(s).id,
      kind: "course.added",
      title: `You were added to the course ${course.name}`,
      body: `Open Courses to get your lab machine.`,
      link: "/courses",
    })),
  );
  await writeAudit(db, {
    actorId: actor.id, action: "course.roster", targetType: "course", targetId: courseId,
    data: { lines: parsed.students.length, added: result.added.size, invited: result.invites.length, duplicates: parsed.duplicates.length },
  });
  return {
    students: parsed.students.length,
    added: result.added.size,
    alreadyOnRoster: parsed.students.filter((s) => !result.added.has(userOf(s).id)).map((s) => s.email),
    duplicates: parsed.duplicates,
    /** One-time links to set a password, shown to the teacher once (only their hashes are stored). */
    invitations: result.invites,
    notSignedIn,
    mail,
  };
}

const machineColumns = {
  studentId: courseMachines.studentId,
  orderId: courseMachines.orderId,
  resets: courseMachines.resets,
  name: orders.name,
  status: orders.status,
  reason: orders.reason,
  envState: environments.state,
  expiresAt: environments.expiresAt,
};

async function machinesOf(db: Db, courseId: string, studentId?: string) {
  const rows = await db
    .select(machineColumns)
    .from(courseMachines)
    .innerJoin(orders, eq(orders.id, courseMachines.orderId))
    .leftJoin(environments, eq(environments.orderId, orders.id))
    .where(studentId ? and(eq(courseMachines.courseId, courseId), eq(courseMachines.studentId, studentId)) : eq(courseMachines.courseId, courseId));
  const ids = rows.map((r) => r.orderId);
  const addresses = ids.length
    ? await db
        .select({ orderId: ipAllocations.orderId, ip: ipAllocations.ip, purpose: networks.purpose })
        .from(ipAllocations)
        .innerJoin(networks, eq(networks.id, ipAllocations.networkId))
        .where(inArray(ipAllocations.orderId, ids))
    : [];
  return rows.map((r) => ({
    ...r,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    ip: addresses.find((a) => a.orderId === r.orderId && a.purpose === "production")?.ip ?? null,
  }));
}

function courseSummary(c: typeof courses.$inferSelect, extra: { image: string; flavor: string; students: number; machines: number }) {
  return {
    id: c.id,
    slug: c.slug,
    name: c.name,
    status: c.status,
    startsAt: c.startsAt.toISOString(),
    endsAt: c.endsAt.toISOString(),
    capacity: c.capacity ?? extra.students,
    fixedCapacity: c.capacity !== null,
    image: extra.image,
    flavor: extra.flavor,
    students: extra.students,
    machines: extra.machines,
  };
}

async function summaries(db: Db, rows: { course: typeof courses.$inferSelect; image: string; flavor: string }[]) {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.course.id);
  const [students, machines] = await Promise.all([
    db.select({ id: courseStudents.courseId, n: count() }).from(courseStudents).where(inArray(courseStudents.courseId, ids)).groupBy(courseStudents.courseId),
    db.select({ id: courseMachines.courseId, n: count() }).from(courseMachines).where(inArray(courseMachines.courseId, ids)).groupBy(courseMachines.courseId),
  ]);
  return rows.map((r) =>
    courseSummary(r.course, {
      image: r.image,
      flavor: r.flavor,
      students: students.find((s) => s.id === r.course.id)?.n ?? 0,
      machines: machines.find((m) => m.id === r.course.id)?.n ?? 0,
    }),
  );
}

function courseRows(db: Db) {
  return db
    .select({ course: courses, image: images.name, flavor: flavors.name })
    .from(courses)
    .innerJoin(images, eq(images.id, courses.imageId))
    .innerJoin(flavors, eq(flavors.id, courses.flavorId));
}

/** Courses I teach (all for admins) and courses I attend, with my machine in each. */
export async function listCourses(db: Db, actor: Actor) {
  const teachingRows =
    actor.role === "admin"
      ? await courseRows(db).orderBy(asc(courses.startsAt))
      : await courseRows(db)
          .innerJoin(memberships, and(eq(memberships.groupId, courses.groupId), eq(memberships.userId, actor.id), eq(memberships.role, "approver")))
          .orderBy(asc(courses.startsAt));
  const attendingRows = await courseRows(db)
    .innerJoin(courseStudents, and(eq(courseStudents.courseId, courses.id), eq(courseStudents.userId, actor.id)))
    .orderBy(asc(courses.startsAt));
  const attending = await summaries(db, attendingRows);
  return {
    teaching: await summaries(db, teachingRows),
    attending: await Promise.all(attending.map(async (c) => ({ ...c, machine: (await machinesOf(db, c.id, actor.id))[0] ?? null }))),
  };
}

/** The course page: the teacher sees roster and machines; a student sees the course and their machine. */
export async function courseView(db: Db, actor: Actor, courseId: string) {
  const { course, teacher } = await courseForActor(db, actor, courseId);
  const [row] = await courseRows(db).where(eq(courses.id, courseId));
  const [summary] = await summaries(db, [row]);
  const [teacherRow] = await db.select({ email: users.email, name: users.name }).from(users).where(eq(users.id, course.teacherId));
  if (!teacher) {
    return { ...summary, teacher: teacherRow, isTeacher: false as const, roster: [], machines: await machinesOf(db, courseId, actor.id) };
  }
  const roster = await db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      invited: sql<boolean>`${users.passwordHash} = ${INVITED_PASSWORD}`,
      addedAt: courseStudents.addedAt,
    })
    .from(courseStudents)
    .innerJoin(users, eq(users.id, courseStudents.userId))
    .where(eq(courseStudents.courseId, courseId))
    .orderBy(asc(users.name), asc(users.email));
  return {
    ...summary,
    teacher: teacherRow,
    isTeacher: true as const,
    roster: roster.map((r) => ({ ...r, addedAt: r.addedAt.toISOString() })),
    machines: await machinesOf(db, courseId),
  };
}
