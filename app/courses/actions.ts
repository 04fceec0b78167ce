"use server";

import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { formValues, runAction } from "@/lib/api/form-action";
import { createCourse, updateCourse } from "@/lib/courses/queries";
import {
  courseFormBody, courseFormFields, courseInput, courseSettingsBody, courseSettingsFields, courseUpdateInput,
  type CourseFormValues, type CourseSettingsValues,
} from "@/lib/courses/input";
import { isUuid } from "@/lib/validation/ids";
import { notFound } from "@/lib/errors";
import type { FormState } from "@/components/useActionForm";

/**
 * The course forms' server actions, so that they work without JavaScript too (the API routes
 * serve API clients). Each returns the form's state: what was sent, and the messages per field.
 */

/** Creates the course and opens its page. */
export async function createCourseAction(_: FormState<CourseFormValues>, form: FormData): Promise<FormState<CourseFormValues>> {
  const values = formValues(form, courseFormFields);
  const result = await runAction(courseInput, courseFormBody(values), ({ db, actor, body }) => createCourse(db, actor, body));
  if (!result.ok) return { values, error: result.error, fields: result.fields, saved: false };
  redirect(`/courses/${result.data.id}`);
}

/**
 * Changes the capacity or the last day of the course the form names; the page shows the new
 * numbers. (The id travels as a field: an action bound to it during render made the page's
 * answer to a post without JavaScript never finish.)
 */
export async function updateCourseAction(_: FormState<CourseSettingsValues>, form: FormData): Promise<FormState<CourseSettingsValues>> {
  const values = formValues(form, courseSettingsFields);
  const courseId = String(form.get("courseId") ?? "");
  const result = await runAction(courseUpdateInput, courseSettingsBody(values), ({ db, actor, body }) => {
    if (!isUuid(courseId)) throw notFound("Course");
    return updateCourse(db, actor, courseId, body);
  });
  if (!result.ok) return { values, error: result.error, fields: result.fields, saved: false };
  revalidatePath(`/courses/${courseId}`);
  return { values, error: null, fields: {}, saved: true };
}
