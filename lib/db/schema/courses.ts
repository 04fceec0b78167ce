import { index, integer, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { groups, users } from "./users";
import { flavors, images } from "./catalog";
import { networks } from "./networks";
import { orders } from "./orders";

/** A course: a group of kind "course" with dates, one image and size, and a block of lab machines. */
export const courses = pgTable("courses", {
  id: uuid("id").primaryKey().defaultRandom(),
  groupId: uuid("group_id").notNull().unique().references(() => groups.id),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  teacherId: uuid("teacher_id").notNull().references(() => users.id),
  imageId: uuid("image_id").notNull().references(() => images.id),
  flavorId: uuid("flavor_id").notNull().references(() => flavors.id),
  networkId: uuid("network_id").notNull().references(() => networks.id),
  startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
  endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
  /** Lab machines the course may hold; null means one per student on the roster. */
  capacity: integer("capacity"),
  status: text("status", { enum: ["active", "ended"] }).notNull().default("active"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  endedAt: timestamp("ended_at", { withTimezone: true }),
});

export const courseStudents = pgTable(
  "course_students",
  {
    courseId: uuid("course_id").notNull().references(() => courses.id, { onDelete: "cascade" }),
    userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] })],
);

/** Exactly one lab machine per student and course: the unique key holds under concurrent clicks. */
export const courseMachines = pgTable(
  "course_machines",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    courseId: uuid("course_id").notNull().references(() => courses.id),
    studentId: uuid("student_id").notNull().references(() => users.id),
    orderId: uuid("order_id").notNull().unique().references(() => orders.id),
    /** Times the teacher reset it to the golden image. */
    resets: integer("resets").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("course_machines_one_per_student").on(t.courseId, t.studentId), index("course_machines_course_idx").on(t.courseId)],
);

/** One-time links to set a password; only the sha256 of the token is stored. */
export const invitations = pgTable("invitations", {
  id: uuid("id").primaryKey().defaultRandom(),
  userId: uuid("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  createdBy: uuid("created_by").references(() => users.id),
  courseId: uuid("course_id").references(() => courses.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
});
