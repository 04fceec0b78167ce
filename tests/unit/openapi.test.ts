/**
 * The OpenAPI document describes the API that exists, completely: every route handler under
 * app/api/v1 and app/api/health with each HTTP method it exports (and nothing else), each
 * operation with a unique operationId, a schema for every 2xx, its path parameters, and the
 * statuses the route wrapper answers for it (read from the route's source: apiRoute or
 * publicRoute, roles, body). The lint with Redocly's rules runs in `npm test` too
 * (scripts/lint-openapi.mjs).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";
import { CROSS_SITE } from "@/lib/api/openapi-helpers";

const root = path.resolve(import.meta.dirname, "../..");
const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

type Route = { path: string; method: string; wrapper: "apiRoute" | "publicRoute" | "plain"; roles: boolean; body: boolean; source: string };

/** Every method each route.ts below app/api exports, with `[id]` written as `{id}` and how it is wrapped. */
function routesOnDisk(dir = path.join(root, "app", "api")): Route[] {
  const found: Route[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) found.push(...routesOnDisk(full));
    else if (name === "route.ts") {
      const source = readFileSync(full, "utf8");
      const urlPath = "/" + path.relative(path.join(root, "app"), dir).split(path.sep).join("/").replace(/\[(\w+)\]/g, "{$1}");
      for (const method of methods) {
        const declared = new RegExp(`export (const|let|async function|function) ${method}\\b`).test(source);
        const reexported = new RegExp(`export \\{[^}]*\\bas ${method}\\b[^}]*\\}`).test(source);
        if (!declared && !reexported) continue;
        const wrapped = new RegExp(`export const ${method} = (apiRoute|publicRoute)\\(\\{([^}]*)\\}`).exec(source);
        found.push({
          path: urlPath,
          method,
          wrapper: wrapped ? (wrapped[1] as Route["wrapper"]) : "plain",
          roles: Boolean(wrapped && /\broles:/.test(wrapped[2])),
          body: Boolean(wrapped && /\bbody\b/.test(wrapped[2])),
          source,
        });
      }
    }
  }
  return found;
}

type Response = { description?: string; content?: Record<string, { schema?: object }>; $ref?: string };
type Parameter = { name: string; in: string; required?: boolean };
type Operation = {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: object }> };
  responses: Record<string, Response>;
};

describe("the OpenAPI document", () => {
  const doc = openApiDocument() as unknown as {
    paths: Record<string, Record<string, Operation>>;
    components: Record<string, Record<string, Response>>;
  };
  // next-auth's own routes are not part of the API.
  const routes = routesOnDisk().filter((r) => !r.path.startsWith("/api/auth/"));
  const operations = Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item)
      .filter(([m]) => methods.includes(m.toUpperCase() as (typeof methods)[number]))
      .map(([m, op]) => ({ path: p, method: m.toUpperCase(), op, key: `${m.toUpperCase()} ${p}` })),
  );
  const operationOf = (r: Route) => doc.paths[r.path]?.[r.method.toLowerCase()];
  /** A response as written, or the shared one it refers to. */
  const resolved = (r: Response): Response => (r.$ref ? doc.components.responses[r.$ref.split("/").pop()!] : r);
  const description = (op: Operation, status: string) => (op.responses[status] ? resolved(op.responses[status]).description ?? "" : "");

  it("finds the route handlers it checks, with how each is wrapped", () => {
    expect(routes.length).toBeGreaterThan(60);
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/v1/orders", method: "POST", wrapper: "apiRoute", body: true }));
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/v1/hosts", method: "GET", wrapper: "apiRoute", roles: true, body: false }));
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/v1/invitations/accept", method: "POST", wrapper: "publicRoute" }));
    expect(routes).toContainEqual(expect.objectContaining({ path: "/api/health", method: "GET", wrapper: "plain" }));
  });

  it("describes every method each route file exports", () => {
    const missing = routes.filter((r) => !operationOf(r)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it("describes no operation that no route file exports", () => {
    const served = new Set(routes.map((r) => `${r.method} ${r.path}`));
    expect(operations.map((o) => o.key).filter((key) => !served.has(key))).toEqual([]);
  });

  it("gives every operation a unique camelCase operationId and a summary", () => {
    const without = operations.filter((o) => !o.op.operationId || !/^[a-z][a-zA-Z0-9]*$/.test(o.op.operationId)).map((o) => o.key);
    expect(without).toEqual([]);
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(operations.filter((o) => !o.op.summary?.trim()).map((o) => o.key)).toEqual([]);
  });

  it("gives every 2xx a schema, except 204 which has no body", () => {
    const problems = operations.flatMap(({ op, key }) =>
      Object.entries(op.responses)
        .filter(([status]) => status.startsWith("2"))
        .flatMap(([status, r]) => {
          const contents = Object.values(resolved(r).content ?? {});
          if (status === "204") return contents.length ? [`${key} ${status} has a body`] : [];
          return contents.length > 0 && contents.every((c) => c.schema) ? [] : [`${key} ${status} has no schema`];
        }),
    );
    expect(problems).toEqual([]);
  });

  it("describes every response, and every error as an Error body", () => {
    const problems = operations.flatMap(({ op, key }) =>
      Object.entries(op.responses).flatMap(([status, raw]) => {
        const r = resolved(raw);
        if (!r?.description?.trim()) return [`${key} ${status}: no description`];
        if (Number(status) >= 400 && status !== "503" && JSON.stringify(r.content?.["application/json"]?.schema) !== JSON.stringify({ $ref: "#/components/schemas/Error" })) {
          return [`${key} ${status}: not an Error body`];
        }
        return [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it("declares each path parameter, and none the path does not have", () => {
    const problems = operations.flatMap(({ path: p, op, key }) => {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((x) => x.in === "path");
      return [
        ...inPath.filter((name) => !declared.some((x) => x.name === name && x.required === true)).map((name) => `${key}: {${name}} not declared as a required path parameter`),
        ...declared.filter((x) => !inPath.includes(x.name)).map((x) => `${key}: declares path parameter ${x.name} it does not have`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it("documents 401 on every operation that needs a sign-in, and no sign-in on the others", () => {
    const problems = routes.flatMap((r) => {
      const op = operationOf(r);
      if (!op) return [];
      const key = `${r.method} ${r.path}`;
      if (r.wrapper === "apiRoute") {
        if (op.security !== undefined) return [`${key}: needs a sign-in, but its security is overridden`];
        return op.responses["401"] ? [] : [`${key}: no 401`];
      }
      return op.security?.length === 0 ? [] : [`${key}: needs no sign-in, but does not say security: []`];
    });
    expect(problems).toEqual([]);
  });

  it("documents 403 where the role is checked and on every change (cross-site requests with a session cookie)", () => {
    const problems = routes.flatMap((r) => {
      const op = operationOf(r);
      if (!op || r.wrapper !== "apiRoute") return [];
      const key = `${r.method} ${r.path}`;
      const changes = !["GET", "HEAD", "OPTIONS"].includes(r.method);
      if ((r.roles || changes) && !op.responses["403"]) return [`${key}: no 403`];
      if (changes && !description(op, "403").includes(CROSS_SITE)) return [`${key}: 403 does not mention cross-site changes`];
      return [];
    });
    expect(problems).toEqual([]);
  });

  it("documents 404 on every operation with an id in its path", () => {
    const problems = operations.filter(({ path: p, op }) => /\{\w+\}/.test(p) && !op.responses["404"]).map((o) => o.key);
    expect(problems).toEqual([]);
  });

  it("documents a request body, 415 and 422 for every operation that takes one, and 422 for every one with query parameters", () => {
    const problems = routes.flatMap((r) => {
      const op = operationOf(r);
      if (!op) return [];
      const key = `${r.method} ${r.path}`;
      const out: string[] = [];
      if (r.body && !op.requestBody) out.push(`${key}: takes a body, documents none`);
      if (op.requestBody && !(op.responses["415"] && op.responses["422"])) out.push(`${key}: a body without 415 and 422`);
      if ((op.parameters ?? []).some((x) => x.in === "query") && !op.responses["422"]) out.push(`${key}: query parameters without 422`);
      if (/searchParams/.test(r.source) && r.method === "GET" && !(op.parameters ?? []).some((x) => x.in === "query")) out.push(`${key}: reads query parameters it does not document`);
      return out;
    });
    expect(problems).toEqual([]);
  });

  it("keeps texts about orders to the routes about orders", () => {
    const problems = operations.flatMap(({ path: p, op, key }) =>
      ["404", "409"]
        .filter((status) => !p.includes("/orders") && /\border\b/i.test(description(op, status)))
        .map((status) => `${key} ${status}: "${description(op, status)}"`),
    );
    expect(problems).toEqual([]);
  });

  it("has only references that resolve", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)].map((m) => [m[1], m[2]] as const);
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(([kind, name]) => !doc.components[kind]?.[name]).map(([kind, name]) => `${kind}/${name}`);
    expect(broken).toEqual([]);
  });
});
