/**
 * Browser-side calls to /api/v1 with the session cookie. Mutations are same-origin fetches,
 * so the browser sends the Origin header the API checks.
 */
export type ApiError = { status: number; error: string; fields?: Record<string, string[]> };
export type ApiResult<T> = { ok: true; status: number; data: T } | ({ ok: false } & ApiError);

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers: init.body !== undefined ? { "Content-Type": "application/json" } : undefined,
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    return { ok: false, status: 0, error: "The portal could not be reached; check your connection and try again" };
  }
  if (res.status === 204) return { ok: true, status: 204, data: undefined as T };
  let payload: unknown = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  if (res.ok) return { ok: true, status: res.status, data: payload as T };
  const p = (payload ?? {}) as { error?: string; fields?: Record<string, string[]>; requestId?: string };
  let error = p.error ?? `Request failed (HTTP ${res.status})`;
  if (res.status === 401) error = "Your session has ended; sign in again";
  if (p.requestId) error = `${error} (request ${p.requestId})`;
  return { ok: false, status: res.status, error, fields: p.fields };
}
