import * as consoleRoute from "@/app/api/v1/environments/[id]/console/route";
import { apiRequest, invoke } from "./http";
import { waitFor } from "./portal";

/**
 * A viewer of an environment's console through the API: the SSE stream of
 * GET /api/v1/environments/:id/console read as it arrives, with what the terminal shows so
 * far and the status messages; `type` posts keystrokes; `close` ends the stream.
 */
export type ConsoleViewer = {
  status: number;
  output: () => string;
  states: () => string[];
  waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  close: () => Promise<void>;
};

export async function openConsole(environmentId: string, token: string): Promise<ConsoleViewer> {
  const abort = new AbortController();
  const res = await consoleRoute.GET(apiRequest("GET", `/api/v1/environments/${environmentId}/console`, { token, signal: abort.signal }), {
    params: Promise.resolve({ id: environmentId }),
  });
  let output = "";
  const states: string[] = [];
  let reading: Promise<void> = Promise.resolve();
  if (res.status === 200 && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    reading = (async () => {
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (!data) continue;
          const parsed = JSON.parse(data);
          if (event === "output") output += parsed.data;
          if (event === "status") states.push(`${parsed.state}: ${parsed.message}`);
        }
      }
    })();
  } else {
    await res.body?.cancel();
  }
  return {
    status: res.status,
    output: () => output,
    states: () => states,
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      waitFor(async () => output, (o) => pattern.test(o), { what: `console output matching ${pattern}`, timeoutMs }),
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}

/** POST /api/v1/environments/:id/console with `{ data }`. */
export function typeInto(environmentId: string, token: string, data: string) {
  return invoke(consoleRoute.POST, "POST", `/api/v1/environments/${environmentId}/console`, { token, params: { id: environmentId }, body: { data } });
}
