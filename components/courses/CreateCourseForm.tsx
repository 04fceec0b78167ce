"use client";

import { createCourseAction } from "@/app/courses/actions";
import { courseFormBody, courseInput, type CourseFormValues } from "@/lib/courses/input";
import { FieldError, FormStatus } from "../admin/useSchemaForm";
import { useActionForm } from "../useActionForm";
import { DateField } from "./DateField";

/**
 * A teacher creates a course: name, short name, dates, the image and size of its lab machines.
 * The new course's page opens; the form works without JavaScript too.
 */
export function CreateCourseForm({ images, flavors, today }: { images: { slug: string; name: string }[]; flavors: { slug: string; name: string }[]; today: string }) {
  const form = useActionForm<CourseFormValues>({
    schema: courseInput,
    toBody: courseFormBody,
    action: createCourseAction,
    initial: { name: "", slug: "", image: images[0]?.slug ?? "", flavor: flavors[0]?.slug ?? "", startsOn: today, endsOn: "", capacity: "" },
    refused: "Not created",
  });
  const text = (id: string, f: keyof CourseFormValues, label: string, opts: { placeholder?: string; hint?: string; mono?: boolean; numeric?: boolean } = {}) => (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <input
        {...form.field(id, f)}
        inputMode={opts.numeric ? "numeric" : undefined}
        placeholder={opts.placeholder}
        autoComplete="off"
        spellCheck={false}
        className={`field-input ${opts.mono ? "font-mono" : ""}`}
      />
      {form.errorFor(f) ? <FieldError id={id} text={form.errorFor(f)} /> : opts.hint ? <p className="field-hint">{opts.hint}</p> : null}
    </div>
  );
  const select = (id: string, f: "image" | "flavor", label: string, options: { slug: string; name: string }[]) => (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <select {...form.field(id, f)} className="field-input">
        {options.map((o) => (
          <option key={o.slug} value={o.slug}>{o.name}</option>
        ))}
      </select>
      <FieldError id={id} text={form.errorFor(f)} />
    </div>
  );
  const date = (id: string, f: "startsOn" | "endsOn", label: string) => <DateField {...form.field(id, f)} label={label} error={form.errorFor(f)} />;
  return (
    <form action={form.formAction} onSubmit={form.onSubmit} noValidate className="space-y-4" aria-label="Create a course">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        {text("course-name", "name", "Course name", { placeholder: "Operating Systems lab" })}
        {text("course-slug", "slug", "Short name", { mono: true, hint: "Names the machines: <short name>-01, -02, …", placeholder: "os-lab" })}
        {select("course-image", "image", "Image (golden image of every lab machine)", images)}
        {select("course-flavor", "flavor", "Size", flavors)}
        {date("course-start", "startsOn", "Starts on")}
        {date("course-end", "endsOn", "Ends on (machines are retired after this day)")}
        {text("course-capacity", "capacity", "Lab machines (optional)", { numeric: true, hint: "Leave empty for one per student on the roster" })}
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.pending}>{form.pending ? "Creating…" : "Create course"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
