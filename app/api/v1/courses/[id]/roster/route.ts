import { apiRoute, json } from "@/lib/api/handler";
import { uploadRoster } from "@/lib/courses/queries";
import { UserError } from "@/lib/errors";

const MAX_BYTES = 1_000_000;

/** The roster's CSV from a text/csv body, a multipart form (field `file` or `roster`) or JSON `{ csv }`. */
async function rosterText(req: Request): Promise<string> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BYTES) throw new UserError("The roster is larger than 1 MB", 422, { roster: ["Too large"] });
  let text: string;
  if (type.startsWith("multipart/form-data")) {
    const form = await req.formData().catch(() => null);
    const part = form?.get("file") ?? form?.get("roster");
    if (part === null || part === undefined) throw new UserError("Attach the roster as the form field `file`", 422, { roster: ["No file attached"] });
    text = typeof part === "string" ? part : await part.text();
  } else if (type.startsWith("application/json")) {
    const body = (await req.json().catch(() => null)) as { csv?: unknown } | null;
    if (!body || typeof body.csv !== "string") throw new UserError("Send { \"csv\": \"...\" }", 422, { csv: ["Expected the roster as a string"] });
    text = body.csv;
  } else if (type.startsWith("text/csv") || type.startsWith("text/plain")) {
    text = await req.text();
  } else {
    throw new UserError("Send the roster as text/csv, multipart/form-data or JSON { csv }", 422, { roster: ["Unsupported content type"] });
  }
  if (text.length > MAX_BYTES) throw new UserError("The roster is larger than 1 MB", 422, { roster: ["Too large"] });
  return text;
}

export const POST = apiRoute({}, async ({ db, actor, params, req }) => json(await uploadRoster(db, actor, params.id, await rosterText(req))));
