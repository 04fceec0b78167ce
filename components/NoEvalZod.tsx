"use client";

import { z } from "zod";

// Zod 4 compiles object parsers with `new Function` when the page allows it, and finds out by
// trying once; under the portal's CSP (no 'unsafe-eval' in production) that try is a reported
// violation. Forms parse small objects: the interpreter is fast enough. This module is loaded
// by the root layout, so it runs in the browser before any form parses.
z.config({ jitless: true });

export function NoEvalZod() {
  return null;
}
