import http from "node:http";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import { PEER_HEADER } from "./client-address";

let installed = false;

/**
 * Writes the address each connection came from into PEER_HEADER of every request the
 * portal's HTTP server receives, overwriting a header of that name sent by the client.
 * Next.js gives route handlers and proxy.ts no socket, and fills X-Forwarded-For with the
 * peer only when the client sent none, so without this a client could name any address it
 * likes. Called once from instrumentation.ts, in the process that runs `next start`/`next dev`.
 */
export function recordPeerAddresses(): void {
  if (installed) return;
  installed = true;
  for (const Server of [http.Server, https.Server]) {
    const emit = Server.prototype.emit;
    Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
      if (event === "request") {
        const req = args[0] as IncomingMessage;
        req.headers[PEER_HEADER] = req.socket?.remoteAddress ?? "";
      }
      return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
    } as typeof emit;
  }
}
