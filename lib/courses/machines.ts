/**
 * Lab machines of a course: one per student, by self-service, inside the course's block
 * (capacity = the set number, else the roster's size); reset to the golden image; retired
 * when the course ends.
 */
import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { courseMachines, courses, courseStudents, orders, pipelineRuns } from "../db/schema";
import { conflict, forbidden, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { lockForTransaction } from "../db/locks";
import { createRebuildRun, createRun, dispatchRun } from "../pipeline/runs";
import { startTeardown } from "../pipeline/engine";
import { announce } from "../pipeline/events";
import { HOSTNAME } from "../validation/fields";
import { DAY_MS } from "../time";
import { courseById, courseForActor, isStudentOf, isTeacherOf } from "./access";
import { notify } from "../notifications/queries";
import { recordOrderEvent } from "../notifications/order-events";
import { dispatchMail } from "../mail/outbox";
import type { Actor } from "../auth/actor";

export function courseMachineReason(courseName: string) {
  return `course ${courseName}: lab machine inside the course's allocation`;
}

async function machineOf(db: Db, courseId: string, studentId: string) {
  const [row] = await db
    .select({ orderId: courseMachines.orderId, name: orders.name, status: orders.status })
    .from(courseMachines)
    .innerJoin(orders, eq(orders.id, courseMachines.orderId))
    .where(and(eq(courseMachines.courseId, courseId), eq(courseMachines.studentId, studentId)));
  return row ?? null;
}

/**
 * "Get my lab machine": the student's one machine in the course. A second request (or a
 * second click racing the first) returns the machine that exists; the unique key on
 * (course, student) and the course's lock make that hold under concurrency.
 */
export async function requestMachine(db: Db, actor: Actor, courseId: string, now = new Date()) {
  // A student was found on the roster by courseForActor; a teacher gets a machine only from it too.
  const { course, teacher } = await courseForActor(db, actor, courseId);
  if (teacher && !(await isStudentOf(db, actor, courseId))) throw forbidden(`You are not on the roster of ${course.name}; ask the teacher to add you`);
  const existing = await machineOf(db, courseId, actor.id);
  if (existing) return { ...existing, created: false };
  if (course.status === "ended" || course.endsAt <= now) throw conflict(`${course.name} has ended; its lab machines are retired`);
  if (course.startsAt > now) throw conflict(`${course.name} starts on ${course.startsAt.toISOString().slice(0, 10)}; lab machines are available from then`);

  const result = await db.transaction(async (tx) => {
    // One course at a time: the capacity count and the machine's name see every other request.
    await lockForTransaction(tx, "courseMachines", courseId);
    const [again] = await tx
      .select({ orderId: courseMachines.orderId })
      .from(courseMachines)
      .where(and(eq(courseMachines.courseId, courseId), eq(courseMachines.studentId, actor.id)));
    if (again) return { orderId: again.orderId, run: null };
    const [[taken], [roster]] = await Promise.all([
      tx.select({ n: count() }).from(courseMachines).where(eq(courseMachines.courseId, courseId)),
      tx.select({ n: count() }).from(courseStudents).where(eq(courseStudents.courseId, courseId)),
    ]);
    const capacity = course.capacity ?? roster.n;
    if (taken.n >= capacity) {
      throw conflict(`All ${capacity} lab machines of ${course.name} are taken; ask the teacher to raise the course's capacity`);
    }
    // <slug>-01, <slug>-02, ...: the next number whose name no live order uses.
    let name = "";
    for (let n = taken.n + 1; ; n++) {
      name = `${course.slug}-${String(n).padStart(2, "0")}`;
      if (!HOSTNAME.test(name)) throw new UserError(`The course's short name ${course.slug} cannot name machines`, 409);
      const [clash] = await tx
        .select({ id: orders.id })
        .from(orders)
        .where(and(eq(orders.name, name), sql`${orders.status} not in ('rejected', 'cancelled', 'retired')`));
      if (!clash) break;
    }
    const leaseDays = Math.min(365, Math.max(1, Math.ceil((course.endsAt.getTime() - now.getTime()) / DAY_MS)));
    const [order] = await tx
      .insert(orders)
      .values({
        userId: actor.id,
        groupId: course.groupId,
        imageId: course.imageId,
        flavorId: course.flavorId,
        networkId: course.networkId,
        name,
        purpose: "test",
        leaseDays,
        status: "queued",
        reason: courseMachineReason(course.name),
      })
      .returning();
    await tx.insert(courseMachines).values({ courseId, studentId: actor.id, orderId: order.id });
    const run = await createRun(tx, order.id, "provision");
    await writeAudit(tx, {
      actorId: actor.id, action: "course.machine", targetType: "order", targetId: order.id,
      data: { course: course.slug, decision: "course-allocation", name },
    });
    return { orderId: order.id, run };
  });
  if (result.run) await dispatchRun(result.run);
  const machine = (await machineOf(db, courseId, actor.id))!;
  return { ...machine, created: Boolean(result.run) };
}

/**
 * Reset to the golden image: the rebuild an environment's reinstall runs too
 * (createRebuildRun): the same order, host, name, IP and MAC addresses, guest and disk
 * built again from the image.
 */
export async function resetMachine(db: Db, actor: Actor, courseId: string, studentId: string) {
  const course = await courseById(db, courseId);
  if (!(await isTeacherOf(db, actor, course))) {
    await courseForActor(db, actor, courseId); // 404 for strangers
    throw forbidden("Only the course's teacher can reset lab machines");
  }
  const machine = await machineOf(db, courseId, studentId);
  if (!machine) throw new UserError("That student has no lab machine in this course", 404);
  const run = await db.transaction(async (tx) => {
    const rebuild = await createRebuildRun(tx, machine.orderId, `reset to the golden image by ${actor.email}: rebuilding`);
    if (!rebuild) throw conflict(`${machine.name} is ${machine.status.replace("_", " ")}; a machine can be reset when it is ready`);
    await tx.update(courseMachines).set({ resets: sql`${courseMachines.resets} + 1` }).where(eq(courseMachines.orderId, machine.orderId));
    return rebuild;
  });
  await writeAudit(db, { actorId: actor.id, action: "course.machine_reset", targetType: "order", targetId: machine.orderId, data: { course: course.slug, student: studentId } });
  await notify(db, {
    userId: studentId,
    kind: "course.machine_reset",
    title: `${machine.name} is being reset to the golden image`,
    body: `${actor.email} reset your lab machine in ${course.name}: its disk is rebuilt from the image; name and addresses stay the same.`,
    link: `/orders/${machine.orderId}`,
  });
  await announce(machine.orderId, "reset");
  await dispatchRun(run);
  return { orderId: machine.orderId, name: machine.name, status: "queued" as const };
}

/** Resets every ready machine of the course; the others are listed with their state. */
export async function resetAllMachines(db: Db, actor: Actor, courseId: string) {
  const course = await courseById(db, courseId);
  if (!(await isTeacherOf(db, actor, course))) {
    await courseForActor(db, actor, courseId);
    throw forbidden("Only the course's teacher can reset lab machines");
  }
  const machines = await db
    .select({ studentId: courseMachines.studentId, name: orders.name, status: orders.status })
    .from(courseMachines)
    .innerJoin(orders, eq(orders.id, courseMachines.orderId))
    .where(eq(courseMachines.courseId, courseId));
  const reset: string[] = [];
  const skipped: { name: string; status: string }[] = [];
  for (const m of machines) {
    if (m.status !== "ready") {
      skipped.push({ name: m.name, status: m.status });
      continue;
    }
    try {
      await resetMachine(db, actor, courseId, m.studentId);
      reset.push(m.name);
    } catch (err) {
      if (err instanceof UserError && err.status === 409) skipped.push({ name: m.name, status: "busy" });
      else throw err;
    }
  }
  return { reset, skipped };
}

/**
 * Retires the machines of courses that have ended (at `now`): delivered machines are torn
 * down (addresses freed), machines still waiting are cancelled. Safe to run twice: every
 * change is conditional on the state it leaves.
 */
export async function sweepCourses(db: Db, now = new Date()) {
  const ended = await db
    .select()
    .from(courses)
    .where(and(eq(courses.status, "active"), sql`${courses.endsAt} <= ${now.toISOString()}`));
  const report: { course: string; retired: string[]; cancelled: string[] }[] = [];
  for (const course of ended) {
    const machines = await db
      .select({ orderId: orders.id, name: orders.name, status: orders.status, studentId: orders.userId })
      .from(courseMachines)
      .innerJoin(orders, eq(orders.id, courseMachines.orderId))
      .where(eq(courseMachines.courseId, course.id));
    const retired: string[] = [];
    const cancelled: string[] = [];
    for (const m of machines) {
      if (m.status === "ready" || m.status === "expiring" || m.status === "failed") {
        const mailIds = await db.transaction(async (tx) => {
          const moved = await tx
            .update(orders)
            .set({ status: "retiring", reason: `course ${course.name} ended: lab machine retired`, updatedAt: now })
            .where(and(eq(orders.id, m.orderId), inArray(orders.status, ["ready", "expiring", "failed"])))
            .returning({ id: orders.id });
          return moved.length ? recordOrderEvent(tx, { kind: "environment.retired", orderId: m.orderId, why: `the course ${course.name} ended` }) : null;
        });
        if (mailIds) {
          await dispatchMail(mailIds);
          await startTeardown(db, m.orderId);
          retired.push(m.name);
        }
      } else if (m.status === "queued" || m.status === "provisioning" || m.status === "pending_approval") {
        // A provisioning run sees the cancel at its next step and tears down what it built.
        const moved = await db
          .update(orders)
          .set({ status: "cancelled", reason: `course ${course.name} ended before the machine was ready`, updatedAt: now })
          .where(and(eq(orders.id, m.orderId), inArray(orders.status, ["queued", "provisioning", "pending_approval"])))
          .returning({ id: orders.id });
        if (moved.length) {
          await db.update(pipelineRuns).set({ status: "cancelled", finishedAt: now }).where(and(eq(pipelineRuns.orderId, m.orderId), eq(pipelineRuns.status, "queued")));
          await announce(m.orderId, "cancelled");
          cancelled.push(m.name);
        }
      }
    }
    const closed = await db
      .update(courses)
      .set({ status: "ended", endedAt: now })
      .where(and(eq(courses.id, course.id), eq(courses.status, "active")))
      .returning({ id: courses.id });
    if (closed.length) {
      await writeAudit(db, { actorId: null, action: "course.end", targetType: "course", targetId: course.id, data: { retired, cancelled } });
      await notify(db, {
        userId: course.teacherId,
        kind: "course.ended",
        title: `${course.name} ended: ${retired.length} lab machine${retired.length === 1 ? "" : "s"} retired`,
        body: cancelled.length ? `${cancelled.length} machine(s) that were still being built were cancelled.` : "",
        link: `/courses/${course.id}`,
      });
    }
    report.push({ course: course.slug, retired, cancelled });
  }
  if (report.length) console.log(`[courses] ended ${report.map((r) => `${r.course} (${r.retired.length} retired)`).join(", ")}`);
  return report;
}
