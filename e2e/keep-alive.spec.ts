import { expect, test } from "@playwright/test";
import { Agent, get } from "node:http";
import { BASE_URL } from "./users";

/**
 * A client or proxy that keeps a connection idle for a few seconds can send its next request on
 * it: the server keeps idle connections for 65 s (scripts/lib.mjs, KEEP_ALIVE_MS). With Node's
 * default of 5 s the server closes them, and a request sent just as it does fails with
 * "socket hang up" in the client.
 */
function health(agent: Agent): Promise<{ status: number; localPort: number }> {
  return new Promise((resolve, reject) => {
    get(`${BASE_URL}/api/health`, { agent }, (res) => {
      const localPort = res.socket.localPort ?? 0;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, localPort }));
    }).on("error", reject);
  });
}

test("an idle keep-alive connection is still open after 7 s and answers the next request", async () => {
  test.setTimeout(30_000);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await health(agent);
    expect(first.status).toBe(200);
    // Idle for longer than Node's default keep-alive timeout (5 s).
    await new Promise((r) => setTimeout(r, 7_000));
    const second = await health(agent);
    expect(second.status).toBe(200);
    expect(second.localPort, "the second request went over the same connection").toBe(first.localPort);
  } finally {
    agent.destroy();
  }
});
