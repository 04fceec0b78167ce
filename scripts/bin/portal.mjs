#!/usr/bin/env node
// `npx portal ...`: the portal's command-line client (scripts/bin/cli/). It is TypeScript run
// through tsx, a dependency of the portal, so it works right after `npm ci`, with no build.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
