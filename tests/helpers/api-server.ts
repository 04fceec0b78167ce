/**
 * The web side as its own process for fault drills: a plain Node HTTP server that dispatches
 * to the app's route handlers (app/api/.../route.ts), the same functions `next start` calls,
 * without a build, answers streamed as they come (server-sent events). Bearer-token requests
 * only (no pages, no session cookie).
 * Run: node --import tsx tests/helpers/api-server.ts (PORT and the portal's configuration in env).
 */
import { createServer } from "node:http";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "../..");
const port = Number(process.env.PORT);

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Route = { pattern: RegExp; names: string[]; file: string; module?: Record<string, Handler> };

/** Every app/api route file as a pattern: `[id]` segments become named parameters. */
function routes(dir: string, prefix: string[] = []): Route[] {
  const found: Route[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...routes(full, [...prefix, entry]));
    else if (entry === "route.ts") {
      const names: string[] = [];
      const source = prefix.map((seg) => {
        const m = /^\[(\w+)\]$/.exec(seg);
        if (!m) return seg.replace(/[.]/g, "\\.");
        names.push(m[1]);
        return "([^/]+)";
      });
      found.push({ pattern: new RegExp(`^/api/${source.join("/")}$`), names, file: full });
    }
  }
  // Literal segments win over parameters (/orders/export before /orders/[id]).
  return found.sort((a, b) => a.names.length - b.names.length);
}

const table = routes(path.join(root, "app/api"));

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    const route = table.find((r) => r.pattern.test(url.pathname));
    if (!route) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "Not found" }));
      return;
    }
    route.module ??= (await import(pathToFileURL(route.file).href)) as Record<string, Handler>;
    const handler = route.module[req.method ?? "GET"];
    if (!handler) {
      res.writeHead(405).end();
      return;
    }
    const match = route.pattern.exec(url.pathname)!;
    const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length && !["GET", "HEAD"].includes(req.method ?? "GET") ? Buffer.concat(chunks) : undefined;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    // A client that goes away aborts the request, as in Next.js (an event stream then stops).
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const response = await handler(new Request(url, { method: req.method, headers, body, signal: gone.signal }), { params: Promise.resolve(params) });
    res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
    // Streamed as it comes: server-sent events reach the client at once.
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  } catch (err) {
    // What Next.js does with an exception a handler let through: a bare 500.
    console.error("[api-server] unhandled:", err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});

server.listen(port, "127.0.0.1", () => console.log(`[api-server] listening on ${port}`));
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => server.close(() => process.exit(0)));
