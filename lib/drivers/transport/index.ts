import { env } from "../../env";
import { decryptHostSecret, HostSecretError } from "./secrets";
import type { HostKind } from "../types";
import { LOCAL_HOST } from "./address";
import { LocalTransport } from "./local";
import { SshTransport } from "./ssh";
import { TransportError, type Transport } from "./types";

/** The host fields a transport needs (a hosts row has them all); the private key is stored encrypted. */
export type TransportHost = {
  id: string;
  name: string;
  kind: HostKind;
  address: string;
  port: number;
  sshUser: string | null;
  sshPrivateKey: string | null;
  hostKeyFingerprint: string | null;
  maxConcurrency: number;
};

/**
 * How the portal reaches a host: "local" runs programs on the worker's machine, anything
 * else goes over SSH with the host's stored key and pinned host key (one pooled connection
 * per host; close() leaves it open for the next step).
 */
export function transportFor(host: TransportHost, opts: { allowUnpinned?: boolean } = {}): Transport {
  if (host.address === LOCAL_HOST) return new LocalTransport();
  if (!host.sshUser || !host.sshPrivateKey) {
    throw new TransportError("auth", `host ${host.name} has no SSH user or key registered; an admin sets them on the Hosts page`);
  }
  let privateKey: string;
  try {
    privateKey = decryptHostSecret(host.id, host.sshPrivateKey);
  } catch (e) {
    if (e instanceof HostSecretError) throw new TransportError("auth", `host ${host.name}: ${e.message}`);
    throw e;
  }
  return new SshTransport(
    {
      id: host.id,
      address: host.address,
      port: host.port,
      user: host.sshUser,
      privateKey,
      hostKeyFingerprint: host.hostKeyFingerprint,
      maxConcurrency: host.maxConcurrency,
      connectTimeoutMs: env.SSH_CONNECT_TIMEOUT_MS,
      // Solaris 10 global zones run SunSSH, which has only SHA-1 key exchange (not tried on one here).
      legacyKex: host.kind === "zones",
      allowUnpinned: opts.allowUnpinned,
    },
    // A first contact (key not pinned yet) gets a connection of its own, never the pool's.
    { pooled: !opts.allowUnpinned },
  );
}

export { closeSshConnections } from "./ssh";
export { LocalTransport } from "./local";
export { SshTransport } from "./ssh";
export { TransportError } from "./types";
export type { Transport, RunOptions, RunResult } from "./types";
