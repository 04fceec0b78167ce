import { z } from "zod";
import { numeric } from "../validation/fields";

/** Course slugs name the course's group and its machines (<slug>-01): they start with a letter. */
export const COURSE_SLUG = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;

/** The form date fields take: `2026-12-06`, as the portal shows dates (components/format.ts). */
export const DATE_FORMAT = "YYYY-MM-DD";

/** A calendar day as YYYY-MM-DD: 2026-02-30 is refused, not read as March 2. */
const day = z
  .string({ message: `Enter a date as ${DATE_FORMAT}` })
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: `Enter the date as ${DATE_FORMAT}, e.g. 2026-12-06`, abort: true })
  .refine(isCalendarDay, { error: (issue) => `${String(issue.input)} is not a day of the calendar` });

function isCalendarDay(s: string) {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/** A new course, as the teacher's form and POST /api/v1/courses send it (the browser loads this too). */
export const courseInput = z
  .strictObject({
    name: z.string().trim().min(3, "Name needs at least 3 characters").max(100, "Name can have at most 100 characters"),
    slug: z
      .string()
      .trim()
      .min(2, "Short name needs at least 2 characters")
      .max(24, "Short name can have at most 24 characters")
      .regex(COURSE_SLUG, "Use lowercase letters, digits and hyphens; start with a letter"),
    image: z.string().trim().min(1, "Choose an image").max(100),
    flavor: z.string().trim().min(1, "Choose a size").max(100),
    network: z.string().trim().min(1).max(100).optional(),
    startsOn: day,
    endsOn: day,
    capacity: numeric(
      z
        .number({ message: "Capacity is a number of machines" })
        .int("Capacity is a whole number")
        .min(1, "Capacity is at least 1")
        .max(1000, "Capacity is at most 1000"),
    ).optional(),
  })
  .refine((c) => c.endsOn > c.startsOn, {
    path: ["endsOn"],
    message: "The course must end after it starts",
    // Only two valid dates can be compared.
    when: (payload) => !payload.issues.some((i) => i.path?.[0] === "startsOn" || i.path?.[0] === "endsOn"),
  });

export type CourseInput = z.infer<typeof courseInput>;

/** The fields of the page's course form, all strings as a form posts them. */
export const courseFormFields = ["name", "slug", "image", "flavor", "startsOn", "endsOn", "capacity"] as const;
export type CourseFormValues = Record<(typeof courseFormFields)[number], string>;

/** The course form's fields as courseInput takes them: an empty capacity means one machine per student. */
export const courseFormBody = (v: CourseFormValues) => ({ ...v, capacity: v.capacity.trim() === "" ? undefined : v.capacity });

export const acceptInvitationInput = z.strictObject({
  token: z.string().trim().min(20, "This invitation link is not valid").max(200),
  password: z.string().min(8, "Password needs at least 8 characters").max(200),
});

/** New invitation links for the named students, or for all who have not set a password yet. */
export const renewInvitationsInput = z
  .strictObject({
    studentIds: z.array(z.string().uuid("Not a student's id"), { message: "A list of the students' ids" }).min(1, "Name at least one student").max(1000).optional(),
    all: z.literal(true, { message: "all is true or left out" }).optional(),
  })
  .refine((v) => (v.studentIds === undefined) !== (v.all === undefined), { path: ["_"], message: "Send studentIds (a list of students) or all: true, not both" });

export type RenewInvitationsInput = z.infer<typeof renewInvitationsInput>;

/** What a teacher may change later: the capacity (null: one per student) and the end date. */
export const courseUpdateInput = z
  .strictObject({
    capacity: z
      .number({ message: "Capacity is a number of machines" })
      .int("Capacity is a whole number")
      .min(1, "Capacity is at least 1")
      .max(1000, "Capacity is at most 1000")
      .nullable()
      .optional(),
    endsOn: day.optional(),
  })
  .refine((v) => v.capacity !== undefined || v.endsOn !== undefined, { path: ["_"], message: "Change the capacity or the end date" });

export const courseSettingsFields = ["capacity", "endsOn"] as const;
export type CourseSettingsValues = Record<(typeof courseSettingsFields)[number], string>;

/** The settings form's fields as courseUpdateInput takes them: an empty capacity means one machine per student. */
export const courseSettingsBody = (v: CourseSettingsValues) => ({ capacity: v.capacity.trim() === "" ? null : Number(v.capacity), endsOn: v.endsOn });
