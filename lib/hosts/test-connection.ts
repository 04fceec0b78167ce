import type { Db } from "../db/client";
import type { HostCheck } from "../db/schema";
import { getHostRow, recordHostCheck, type HostView } from "./queries";
import type { Actor } from "../auth/actor";
import { transportFor } from "../drivers/transport";
import { SshTransport } from "../drivers/transport/ssh";
import { TransportError, type Transport } from "../drivers/transport/types";
import { StepError } from "../drivers/types";
import { UserError } from "../errors";
import { LOCAL_HOST } from "./input";
import { discoverHost } from "./discovery";

export type HostTestResult = {
  ok: boolean;
  /** What went wrong, for the admin (null when ok). */
  error: string | null;
  hostKey: { fingerprint: string | null; pinnedNow: boolean } | null;
  host: HostView;
  check: HostCheck;
};

/** A message that is safe and useful to show: ours, or a tool's answer; never a stack or a key. */
function explain(e: unknown): string {
  if (e instanceof TransportError || e instanceof StepError || e instanceof UserError) return e.message;
  if (e instanceof Error) return e.message.slice(0, 500);
  return "unknown error";
}

/**
 * "Test connection" (admins): connects to the host; on the first contact records and pins
 * the host key it presents (a changed key is refused, never re-pinned here); then runs the
 * kind's capability discovery and stores the capacity it found. Every test is audited.
 */
export async function testHostConnection(db: Db, actor: Actor, hostId: string): Promise<HostTestResult> {
  const host = await getHostRow(db, hostId);
  if (host.kind === "sim") throw new UserError("Sim hosts are simulated: there is no connection to test", 409);
  const started = Date.now();
  const firstContact = !host.hostKeyFingerprint;
  let transport: Transport | null = null;
  let presented: string | null = null;
  let connected = false;
  let check: HostCheck;
  try {
    transport = transportFor(host, { allowUnpinned: firstContact });
    if (transport instanceof SshTransport) {
      try {
        await transport.connect();
        connected = true;
      } finally {
        presented = transport.presentedHostKey;
      }
    }
    const facts = await discoverHost(host.kind, transport, host.config);
    check = { ok: true, at: new Date().toISOString(), durationMs: Date.now() - started, error: null, presentedHostKey: presented, facts };
  } catch (e) {
    check = { ok: false, at: new Date().toISOString(), durationMs: Date.now() - started, error: explain(e), presentedHostKey: presented, facts: null };
  } finally {
    await transport?.close().catch(() => {});
  }
  // The key is pinned on a first contact that authenticated, even if discovery then failed:
  // the admin saw it, and the next test must present the same key.
  const pin = firstContact && connected && presented ? presented : null;
  const view = await recordHostCheck(db, actor, hostId, check, { pinHostKey: pin });
  return {
    ok: check.ok,
    error: check.error,
    hostKey: host.address === LOCAL_HOST ? null : { fingerprint: view.connection?.hostKeyFingerprint ?? presented, pinnedNow: Boolean(pin && view.connection?.hostKeyFingerprint === pin) },
    host: view,
    check: view.lastCheck ?? check,
  };
}
