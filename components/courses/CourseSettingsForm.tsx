"use client";

import { updateCourseAction } from "@/app/courses/actions";
import { courseSettingsBody, courseUpdateInput, type CourseSettingsValues } from "@/lib/courses/input";
import { FieldError, FormStatus } from "../admin/useSchemaForm";
import { useActionForm } from "../useActionForm";
import { DateField } from "./DateField";

/** The teacher raises or lowers the course's block of machines or moves its last day (works without JavaScript too). */
export function CourseSettingsForm({ courseId, capacity, fixedCapacity, endsOn }: { courseId: string; capacity: number; fixedCapacity: boolean; endsOn: string }) {
  const form = useActionForm<CourseSettingsValues>({
    schema: courseUpdateInput,
    toBody: courseSettingsBody,
    action: updateCourseAction,
    initial: { capacity: fixedCapacity ? String(capacity) : "", endsOn },
    refused: "Not saved",
  });
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} noValidate aria-label="Course settings" className="flex flex-wrap items-start gap-4">
      <input type="hidden" name="courseId" value={courseId} />
      <div className="w-full sm:w-auto">
        <label htmlFor="course-cap" className="field-label">Lab machines</label>
        <input {...form.field("course-cap", "capacity")} inputMode="numeric" placeholder="one per student" autoComplete="off" className="field-input sm:w-40" />
        <FieldError id="course-cap" text={form.errorFor("capacity")} />
      </div>
      <DateField {...form.field("course-ends", "endsOn")} label="Last day" error={form.errorFor("endsOn")} className="w-full sm:w-40" />
      <div className="flex w-full flex-wrap items-center gap-3 sm:w-auto sm:pt-6">
        <button type="submit" className="btn btn-secondary w-full sm:w-auto" disabled={form.pending}>{form.pending ? "Saving…" : "Save"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
