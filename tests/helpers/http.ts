/** Calls App Router route handlers as functions, with real Request objects. */

type Handler = (req: Request, context: { params?: Promise<Record<string, string>> }) => Promise<Response>;

export type Call = {
  token?: string;
  /** A value is sent as JSON; a string is sent as it is (as application/json unless `headers` give a content-type). */
  body?: unknown;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
};

export function apiRequest(method: string, path: string, call: Call = {}): Request {
  const headers = new Headers(call.headers);
  if (call.token) headers.set("authorization", `Bearer ${call.token}`);
  let body: string | undefined;
  if (call.body !== undefined) {
    body = typeof call.body === "string" ? call.body : JSON.stringify(call.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return new Request(new URL(path, "http://portal.test"), { method, headers, body, signal: call.signal });
}

/** Runs `handler` like Next.js would; returns the status, the parsed JSON body and the headers. */
export async function invoke<T = any>(handler: Handler, method: string, path: string, call: Call = {}) {
  const res = await handler(apiRequest(method, path, call), { params: Promise.resolve(call.params ?? {}) });
  const text = await res.text();
  let body: T;
  try {
    body = (text ? JSON.parse(text) : null) as T;
  } catch {
    body = text as T;
  }
  return { status: res.status, body, headers: res.headers };
}
