// `npm run lint:openapi`, and a step of `npm test`: writes the OpenAPI document that
// /api/v1/openapi.json serves to a temporary file (scripts/openapi-json.ts) and lints it with
// Redocly's recommended rules as redocly.yaml sets them. Any error or warning fails it: each
// problem is printed on one line, then a last line with the counts.
// Runs offline: Redocly's telemetry and its update check (the npm registry) are turned off.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);

export const offlineEnv = { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };

/** Lints the document; returns { errors, warnings, ignored, lines } or throws when Redocly could not run. */
export function lintOpenApi() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "portal-openapi-"));
  try {
    const file = path.join(dir, "openapi.json");
    const env = { ...process.env, ...offlineEnv };
    const written = spawnSync(bin("tsx"), [path.join(root, "scripts", "openapi-json.ts"), file], { cwd: root, env, encoding: "utf8" });
    if (written.status !== 0) throw new Error(`could not write the OpenAPI document:\n${written.stderr}`);
    const lint = spawnSync(bin("redocly"), ["lint", file, "--config", path.join(root, "redocly.yaml"), "--format=json"], { cwd: root, env, encoding: "utf8" });
    let report;
    try {
      report = JSON.parse(lint.stdout);
    } catch {
      throw new Error(`redocly lint gave no report (exit code ${lint.status}):\n${lint.stderr}`);
    }
    const lines = report.problems.map((p) => {
      const where = p.location?.[0]?.pointer ?? "";
      return `${p.severity === "error" ? "error" : "warning"} ${p.ruleId}: ${p.message} (${decodeURIComponent(where)})`;
    });
    return { errors: report.totals.errors, warnings: report.totals.warnings, ignored: report.totals.ignored, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { errors, warnings, lines } = lintOpenApi();
    for (const line of lines) console.log(`[openapi] ${line}`);
    const ok = errors === 0 && warnings === 0;
    console.log(`[openapi] lint of the OpenAPI document: ${errors} error(s), ${warnings} warning(s)${ok ? "" : " — FAILED (fix the document in lib/api/openapi*.ts)"}`);
    process.exit(ok ? 0 : 1);
  } catch (err) {
    console.error(`[openapi] lint could not run: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
