import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/lib/db/client";
import { courseView } from "@/lib/courses/queries";
import { requireUser } from "@/lib/auth/require-user";
import { UserError } from "@/lib/errors";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { RosterUpload } from "@/components/courses/RosterUpload";
import { GetMachineButton } from "@/components/courses/GetMachineButton";
import { AutoRefresh } from "@/components/courses/AutoRefresh";
import { ResetAllButton, ResetMachineButton } from "@/components/courses/MachineActions";
import { MachineState, busyStatuses } from "@/components/courses/MachineState";
import { CourseSettingsForm } from "@/components/courses/CourseSettingsForm";
import { TableHead } from "@/components/TableHead";
import { isUuid } from "@/lib/validation/ids";
import { linkBase } from "@/lib/env";
import { PortalUrlWarning } from "@/components/PortalUrlWarning";
import { NewInvitationButton } from "@/components/courses/NewInvitationButton";

export const metadata: Metadata = { title: "Course" };
export const dynamic = "force-dynamic";

const lastDay = (iso: string) => new Date(new Date(iso).getTime() - 1).toISOString().slice(0, 10);

export default async function CoursePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requireUser(`/courses/${id}`);
  if (!isUuid(id)) notFound();
  let course;
  try {
    course = await courseView(await getDb(), user, id);
  } catch (err) {
    if (err instanceof UserError && err.status === 404) notFound();
    throw err;
  }
  const building = course.machines.some((m) => busyStatuses.includes(m.status));
  const byStudent = new Map(course.machines.map((m) => [m.studentId, m]));
  const ready = course.machines.filter((m) => m.status === "ready").length;
  const invited = course.roster.filter((s) => s.invited).length;
  const active = course.status === "active";

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-3 text-sm text-slate-500">
        <Link prefetch={false} href="/courses" className="hover:text-slate-800 hover:underline">Courses</Link>
        <span aria-hidden className="mx-2">/</span>
        <span className="font-mono text-slate-700">{course.slug}</span>
      </nav>
      <PageHeader
        title={<span className="flex flex-wrap items-center gap-x-3 gap-y-1">{course.name} <StatusBadge status={course.status} /></span>}
        description={`${course.startsAt.slice(0, 10)} to ${lastDay(course.endsAt)} · ${course.image}, ${course.flavor} · teacher ${course.teacher.name} (${course.teacher.email}) · ${course.machines.length} of ${course.capacity} lab machines in use${course.fixedCapacity ? "" : " (one per student)"}`}
      />
      <AutoRefresh active={building} />
      {!course.isTeacher ? (
        <section className="card p-5" data-testid="my-machine">
          <h2 className="mb-3">Your lab machine</h2>
          {course.machines[0] ? (
            <MachineState machine={course.machines[0]} />
          ) : course.status === "ended" ? (
            <p className="text-sm text-slate-600">The course has ended.</p>
          ) : (
            <GetMachineButton courseId={course.id} />
          )}
        </section>
      ) : (
        <div className="space-y-6">
          {course.status === "ended" ? (
            <p role="status" className="rounded-md border border-slate-300 bg-slate-50 px-3 py-2 text-sm text-slate-700">The course has ended: its lab machines were retired and their addresses freed.</p>
          ) : (
            <>
              <PortalUrlWarning unset={!linkBase.configured} linksPointTo={linkBase.url} />
              <section className="card p-5" aria-labelledby="upload-heading">
                <h2 id="upload-heading" className="mb-3">Roster upload</h2>
                <RosterUpload courseId={course.id} />
              </section>
              <section className="card p-5" aria-labelledby="settings-heading">
                <h2 id="settings-heading" className="mb-3">Capacity and end</h2>
                <CourseSettingsForm courseId={course.id} capacity={course.capacity} fixedCapacity={course.fixedCapacity} endsOn={lastDay(course.endsAt)} />
              </section>
            </>
          )}
          <section className="card" aria-labelledby="roster-heading">
            <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
              <h2 id="roster-heading" className="text-base">Roster and lab machines ({course.roster.length} students)</h2>
              {active ? <ResetAllButton courseId={course.id} ready={ready} /> : null}
            </div>
            {active && invited ? (
              <div className="space-y-2 border-b border-slate-100 px-5 py-3 text-sm text-slate-700" data-testid="not-signed-in">
                <p>
                  {invited === 1 ? "1 student has" : `${invited} students have`} not set a password yet. A new link replaces the one they were sent, which then stops working.
                </p>
                <NewInvitationButton courseId={course.id} target={{ all: true }} label={`New links for all who have not signed in (${invited})`} />
              </div>
            ) : null}
            {course.roster.length === 0 ? (
              <p className="px-5 py-6 text-sm text-slate-600">No students yet: upload the roster above. Students then press “Get my lab machine” on their Courses page.</p>
            ) : (
              <div className="overflow-x-auto">
                <table className="table table-stack" aria-label="Roster">
                  <TableHead columns={["Student", "Account", "Lab machine", "Resets", <span className="sr-only">Actions</span>]} />
                  <tbody>
                    {course.roster.map((s) => {
                      const m = byStudent.get(s.userId);
                      return (
                        <tr key={s.userId} data-testid="roster-row" data-email={s.email}>
                          <td><span className="font-medium text-slate-900">{s.name}</span> <span className="block text-xs text-slate-500">{s.email}</span></td>
                          <td data-label="Account" className="text-xs">
                            {s.invited ? <span className="text-amber-700">invited, no password yet</span> : <span className="text-emerald-700">active</span>}
                            {s.invited && active ? (
                              <div className="mt-1">
                                <NewInvitationButton courseId={course.id} target={{ studentIds: [s.userId] }} label={"New\u00a0link"} description={`New link for ${s.email}`} />
                              </div>
                            ) : null}
                          </td>
                          <td data-label="Lab machine">{m ? <MachineState machine={m} /> : <span className="text-xs text-slate-500">none yet</span>}</td>
                          <td data-label="Resets">{m ? m.resets : ""}</td>
                          <td>{m && active ? <ResetMachineButton courseId={course.id} studentId={s.userId} name={m.name} disabled={m.status !== "ready"} /> : null}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </div>
      )}
    </>
  );
}
