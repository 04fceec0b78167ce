/** Who may see or change a course: its teachers (the approvers of its group, and admins) and its students. */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { courses, courseStudents } from "../db/schema";
import { forbidden, notFound } from "../errors";
import { isApproverFor } from "../policy/approvers";
import type { Actor } from "../auth/actor";

export async function courseById(db: Db, courseId: string) {
  const [course] = await db.select().from(courses).where(eq(courses.id, courseId));
  if (!course) throw notFound("Course");
  return course;
}

/** Teachers are the approvers of the course's group (and admins). */
export async function isTeacherOf(db: Db, actor: Actor, course: { groupId: string }) {
  return isApproverFor(db, actor, course.groupId);
}

export async function isStudentOf(db: Db, actor: Actor, courseId: string) {
  const [row] = await db.select({ id: courseStudents.userId }).from(courseStudents).where(and(eq(courseStudents.courseId, courseId), eq(courseStudents.userId, actor.id)));
  return Boolean(row);
}

/** The course if the actor teaches or attends it (else 404), and which of the two. */
export async function courseForActor(db: Db, actor: Actor, courseId: string) {
  const course = await courseById(db, courseId);
  if (await isTeacherOf(db, actor, course)) return { course, teacher: true };
  if (await isStudentOf(db, actor, courseId)) return { course, teacher: false };
  throw notFound("Course");
}

/** The course if the actor teaches it; 403 for its students, 404 for anyone else. */
export async function teacherCourse(db: Db, actor: Actor, courseId: string) {
  const { course, teacher } = await courseForActor(db, actor, courseId);
  if (!teacher) throw forbidden("Only the course's teacher can do that");
  return course;
}
