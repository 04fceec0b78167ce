// Writes the OpenAPI document (the one /api/v1/openapi.json serves) to the file named by the
// first argument, or to standard output; `npm run lint:openapi` lints what it writes.
import { writeFileSync } from "node:fs";
import { openApiDocument } from "../lib/api/openapi";

const text = JSON.stringify(openApiDocument(), null, 2) + "\n";
const file = process.argv[2];
if (file) writeFileSync(file, text);
else process.stdout.write(text);
