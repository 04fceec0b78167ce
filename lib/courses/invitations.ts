/**
 * One-time links to set a password. A roster upload makes one for each new student; the
 * teacher makes a new one for a student who lost theirs or let it expire, which replaces every
 * earlier link of that student. Only the sha256 of a token is stored: the link is shown to the
 * teacher once and e-mailed to the student.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { courseStudents, invitations, users } from "../db/schema";
import { conflict, UserError } from "../errors";
import { writeAudit } from "../audit/write";
import { env } from "../env";
import { hashPassword } from "../auth/password";
import { dispatchMail, portalLink, queueMail, type NewMail } from "../mail/outbox";
import { DAY_MS } from "../time";
import { teacherCourse } from "./access";
import type { RenewInvitationsInput } from "./input";
import type { Actor } from "../auth/actor";

/** Marks an account whose owner has not set a password yet: no password verifies against it. */
export const INVITED_PASSWORD = "!invited";

const NOT_VALID = "This invitation link is not valid. Ask your teacher for a new one.";

function hashInvitation(token: string) {
  return createHash("sha256").update(token).digest("hex");
}

/** Tokens are base64url; anything else cannot be one of ours. */
export const looksLikeInvitationToken = (token: string) => /^[A-Za-z0-9_-]{20,200}$/.test(token);

export type Invitee = { id: string; email: string; name: string };
export type IssuedInvitation = { studentId: string; email: string; name: string; link: string };

/**
 * A new link for each person, inside the caller's transaction; their unused earlier links stop
 * working (deleted, so they read as not valid).
 */
export async function issueInvitations(tx: Db, people: Invitee[], by: { actorId: string; courseId: string }, now: Date): Promise<IssuedInvitation[]> {
  if (people.length === 0) return [];
  await tx.delete(invitations).where(and(inArray(invitations.userId, people.map((p) => p.id)), isNull(invitations.usedAt)));
  const issued = people.map((p) => ({ ...p, token: randomBytes(32).toString("base64url") }));
  await tx.insert(invitations).values(
    issued.map((i) => ({ userId: i.id, tokenHash: hashInvitation(i.token), createdBy: by.actorId, courseId: by.courseId, expiresAt: new Date(now.getTime() + env.INVITATION_TTL_DAYS * DAY_MS) })),
  );
  return issued.map((i) => ({ studentId: i.id, email: i.email, name: i.name, link: portalLink(`/invite/${i.token}`) }));
}

/** Invitations e-mailed (queued: the worker sends them, retrying while the mail server is down), or not (no mail server). */
export type MailCount = { queued: number; skipped: number };

export const mailCount = (issued: IssuedInvitation[], mailIds: string[]): MailCount => ({ queued: mailIds.length, skipped: issued.length - mailIds.length });

/** The e-mail that carries each link to its student, for the outbox (queued in the caller's transaction). */
export function invitationMails(course: { name: string }, actor: Actor, issued: IssuedInvitation[], renewed: boolean): NewMail[] {
  const valid = `the link works once, for ${env.INVITATION_TTL_DAYS} days`;
  return issued.map((i) => ({
    userId: i.studentId,
    kind: "invitation",
    to: i.email,
    ...(renewed
      ? {
          subject: `Your new link for the course ${course.name}`,
          text: `Hello ${i.name},\n\n${actor.email} sent you a new link to set your password for the course ${course.name} on the environment portal. Earlier links no longer work. Set your password here (${valid}):\n\n${i.link}\n\nYou are then signed in; open Courses and press "Get my lab machine".\n`,
        }
      : {
          subject: `You are invited to the course ${course.name}`,
          text: `Hello ${i.name},\n\n${actor.email} added you to the course ${course.name} on the environment portal. Set your password here (${valid}):\n\n${i.link}\n\nYou are then signed in; open Courses and press "Get my lab machine".\n`,
        }),
  }));
}

/**
 * The teacher's new links for students who have not set a password yet: the named ones, or
 * all of them. Each replaces the student's earlier links, is e-mailed, and is returned once.
 */
export async function renewInvitations(db: Db, actor: Actor, courseId: string, input: RenewInvitationsInput, now = new Date()) {
  const course = await teacherCourse(db, actor, courseId);
  if (course.status === "ended") throw conflict("The course has ended; its roster no longer gets invitations");
  const { issued, mailIds } = await db.transaction(async (tx) => {
    // The students' rows stay locked until the new links are stored: two renewals at once
    // leave one valid link each, and a student setting a password meanwhile gets none.
    const roster = await tx
      .select({ id: users.id, email: users.email, name: users.name, passwordHash: users.passwordHash })
      .from(courseStudents)
      .innerJoin(users, eq(users.id, courseStudents.userId))
      .where(and(eq(courseStudents.courseId, courseId), input.studentIds ? inArray(users.id, input.studentIds) : undefined))
      .orderBy(asc(users.name), asc(users.email))
      .for("update", { of: users });
    if (input.studentIds) {
      const found = new Set(roster.map((r) => r.id));
      const missing = input.studentIds.filter((id) => !found.has(id));
      if (missing.length) throw new UserError("Only students on this course's roster get invitations", 422, { studentIds: missing.map((id) => `${id} is not on the roster`) });
      const active = roster.filter((r) => r.passwordHash !== INVITED_PASSWORD).map((r) => r.email);
      if (active.length) {
        throw conflict(`${active.join(", ")} already set ${active.length === 1 ? "a password" : "passwords"} and ${active.length === 1 ? "signs" : "sign"} in with it: no new link needed`, "studentIds");
      }
    }
    const waiting = roster.filter((r) => r.passwordHash === INVITED_PASSWORD);
    const issued = await issueInvitations(tx, waiting, { actorId: actor.id, courseId }, now);
    return { issued, mailIds: await queueMail(tx, invitationMails(course, actor, issued, true)) };
  });
  await dispatchMail(mailIds);
  const mail = mailCount(issued, mailIds);
  await writeAudit(db, {
    actorId: actor.id, action: "course.invitations_renew", targetType: "course", targetId: courseId,
    data: { students: issued.map((i) => i.email), all: input.all === true, mail },
  });
  return { invitations: issued, mail };
}

/** The invitation behind a token if it can still be used, with the invited user's e-mail. */
export async function invitationFor(db: Db, token: string, now = new Date()) {
  if (!looksLikeInvitationToken(token)) return { ok: false as const, why: NOT_VALID };
  const [row] = await db
    .select({ invitation: invitations, email: users.email, name: users.name })
    .from(invitations)
    .innerJoin(users, eq(users.id, invitations.userId))
    .where(eq(invitations.tokenHash, hashInvitation(token)));
  if (!row) return { ok: false as const, why: NOT_VALID };
  if (row.invitation.usedAt) return { ok: false as const, why: "This invitation link was already used. Sign in with the password you set." };
  if (row.invitation.expiresAt <= now) return { ok: false as const, why: "This invitation link has expired. Ask your teacher for a new one." };
  return { ok: true as const, email: row.email, name: row.name, invitation: row.invitation };
}

/** Sets the invited user's password and uses up the token (once: a second use is refused). */
export async function acceptInvitation(db: Db, token: string, password: string, now = new Date()) {
  const found = await invitationFor(db, token, now);
  if (!found.ok) throw new UserError(found.why, 422, { token: [found.why] });
  const passwordHash = await hashPassword(password);
  const used = await db
    .update(invitations)
    .set({ usedAt: now })
    .where(and(eq(invitations.id, found.invitation.id), isNull(invitations.usedAt)))
    .returning({ userId: invitations.userId });
  // Used meanwhile, or replaced by a newer link since it was read.
  if (used.length === 0) throw new UserError("This invitation link was already used or replaced. Sign in, or use the newest link.", 409, { token: ["Already used or replaced"] });
  await db
    .update(users)
    .set({ passwordHash, sessionVersion: sql`${users.sessionVersion} + 1` })
    .where(eq(users.id, found.invitation.userId));
  await writeAudit(db, { actorId: found.invitation.userId, action: "invitation.accept", targetType: "user", targetId: found.invitation.userId });
  return { email: found.email };
}
