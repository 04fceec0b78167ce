// Writes the command-line client's API types (scripts/bin/cli/api.d.ts) from the OpenAPI
// document the portal serves, with openapi-typescript: `npm run cli:types` after a change to
// the API. tests/unit/cli-types.test.ts fails while the file is out of date.
import { writeFileSync } from "node:fs";
import path from "node:path";
import openapiTS from "openapi-typescript";
import { openApiDocument } from "../lib/api/openapi";

export const cliTypesFile = path.resolve(import.meta.dirname, "bin/cli/api.d.ts");

export async function cliTypes(): Promise<string> {
  const types = await openapiTS(openApiDocument() as never);
  return `// Generated from the OpenAPI document by \`npm run cli:types\` (scripts/cli-types.ts); do not edit.\n${types}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  writeFileSync(cliTypesFile, await cliTypes());
  console.log(`wrote ${path.relative(process.cwd(), cliTypesFile)}`);
}
