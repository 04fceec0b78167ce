import { z } from "zod";
import { apiRoute, isJsonType, json, readJsonBody, refuseUnstorable } from "@/lib/api/handler";
import { uploadRoster } from "@/lib/courses/queries";
import { UserError } from "@/lib/errors";
import { unstorablePaths } from "@/lib/validation/fields";

const MAX_BYTES = 1_000_000;
const rosterJson = z.strictObject({ csv: z.string({ message: "Expected the roster as a string" }) });

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
  } else if (isJsonType(type)) {
    text = (await readJsonBody(req, rosterJson)).csv;
  } else if (type.startsWith("text/csv") || type.startsWith("text/plain")) {
    text = await req.text();
  } else {
    throw new UserError("Send the roster as text/csv, multipart/form-data or JSON { csv }", 415);
  }
  if (text.length > MAX_BYTES) throw new UserError("The roster is larger than 1 MB", 422, { roster: ["Too large"] });
  refuseUnstorable(unstorablePaths(text, ["roster"]));
  return text;
}

export const POST = apiRoute({}, async ({ db, actor, params, req }) => json(await uploadRoster(db, actor, params.id, await rosterText(req))));
