import { apiRoute, json } from "@/lib/api/handler";
import { writeAudit } from "@/lib/audit/write";
import { toCsv } from "@/lib/audit/csv";
import { auditCsvHeader, auditCsvRow, exportAudit, searchAudit } from "@/lib/audit/queries";
import { auditQuery } from "@/lib/audit/input";

export const dynamic = "force-dynamic";

/**
 * The audit log (admins): `?actor=&action=&target=&q=&from=&to=&page=&perPage=`, newest
 * first; `?format=csv` exports every match (same filters) as a CSV file.
 */
export const GET = apiRoute({ roles: ["admin"] }, async ({ db, actor, req }) => {
  const f = auditQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  if (f.format === "csv") {
    const rows = await exportAudit(db, f);
    const csv = toCsv(auditCsvHeader, rows.map(auditCsvRow));
    const { page: _p, perPage: _pp, format: _f, ...filters } = f;
    await writeAudit(db, { actorId: actor.id, action: "audit.export", targetType: "audit_log", data: { rows: rows.length, filters } });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    return new Response(csv, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="audit-${stamp}.csv"`,
        "Cache-Control": "no-store",
      },
    });
  }
  return json(await searchAudit(db, f), 200, { "Cache-Control": "no-store" });
});
