"use client";

import { courseInput } from "@/lib/courses/input";
import { FieldError, FormStatus, TextField, useSchemaForm } from "../admin/useSchemaForm";

type Values = { name: string; slug: string; image: string; flavor: string; startsOn: string; endsOn: string; capacity: string };

/** A teacher creates a course: name, short name, dates, the image and size of its lab machines. */
export function CreateCourseForm({ images, flavors, today }: { images: { slug: string; name: string }[]; flavors: { slug: string; name: string }[]; today: string }) {
  const form = useSchemaForm<Values, { id: string; name: string }>({
    schema: courseInput,
    initial: { name: "", slug: "", image: images[0]?.slug ?? "", flavor: flavors[0]?.slug ?? "", startsOn: today, endsOn: "", capacity: "" },
    toBody: (v) => ({ ...v, capacity: v.capacity.trim() === "" ? undefined : v.capacity }),
    path: "/api/v1/courses",
    done: (c) => `Created ${c.name}: open it to upload the roster`,
  });
  const select = (id: string, field: "image" | "flavor", label: string, options: { slug: string; name: string }[]) => (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <select {...form.a11y(id, field)} value={form.values[field]} onChange={(e) => form.set(field, e.target.value)} className="field-input">
        {options.map((o) => (
          <option key={o.slug} value={o.slug}>{o.name}</option>
        ))}
      </select>
      <FieldError id={id} text={form.errorFor(field)} />
    </div>
  );
  const date = (id: string, field: "startsOn" | "endsOn", label: string) => (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <input {...form.a11y(id, field)} type="date" value={form.values[field]} onChange={(e) => form.set(field, e.target.value)} className="field-input" />
      <FieldError id={id} text={form.errorFor(field)} />
    </div>
  );
  return (
    <form onSubmit={form.submit} noValidate className="space-y-4" aria-label="Create a course">
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <TextField form={form} id="course-name" field="name" label="Course name" placeholder="Operating Systems lab" />
        <TextField form={form} id="course-slug" field="slug" label="Short name" mono hint="Names the machines: <short name>-01, -02, …" placeholder="os-lab" />
        {select("course-image", "image", "Image (golden image of every lab machine)", images)}
        {select("course-flavor", "flavor", "Size", flavors)}
        {date("course-start", "startsOn", "Starts on")}
        {date("course-end", "endsOn", "Ends on (machines are retired after this day)")}
        <TextField form={form} id="course-capacity" field="capacity" label="Lab machines (optional)" numeric hint="Leave empty for one per student on the roster" />
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" className="btn btn-primary w-full sm:w-auto" disabled={form.busy}>{form.busy ? "Creating…" : "Create course"}</button>
        <FormStatus message={form.message} />
      </div>
    </form>
  );
}
