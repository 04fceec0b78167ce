/** The command-line client's API types (scripts/bin/cli/api.d.ts) are those of the OpenAPI document the portal serves now. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cliTypes, cliTypesFile } from "../../scripts/cli-types";

describe("the CLI's API types", () => {
  it("are generated from the current OpenAPI document (else run npm run cli:types)", async () => {
    expect(readFileSync(cliTypesFile, "utf8") === (await cliTypes()), "scripts/bin/cli/api.d.ts is out of date: run npm run cli:types").toBe(true);
  });
});
