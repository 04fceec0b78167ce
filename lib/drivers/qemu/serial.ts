import { setTimeout as sleep } from "node:timers/promises";
import type { Transport } from "../transport/types";
import { statusCommand, type ReadyReport } from "./glue";

/**
 * The guest's serial console: QEMU logs it to `serial.log` in the guest's folder; the guest
 * reports readiness there with one PORTAL-READY line (the contract is in ./glue.ts) and
 * prints a fresh one when `status\n` is written to the serial socket.
 */
export type ExpectedGuest = { hostname: string; nics: { mac: string; ip: string; prefix: number }[] };

/**
 * What differs between what the guest reports and what the portal allocated, or what a guest
 * must offer its owner and does not (its disk at /data, its SSH server listening); empty when
 * all is well. A guest of an older image, which reports neither, is not held to them.
 */
export function markerMismatches(marker: ReadyReport, want: ExpectedGuest): string[] {
  const problems: string[] = [];
  if (marker.hostname !== want.hostname) problems.push(`hostname is ${marker.hostname}, expected ${want.hostname}`);
  for (const nic of want.nics) {
    const got = marker.nics.find((n) => n.mac === nic.mac.toLowerCase());
    if (!got) problems.push(`no NIC with MAC ${nic.mac} (guest has ${marker.nics.map((n) => n.mac).join(", ") || "none"})`);
    else if (got.ip !== nic.ip || got.prefix !== nic.prefix) problems.push(`NIC ${nic.mac} has ${got.ip ? `${got.ip}/${got.prefix}` : "no address"}, expected ${nic.ip}/${nic.prefix}`);
  }
  for (const extra of marker.nics.filter((n) => !want.nics.some((w) => w.mac.toLowerCase() === n.mac))) {
    problems.push(`unexpected NIC ${extra.mac}`);
  }
  if (marker.dataBytes === 0) problems.push("its disk is not mounted at /data, so nothing written there would be kept (see the boot log)");
  if (marker.ssh && marker.ssh.port === null) problems.push("its SSH server does not listen on port 22");
  return problems;
}

/**
 * Follows a log file on the host from `offset`: calls `onLine` for every complete new line
 * until `until` returns a value (checked per line) or the time runs out. Polls through the
 * transport's readFrom (only the bytes not seen yet), so it works the same on a local or an SSH host.
 */
export async function followLog<T>(
  transport: Transport,
  file: string,
  opts: {
    onLine: (line: string) => Promise<void>;
    until: (line: string) => T | null;
    timeoutMs: number;
    signal: AbortSignal;
    /** Called between polls with the time waited so far (e.g. to poke the guest or check the process). */
    onIdle?: (waitedMs: number) => Promise<void>;
    intervalMs?: number;
    /** Where to start reading (bytes); from the start by default. */
    from?: number;
  },
): Promise<T | null> {
  const started = Date.now();
  let offset = opts.from ?? 0;
  let partial = "";
  for (;;) {
    const tail = await transport.readFrom(file, offset);
    if (tail && tail.size < offset) {
      // The file was truncated (QEMU restarted): read it from the start.
      offset = 0;
      partial = "";
      continue;
    }
    if (tail?.bytes.length) {
      const text = partial + tail.bytes.toString("utf8");
      offset += tail.bytes.length;
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const raw of lines) {
        const line = raw.replace(/\r/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trimEnd();
        if (!line) continue;
        await opts.onLine(line);
        const done = opts.until(line);
        if (done !== null) return done;
      }
    }
    const waited = Date.now() - started;
    if (waited > opts.timeoutMs) return null;
    if (opts.onIdle) await opts.onIdle(waited);
    await sleep(opts.intervalMs ?? 250, undefined, { signal: opts.signal });
  }
}

/** Asks the guest for a fresh PORTAL-READY line (writes `status\n` to its serial socket). */
export async function pokeGuest(transport: Transport, serialSocket: string): Promise<boolean> {
  try {
    const stream = await transport.openStream(serialSocket);
    await new Promise<void>((resolve) => stream.write(statusCommand, () => resolve()));
    // Give QEMU a moment to take the bytes before hanging up.
    await sleep(100);
    stream.destroy();
    return true;
  } catch {
    return false;
  }
}
