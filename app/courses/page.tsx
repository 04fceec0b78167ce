import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/lib/db/client";
import { listCourses } from "@/lib/courses/queries";
import { listCatalog } from "@/lib/catalog/queries";
import { requireUser } from "@/lib/auth/require-user";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { CreateCourseForm } from "@/components/courses/CreateCourseForm";
import { GetMachineButton } from "@/components/courses/GetMachineButton";
import { AutoRefresh } from "@/components/courses/AutoRefresh";
import { MachineState, busyStatuses } from "@/components/courses/MachineState";
import { TableHead } from "@/components/TableHead";

export const metadata: Metadata = { title: "Courses" };
export const dynamic = "force-dynamic";

const day = (iso: string) => iso.slice(0, 10);
const lastDay = (iso: string) => new Date(new Date(iso).getTime() - 1).toISOString().slice(0, 10);

export default async function CoursesPage() {
  const user = await requireUser("/courses");
  const db = await getDb();
  const { teaching, attending } = await listCourses(db, user);
  const canTeach = user.role === "approver" || user.role === "admin";
  const catalog = canTeach ? await listCatalog(db) : null;
  const building = attending.some((c) => c.machine && busyStatuses.includes(c.machine.status));

  return (
    <>
      <PageHeader
        title="Courses"
        description={
          canTeach
            ? "Courses you teach: each student gets one lab machine by self-service, inside the course's allocation, until the course ends."
            : "Your courses and your lab machine in each. A lab machine needs no approval and is retired when the course ends."
        }
      />
      {attending.length || !canTeach ? (
        <section aria-labelledby="attending-heading" className="mb-8 space-y-3">
          <h2 id="attending-heading">Your courses</h2>
          <AutoRefresh active={building} />
          {attending.length === 0 ? (
            <div className="card p-8 text-center text-slate-600">You are not on any course's roster yet. Your teacher adds you by uploading the roster.</div>
          ) : (
            attending.map((c) => (
              <article key={c.id} className="card p-5" data-testid="attending-course">
                <div className="flex flex-wrap items-start justify-between gap-3">
                  <div>
                    <h3 className="text-base">
                      <Link prefetch={false} href={`/courses/${c.id}`} className="hover:underline">{c.name}</Link>
                    </h3>
                    <p className="text-sm text-slate-600">
                      {day(c.startsAt)} to {lastDay(c.endsAt)} · {c.image}, {c.flavor}
                    </p>
                  </div>
                  <StatusBadge status={c.status} />
                </div>
                <div className="mt-4 border-t border-slate-100 pt-4 text-sm" data-testid="my-machine">
                  {c.machine ? (
                    <>
                      <p className="mb-1 text-slate-500">Your lab machine</p>
                      <MachineState machine={c.machine} />
                    </>
                  ) : c.status === "ended" ? (
                    <p className="text-slate-600">The course has ended.</p>
                  ) : (
                    <>
                      <p className="mb-2 text-slate-600">You have no lab machine yet. It is built from the course&apos;s image in a few minutes, with no approval needed.</p>
                      <GetMachineButton courseId={c.id} />
                    </>
                  )}
                </div>
              </article>
            ))
          )}
        </section>
      ) : null}
      {canTeach ? (
        <>
          <section aria-labelledby="teaching-heading" className="mb-8">
            <h2 id="teaching-heading" className="mb-3">{user.role === "admin" ? "All courses" : "Courses you teach"}</h2>
            {teaching.length === 0 ? (
              <div className="card p-8 text-center text-slate-600">No courses yet. Create one below, then upload its roster.</div>
            ) : (
              <div className="card overflow-x-auto">
                <table className="table table-stack" aria-label="Courses you teach">
                  <TableHead columns={["Course", "Dates", "Image and size", "Students", "Machines", "Status"]} />
                  <tbody>
                    {teaching.map((c) => (
                      <tr key={c.id}>
                        <td><Link prefetch={false} href={`/courses/${c.id}`} className="font-medium text-sky-800 hover:underline">{c.name}</Link> <span className="font-mono text-xs text-slate-500">{c.slug}</span></td>
                        <td data-label="Dates">{day(c.startsAt)} to {lastDay(c.endsAt)}</td>
                        <td data-label="Image and size">{c.image}, {c.flavor}</td>
                        <td data-label="Students">{c.students}</td>
                        <td data-label="Machines">{c.machines} of {c.capacity}</td>
                        <td data-label="Status"><StatusBadge status={c.status} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="create-heading" className="card p-5">
            <h2 id="create-heading" className="mb-4">New course</h2>
            <CreateCourseForm
              images={catalog!.images.map((i) => ({ slug: i.slug, name: i.name }))}
              flavors={catalog!.flavors.map((f) => ({ slug: f.slug, name: f.name }))}
              today={new Date().toISOString().slice(0, 10)}
            />
          </section>
        </>
      ) : null}
    </>
  );
}
