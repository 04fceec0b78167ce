/**
 * The OpenAPI document describes the API that exists: every route handler under app/api/v1
 * and app/api/health with each HTTP method it exports, and every $ref resolves.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";

const root = path.resolve(import.meta.dirname, "../..");
const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** `[path, method]` for every route.ts below app/api, with `[id]` written as `{id}`. */
function routesOnDisk(dir = path.join(root, "app", "api")): [string, string][] {
  const found: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) found.push(...routesOnDisk(full));
    else if (name === "route.ts") {
      const source = readFileSync(full, "utf8");
      const urlPath = "/" + path.relative(root, dir).split(path.sep).slice(1).join("/").replace(/\[(\w+)\]/g, "{$1}");
      for (const m of methods) if (new RegExp(`export (const|async function) ${m}\\b`).test(source)) found.push([`/api${urlPath.slice(4)}`, m]);
    }
  }
  return found;
}

describe("the OpenAPI document", () => {
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>>; components: Record<string, Record<string, unknown>> };
  const routes = routesOnDisk().filter(([p]) => !p.startsWith("/api/auth/") && p !== "/api/v1/openapi.json");

  it("finds the route handlers it checks", () => {
    expect(routes).toContainEqual(["/api/v1/orders", "POST"]);
    expect(routes).toContainEqual(["/api/v1/orders/{id}/events", "GET"]);
  });

  it("describes every route and method the portal serves", () => {
    const missing = routes.filter(([p, m]) => !doc.paths[p]?.[m.toLowerCase()]).map(([p, m]) => `${m} ${p}`);
    expect(missing).toEqual([]);
  });

  it("describes no route that does not exist", () => {
    const served = new Set(routes.map(([p, m]) => `${m} ${p}`));
    const extra = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops)
        .filter((m) => methods.includes(m.toUpperCase() as (typeof methods)[number]))
        .map((m) => `${m.toUpperCase()} ${p}`)
        .filter((key) => !served.has(key)),
    );
    expect(extra).toEqual([]);
  });

  it("has only references that resolve", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)].map((m) => [m[1], m[2]] as const);
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(([kind, name]) => !doc.components[kind]?.[name]).map(([kind, name]) => `${kind}/${name}`);
    expect(broken).toEqual([]);
  });
});
