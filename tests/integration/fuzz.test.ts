/**
 * Property-based fuzzing of the whole API, as an admin with an API token: every operation of
 * the OpenAPI document (and any route method the document leaves out) gets bad input of every
 * class we know of: unknown fields named like built-in object members, NUL and lone
 * surrogates in any string (body, query, path), bodies that are not objects, invalid JSON,
 * non-JSON content types, wrong types, missing fields, huge and unicode strings, arrays for
 * objects, odd path ids. No answer may be a 5xx, every refusal says why in JSON, and nothing
 * changes: every request that could change state carries at least one part that must be
 * refused, and the rows of the main tables are compared before and after each operation.
 *
 * Fixed seed and bounded runs here (part of `npm test`); `npm run fuzz` runs many more cases
 * with a random seed. FUZZ_SEED (a number, or "random") and FUZZ_RUNS (cases per operation)
 * choose; the seed is printed so that a failure can be replayed.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "@/lib/api/openapi";
import {
  apiTokens, courses, groups, groupSettings, hosts, images, memberships, networks, orders, policyRules, quotas, signInRules, signInSettings, users,
} from "@/lib/db/schema";
import { invoke } from "../helpers/http";
import { bootPortal, makeGroup, makeUser, order, tokenFor, unique } from "../helpers/portal";

const seedSetting = process.env.FUZZ_SEED ?? "18";
const SEED = seedSetting === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(seedSetting);
const RUNS = Number(process.env.FUZZ_RUNS ?? 70);
if (!Number.isInteger(SEED) || !Number.isInteger(RUNS) || RUNS < 1) throw new Error(`FUZZ_SEED must be an integer or "random", FUZZ_RUNS a positive integer`);
console.log(`[fuzz] seed ${SEED}, ${RUNS} cases per operation (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { db, admin } = await bootPortal();
const doc = openApiDocument() as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

type Schema = Record<string, any>;
type Operation = { parameters?: { name: string; in: string; schema?: Schema }[]; requestBody?: { content: Record<string, { schema?: Schema }> } };
type Handler = (req: Request, context: { params?: Promise<Record<string, string>> }) => Promise<Response>;
type Op = { method: string; path: string; op: Operation; handler: Handler; documented: boolean };

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const mutating = (method: string) => method !== "GET";

// ---------- the operations: the document's, and route methods it does not list ----------

/** app/api/... route file of a documented path: `{id}` is the folder `[id]`. */
function routeFile(apiPath: string): string {
  return path.join(root, "app", ...apiPath.split("/").filter(Boolean).map((s) => s.replace(/^\{(.+)\}$/, "[$1]")), "route.ts");
}

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return routeFiles(full);
    return name === "route.ts" ? [full] : [];
  });
}

async function operations(): Promise<Op[]> {
  const ops: Op[] = [];
  const seen = new Set<string>();
  for (const [apiPath, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const mod = (await import(routeFile(apiPath))) as Record<string, Handler | undefined>;
      const handler = mod[method.toUpperCase()];
      if (!handler) throw new Error(`${method.toUpperCase()} ${apiPath} is documented but ${path.relative(root, routeFile(apiPath))} does not export it`);
      ops.push({ method: method.toUpperCase(), path: apiPath, op, handler, documented: true });
      seen.add(`${method.toUpperCase()} ${routeFile(apiPath)}`);
    }
  }
  // next-auth's own routes need a Next.js request scope; everything else under app/api is ours.
  for (const file of routeFiles(path.join(root, "app", "api")).filter((f) => !f.includes(`${path.sep}auth${path.sep}`))) {
    const mod = (await import(file)) as Record<string, Handler | undefined>;
    const apiPath = "/" + path.relative(path.join(root, "app"), path.dirname(file)).split(path.sep).map((s) => s.replace(/^\[(.+)\]$/, "{$1}")).join("/");
    for (const method of METHODS) {
      const handler = mod[method];
      if (handler && !seen.has(`${method} ${file}`)) {
        const parameters = [...apiPath.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path" }));
        ops.push({ method, path: apiPath, op: { parameters }, handler, documented: false });
      }
    }
  }
  return ops;
}

// ---------- what the database holds: rows that no fuzz request may change ----------

/** Per table, a row count and a hash of its rows (api_tokens: count only, their last use changes with every request). */
async function snapshot(): Promise<Record<string, string>> {
  const hashed = { orders, users, groups, groupSettings, memberships, hosts, policyRules, quotas, networks, images, courses, signInRules, signInSettings };
  const out: Record<string, string> = {};
  for (const [name, table] of Object.entries(hashed)) {
    const rows = (await db.select().from(table as typeof orders)).map((r) => JSON.stringify(r)).sort();
    out[name] = `${rows.length} rows, ${createHash("sha256").update(rows.join("\n")).digest("hex").slice(0, 12)}`;
  }
  out.apiTokens = `${(await db.select({ id: apiTokens.id }).from(apiTokens)).length} rows`;
  return out;
}

// ---------- generators ----------

const BUILT_IN_KEYS = [
  "constructor", "toString", "hasOwnProperty", "__proto__", "valueOf", "isPrototypeOf", "propertyIsEnumerable",
  "toLocaleString", "__defineGetter__", "__lookupSetter__", "prototype", "then", "length", "toJSON",
];
const UNSTORABLE = ["\u0000", "\ud800", "\udfff", "\udbff\u0000", "a\u0000", "\ud83d"];
const WRONG_TYPES = ["application/x-www-form-urlencoded", "application/xml", "application/octet-stream", "text/html", "image/png", "application/jsonp", "none"];
const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/vnd.portal+json"];

const hugeString = fc
  .tuple(fc.constantFrom("a", "é", "😀", "名", " ", "\\"), fc.integer({ min: 1_000, max: 200_000 }))
  .map(([c, n]) => c.repeat(n));
const unicodeString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom("ǅ", "İ", "\u202e", "\ufeff", "👩‍👩‍👧", "\u200b", "Ω", "a\u0301", "\ud83d\ude00", "\ufffd", "\n", "'; drop table users; --"),
);
const unstorableString = fc
  .tuple(fc.string({ maxLength: 5 }), fc.constantFrom(...UNSTORABLE), fc.string({ maxLength: 5 }))
  .map(([a, bad, b]) => a + bad + b);
/** A value of some other type than the field wants: wrong types, arrays for objects, numbers in strings. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<unknown>(true, false, [], {}, "5", "", " ", -1, 0, 1.5, 1e308, -1e308, "1e3", "0x10", "null", "true", null, [1], [{}], ["a"]),
  hugeString,
  unicodeString,
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.integer({ min: 50, max: 2_000 }).map((depth) => {
    let deep: unknown = "x";
    for (let i = 0; i < depth; i++) deep = i % 2 ? [deep] : { a: deep };
    return deep;
  }),
);

function deref(s: Schema | undefined): Schema {
  if (!s) return {};
  if (typeof s.$ref === "string") return deref(doc.components.schemas[s.$ref.split("/").pop()!]);
  return s;
}

/** A value close to what the schema asks for (real ids for uuids), sometimes at its edges. */
function plausible(s: Schema | undefined, ids: string[], depth = 0): fc.Arbitrary<unknown> {
  const schema = deref(s);
  if (depth > 4) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union) && union.length > 0) return fc.oneof(...union.map((u: Schema) => plausible(u, ids, depth + 1)));
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : schema.properties ? ["object"] : [];
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...types.map((t) => plausibleOf(t, schema, ids, depth)));
}

function plausibleOf(type: string, schema: Schema, ids: string[], depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "object": {
      const props: Record<string, Schema> = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, plausible(v, ids, depth + 1)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k: string) => k in props) });
    }
    case "array":
      return fc.array(plausible(schema.items, ids, depth + 1), { maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case "string": {
      if (schema.format === "uuid") return fc.oneof(fc.constantFrom(...ids), fc.uuid());
      if (schema.format === "email") return fc.constantFrom("admin@portal.test", `${unique("fuzz")}@portal.test`, "not-an-email");
      if (schema.format === "date-time" || schema.format === "date") return fc.date({ noInvalidDate: true }).map((d) => (schema.format === "date" ? d.toISOString().slice(0, 10) : d.toISOString()));
      const max = Math.min(schema.maxLength ?? 40, 60);
      const options: fc.Arbitrary<unknown>[] = [fc.string({ minLength: Math.min(schema.minLength ?? 0, max), maxLength: max }), unicodeString];
      if (typeof schema.pattern === "string") {
        try {
          options.push(fc.stringMatching(new RegExp(schema.pattern)).map((v) => v.slice(0, max)));
        } catch {
          // a pattern fast-check cannot generate from: the other options still apply
        }
      }
      return fc.oneof(...options);
    }
    case "integer":
      return fc.integer({ min: Math.max(schema.minimum ?? -10, -1e9), max: Math.min(schema.maximum ?? 1_000, 1e9) });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6 });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Sets `key` as an own property, even `__proto__` (a plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every place in `value` where a string sits, or could sit: [parent, key] pairs. */
function slots(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), slots(v, out)));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) (out.push([value as Record<string, unknown>, k]), slots(v, out));
  return out;
}

type Poison =
  | { kind: "unknown-key"; key: string; value: unknown }
  | { kind: "unstorable"; at: number; text: string }
  | { kind: "not-an-object"; body: unknown }
  | { kind: "invalid-json"; text: string | null; cut: number }
  | { kind: "content-type"; type: string }
  | { kind: "query"; name: string; text: string };

function poisonArb(props: string[], wrongTypes: string[], hasBody: boolean): fc.Arbitrary<Poison> {
  const query = fc.record({ kind: fc.constant("query" as const), name: fc.constantFrom("q", "page", "x", "scope", "a\u0000"), text: unstorableString.filter((t) => t.includes("\u0000")) });
  if (!hasBody) return query;
  return fc.oneof(
    fc.record({ kind: fc.constant("unknown-key" as const), key: fc.oneof(fc.constantFrom(...BUILT_IN_KEYS), fc.string({ minLength: 1, maxLength: 12 }), unicodeString).filter((k) => !props.includes(k)), value: wrongValue }),
    fc.record({ kind: fc.constant("unstorable" as const), at: fc.nat(), text: unstorableString }),
    fc.record({ kind: fc.constant("not-an-object" as const), body: fc.oneof(fc.constantFrom<unknown>(null, 0, 5, -1.5, "", "host", true, false, [], [{}], [null]), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }), fc.string()) }),
    fc.record({ kind: fc.constant("invalid-json" as const), text: fc.oneof(fc.constant(null), fc.constantFrom("{", "{name: web", "{'a':1}", "[1,]", "nul", '{"a":1}}', "\u0000", "{\"a\":\"\\ud8\"}", "01", "NaN", "{\"a\":undefined}")), cut: fc.nat() }),
    fc.record({ kind: fc.constant("content-type" as const), type: fc.constantFrom(...wrongTypes) }),
    query,
  );
}

type Sent = { method: string; url: string; params: Record<string, string>; headers: Record<string, string>; body?: string; poison?: Poison["kind"] };

/** One request for `op`: a plausible or mutated body, query and path, plus the poison a change needs. */
function requestArb(o: Op, ids: string[]): fc.Arbitrary<Sent> {
  const pathNames = (o.op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
  for (const m of o.path.matchAll(/\{(\w+)\}/g)) if (!pathNames.includes(m[1])) pathNames.push(m[1]);
  const queryParams = (o.op.parameters ?? []).filter((p) => p.in === "query");
  const content = o.op.requestBody?.content ?? {};
  const jsonType = Object.keys(content).find((t) => t === "application/json" || t.endsWith("+json"));
  const hasBody = mutating(o.method) && jsonType !== undefined;
  const bodySchema = deref(jsonType ? content[jsonType].schema : undefined);
  const props = Object.keys(bodySchema.properties ?? {});
  // A body-less change with a real id would be a valid request: it only gets ids that name nothing.
  const fakeId = fc.oneof(fc.uuid(), fc.constantFrom("x", "0", "-1", "null", "../..", "%00", " ", "00000000-0000-0000-0000-000000000000"), unicodeString, unstorableString, hugeString);
  const anyId = fc.oneof(fc.constantFrom(...ids), fakeId);
  const documentedText = Object.keys(content).some((t) => t.startsWith("text/"));
  const wrongTypes = WRONG_TYPES.filter((t) => !(documentedText && (t === "none" || t.startsWith("text/"))) && !(t in content));

  const idsArb = (arb: fc.Arbitrary<string>) => fc.tuple(...pathNames.map(() => arb)).map((vals) => Object.fromEntries(pathNames.map((n, i) => [n, vals[i] as string])));
  const queryArb = fc.tuple(
    fc.tuple(...queryParams.map((p) => fc.option(fc.oneof(plausible(p.schema, ids), wrongValue).map((v) => (typeof v === "string" ? v : JSON.stringify(v) ?? "")), { nil: undefined }))),
    fc.option(fc.tuple(fc.string({ maxLength: 8 }), unicodeString), { nil: undefined }),
  );
  const mutations = fc.array(fc.tuple(props.length ? fc.constantFrom(...props) : fc.constant("x"), fc.oneof(fc.constant<unknown>(DELETE), wrongValue)), { maxLength: 3 });

  let poison: fc.Arbitrary<Poison | null>;
  let ids$: fc.Arbitrary<Record<string, string>>;
  if (!mutating(o.method)) {
    poison = fc.option(poisonArb(props, wrongTypes, false), { nil: null, freq: 3 });
    ids$ = idsArb(anyId);
  } else if (hasBody && pathNames.length > 0) {
    // Without poison, the body (mutated or not) reaches the handler, with ids that name nothing.
    poison = fc.option(poisonArb(props, wrongTypes, true), { nil: null, freq: 4 });
    ids$ = idsArb(anyId);
  } else if (hasBody) {
    poison = poisonArb(props, wrongTypes, true);
    ids$ = idsArb(anyId);
  } else if (pathNames.length > 0) {
    // Either ids that name nothing, or real ids with a query that must be refused.
    poison = fc.option(poisonArb(props, wrongTypes, false), { nil: null });
    ids$ = idsArb(anyId);
  } else {
    poison = poisonArb(props, wrongTypes, false);
    ids$ = idsArb(anyId);
  }

  return fc
    .record({
      ids: ids$,
      query: queryArb,
      base: hasBody ? plausible(bodySchema, ids) : fc.constant(undefined),
      mutations,
      poison,
      jsonType: fc.constantFrom(...JSON_TYPES),
      fakeIds: idsArb(fakeId),
    })
    .map(({ ids: realIds, query, base, mutations: muts, poison: p, jsonType: type, fakeIds }) => {
      // A change without a part that must be refused may only name nothing.
      const params = mutating(o.method) && !p ? fakeIds : realIds;
      const url = new URL(o.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(params[n]?.toWellFormed() ?? "x")), "http://portal.test");
      queryParams.forEach((qp, i) => {
        if (query[0][i] !== undefined) url.searchParams.set(qp.name, query[0][i]!);
      });
      if (query[1]) url.searchParams.set(query[1][0], query[1][1]);
      if (p?.kind === "query") url.searchParams.set(p.name, p.text);
      const headers: Record<string, string> = {};
      let body: string | undefined;
      if (hasBody) {
        let value: unknown = structuredClone(base ?? {});
        const obj = Object.assign(Object.create(null), value) as Record<string, unknown>;
        for (const [k, v] of muts) {
          if (v === DELETE) delete obj[k];
          else setOwn(obj, k, v);
        }
        value = obj;
        headers["content-type"] = type;
        if (p?.kind === "unknown-key") setOwn(obj, p.key, p.value);
        if (p?.kind === "unstorable") {
          const places = slots(value);
          if (places.length === 0) setOwn(obj, props[0] ?? "name", p.text);
          else {
            const [parent, key] = places[p.at % places.length];
            (parent as Record<string, unknown>)[key as string] = p.text;
          }
        }
        if (p?.kind === "not-an-object") value = p.body;
        body = JSON.stringify(value) ?? "null";
        if (p?.kind === "invalid-json") body = p.text ?? body.slice(0, 1 + (p.cut % Math.max(1, body.length - 1)));
        if (p?.kind === "content-type") {
          if (p.type === "none") delete headers["content-type"];
          else headers["content-type"] = p.type;
        }
      } else if (mutating(o.method) && p && p.kind !== "query") {
        headers["content-type"] = type;
      }
      return { method: o.method, url: url.pathname + url.search, params, headers, body, poison: p?.kind };
    });
}
const DELETE = Symbol("delete");

// ---------- sending ----------

let requests = 0;
const fiveHundreds: string[] = [];
let adminToken = "";

function describeRequest(r: Sent): string {
  const body = r.body === undefined ? "" : ` ${r.body.length > 300 ? `${r.body.slice(0, 300)}... (${r.body.length} chars)` : r.body}`;
  return `${r.method} ${r.url.slice(0, 300)} params=${JSON.stringify(r.params).slice(0, 200)} ${JSON.stringify(r.headers)}${body} [poison: ${r.poison ?? "none"}]`;
}

async function send(o: Op, r: Sent): Promise<{ status: number; type: string; body: unknown }> {
  requests += 1;
  const headers = new Headers(r.headers);
  headers.set("authorization", `Bearer ${adminToken}`);
  const abort = new AbortController();
  const req = new Request(new URL(r.url, "http://portal.test"), { method: r.method, headers, body: r.body, signal: abort.signal });
  if (r.body !== undefined && !("content-type" in r.headers)) req.headers.delete("content-type");
  const res = await o.handler(req, { params: Promise.resolve(r.params) });
  const type = res.headers.get("content-type") ?? "";
  if (type.startsWith("text/event-stream")) {
    // A live stream: its headers are the answer; the client goes away.
    abort.abort();
    await res.body?.cancel().catch(() => {});
    return { status: res.status, type, body: null };
  }
  const text = await res.text();
  let body: unknown = text;
  if (type.includes("json")) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, type, body };
}

// ---------- the test ----------

const ops = await operations();
let ids: string[] = [];

beforeAll(async () => {
  adminToken = await tokenFor(db, admin);
  // Real rows for path ids and uuid fields, so that bad bodies reach routes whose target exists.
  const held = await makeGroup(db, { autoApprove: false });
  const customer = await makeUser(db, "customer", held.slug);
  const pending = await order(db, customer);
  const rule = await invoke((await import("@/app/api/v1/policies/route")).POST, "POST", "/api/v1/policies", {
    token: adminToken,
    body: { name: "Fuzz target", outcome: "hold", conditions: { groups: [held.id] }, enabled: false },
  });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  const mapping = await invoke((await import("@/app/api/v1/sign-in/rules/route")).POST, "POST", "/api/v1/sign-in/rules", {
    token: adminToken,
    body: { match: "fuzz-target", role: "customer", group: held.slug },
  });
  expect(mapping.status, JSON.stringify(mapping.body)).toBe(201);
  const tables = [groups, users, hosts, images, networks, orders, policyRules, signInRules] as const;
  ids = [customer.id, pending.id, rule.body.id, mapping.body.id, admin.id];
  for (const t of tables) ids.push(...(await db.select({ id: t.id }).from(t as typeof groups)).map((r) => r.id));
  ids = [...new Set(ids)];
});

afterAll(() => {
  console.log(`[fuzz] seed ${SEED}: ${requests} requests over ${ops.length} operations (${ops.filter((o) => !o.documented).length} not in the OpenAPI document), ${fiveHundreds.length} answered 5xx`);
});

describe(`fuzzing every operation (seed ${SEED})`, () => {
  it("finds the operations: every documented one has its route method", () => {
    expect(ops.filter((o) => o.documented).length).toBeGreaterThan(50);
    const undocumented = ops.filter((o) => !o.documented).map((o) => `${o.method} ${o.path}`);
    if (undocumented.length) console.log(`[fuzz] route methods not in the OpenAPI document, fuzzed too: ${undocumented.join(", ")}`);
  });

  ops.forEach((o, index) => {
    it(`${o.method} ${o.path}: no 5xx, every refusal explained, nothing changed`, async () => {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(requestArb(o, ids.length ? ids : [randomUUID()]), async (r) => {
          const res = await send(o, r);
          if (res.status >= 500) fiveHundreds.push(describeRequest(r));
          expect(res.status, `5xx for ${describeRequest(r)}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(500);
          // Every change request carries a part that must be refused, or ids that name nothing.
          if (mutating(o.method)) expect(res.status, `a change that must be refused answered ${res.status}: ${describeRequest(r)}`).toBeGreaterThanOrEqual(400);
          if (res.status >= 400) {
            expect(res.type, `a refusal that is not JSON: ${describeRequest(r)}`).toContain("json");
            const error = (res.body as { error?: unknown } | null)?.error;
            expect(typeof error === "string" && error.length > 0, `no message with ${res.status} for ${describeRequest(r)}`).toBe(true);
          }
        }),
        { seed: SEED + index, numRuns: RUNS, endOnFailure: true },
      );
      expect(await snapshot(), `${o.method} ${o.path} changed rows`).toEqual(before);
    }, 30_000 + RUNS * 2_000);
  });
});
