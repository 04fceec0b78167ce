/**
 * A course roster from CSV: one student a line, `email` and optionally `name` (a header line
 * naming the columns is optional; without one the first column is the e-mail and the second
 * the name). Commas or semicolons separate fields; fields may be quoted ("Doe, Jane").
 * Every bad line is reported with its line number; duplicates are reported and kept once.
 */
import { z } from "zod";

export type RosterEntry = { line: number; email: string; name: string };
export type RosterProblem = { line: number; message: string };
export type ParsedRoster = { students: RosterEntry[]; errors: RosterProblem[]; duplicates: RosterProblem[] };

const email = z.string().email();
export const MAX_ROSTER = 1000;

/** Splits one CSV record (RFC 4180 quoting) on `sep`; null when a quote is not closed. */
function splitRecord(line: string, sep: string): string[] | null {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === "") {
      quoted = true;
      field = "";
    } else if (ch === sep) {
      out.push(field.trim());
      field = "";
    } else field += ch;
  }
  if (quoted) return null;
  out.push(field.trim());
  return out;
}

export function parseRoster(csv: string): ParsedRoster {
  const lines = csv.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const students: RosterEntry[] = [];
  const errors: RosterProblem[] = [];
  const duplicates: RosterProblem[] = [];
  const seen = new Map<string, number>();
  const firstData = lines.findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const sep = firstData >= 0 && lines[firstData].includes(";") && !lines[firstData].includes(",") ? ";" : ",";
  let emailCol = 0;
  let nameCol: number | null = 1;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = splitRecord(line, sep);
    if (!fields) {
      errors.push({ line: lineNo, message: "a quoted field is not closed" });
      return;
    }
    if (index === firstData) {
      const lower = fields.map((f) => f.toLowerCase().replace(/[^a-z]/g, ""));
      const e = lower.findIndex((f) => f === "email" || f === "mail" || f === "emailaddress");
      if (e >= 0) {
        emailCol = e;
        const n = lower.findIndex((f) => f === "name" || f === "fullname" || f === "student");
        nameCol = n >= 0 ? n : null;
        return;
      }
    }
    const address = (fields[emailCol] ?? "").toLowerCase();
    const name = nameCol === null ? "" : (fields[nameCol] ?? "").slice(0, 100);
    if (!address) {
      errors.push({ line: lineNo, message: "no e-mail address" });
      return;
    }
    if (address.length > 200 || !email.safeParse(address).success) {
      errors.push({ line: lineNo, message: `"${address.slice(0, 60)}" is not an e-mail address` });
      return;
    }
    const earlier = seen.get(address);
    if (earlier !== undefined) {
      duplicates.push({ line: lineNo, message: `${address} is already on line ${earlier}; kept once` });
      return;
    }
    seen.set(address, lineNo);
    students.push({ line: lineNo, email: address, name: name || address.split("@")[0] });
  });
  if (students.length > MAX_ROSTER) errors.push({ line: students[MAX_ROSTER].line, message: `a roster has at most ${MAX_ROSTER} students` });
  return { students, errors, duplicates };
}
