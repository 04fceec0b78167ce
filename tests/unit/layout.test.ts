/**
 * The shape of lib/: one folder per domain, storage (lib/db) importing no domain, drivers
 * given what they need instead of importing the database, and no import loop between folders.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const lib = path.resolve(__dirname, "../../lib");
const root = path.dirname(lib);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(e) ? [p] : [];
  });
}

/** lib/orders/queries.ts -> "orders"; lib/env.ts -> "env". */
function folderOf(file: string): string {
  const parts = path.relative(lib, file).split(path.sep);
  return parts.length === 1 ? parts[0].replace(/\.tsx?$/, "") : parts[0];
}

function resolveTarget(from: string, spec: string): string | null {
  let t: string;
  if (spec.startsWith("@/")) t = path.join(root, spec.slice(2));
  else if (spec.startsWith(".")) t = path.resolve(path.dirname(from), spec);
  else return null;
  if (!t.startsWith(lib + path.sep)) return null;
  return existsSync(t) && statSync(t).isDirectory() ? path.join(t, "index.ts") : `${t}.ts`;
}

/** folder -> folder -> files that make the edge (type-only imports count too). */
function folderGraph(): Map<string, Map<string, Set<string>>> {
  const graph = new Map<string, Map<string, Set<string>>>();
  for (const file of sources(lib)) {
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)) {
      const target = resolveTarget(file, m[1]);
      if (!target) continue;
      const a = folderOf(file), b = folderOf(target);
      if (a === b) continue;
      const out = graph.get(a) ?? new Map<string, Set<string>>();
      graph.set(a, out);
      const files = out.get(b) ?? new Set<string>();
      out.set(b, files);
      files.add(path.relative(root, file));
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder: each one is an import loop. */
function loops(graph: Map<string, Map<string, Set<string>>>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("lib/ layout", () => {
  const graph = folderGraph();

  it("has no import loop between folders", () => {
    const described = loops(graph).map((c) =>
      c.flatMap((a) => [...(graph.get(a) ?? [])].filter(([b]) => c.includes(b)).map(([b, files]) => `${a} -> ${b} (${[...files].join(", ")})`)).join("; "),
    );
    expect(described).toEqual([]);
  });

  it("keeps lib/db to storage: it imports configuration only, no domain folder", () => {
    expect([...(graph.get("db")?.keys() ?? [])]).toEqual(["env"]);
  });

  it("gives drivers what they need: no driver imports the database or a domain's queries", () => {
    const allowed = new Set(["env", "errors", "validation", "net"]);
    const offending = [...(graph.get("drivers") ?? [])].filter(([b]) => !allowed.has(b)).map(([b, files]) => `${b}: ${[...files].join(", ")}`);
    expect(offending).toEqual([]);
    const netImports = [...(graph.get("drivers")?.get("net") ?? [])].flatMap((f) =>
      [...readFileSync(path.join(root, f), "utf8").matchAll(/from\s+["']([^"']*\/net\/[^"']+)["']/g)].map((m) => path.basename(m[1])),
    );
    // Only the pure address rules of lib/net, never its database half (networks, IPAM).
    expect(new Set(netImports)).toEqual(new Set(["input", "ipv4"]));
  });

  it("keeps no query files outside their domain folder", () => {
    expect(existsSync(path.join(lib, "db", "queries"))).toBe(false);
    // outage.ts is the client's note of an unreachable database, apart so proxy.ts can read it without the driver.
    expect(readdirSync(path.join(lib, "db")).sort()).toEqual(["client.ts", "locks.ts", "outage.ts", "schema", "seed.ts"]);
  });
});
