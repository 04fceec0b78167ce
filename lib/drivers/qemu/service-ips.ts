import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseIp } from "../../net/ipv4";
import type { Transport } from "../transport/types";
import { StepError, type AddressWatch, type DeploySpec, type ServiceIpRef } from "../types";
import type { guestFiles } from "./args";
import { followLog } from "./serial";

/**
 * Service IPs on a running QEMU guest, through the driver's own channel to it: the guest's
 * first serial port (serial.sock), which only the driver writes to (the owner's console is the
 * second port). The guest's init takes a line `service-ip add|del IP MAC TAG`, puts the address
 * as /32 on the NIC with that MAC (announcing it with gratuitous ARP) or takes it off, and
 * answers `PORTAL-SERVICE-IP TAG ok ...` or `PORTAL-SERVICE-IP TAG failed <why>` on the console,
 * which QEMU logs to serial.log (the contract is in ./glue.ts).
 */
export const serviceIpReply = "PORTAL-SERVICE-IP";

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The MAC of the guest's NIC on the service IP's network (the service IP rides on that NIC). */
export function nicMacFor(spec: DeploySpec, sip: ServiceIpRef): string {
  const nic = spec.addresses.find((a) => a.network === sip.network);
  if (!nic) throw new StepError(`${spec.hostname} has no address on network ${sip.network}, so service IP ${sip.ip} cannot ride on it`);
  return nic.mac.toLowerCase();
}

/** The glue's service IP lines: each address with the MAC of its network's NIC (addresses on networks the guest has no NIC on are left out). */
export function glueServiceIps(spec: DeploySpec): { ip: string; mac: string }[] {
  return (spec.serviceIps ?? []).filter((s) => spec.addresses.some((a) => a.network === s.network)).map((s) => ({ ip: s.ip, mac: nicMacFor(spec, s) }));
}

/** Writes `text` to the guest's serial port. */
async function typeOnSerial(t: Transport, socket: string, text: string): Promise<void> {
  const stream = await t.openStream(socket).catch((err: Error) => {
    throw new StepError(`the guest's serial port cannot be opened (${err.message}); is it running?`);
  });
  try {
    await new Promise<void>((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
    // Give QEMU a moment to take the bytes before hanging up.
    await sleep(50);
  } finally {
    stream.destroy();
  }
}

/**
 * Asks the running guest to add or remove `ip` on the NIC with `mac` and waits for its answer
 * (at most `timeoutMs`). Returns the guest's words ("added 10.20.0.9 on eth0"); a refusal or
 * no answer is a StepError saying so.
 */
export async function guestServiceIp(
  t: Transport,
  files: ReturnType<typeof guestFiles>,
  op: "add" | "del",
  ip: string,
  mac: string,
  opts: { timeoutMs?: number; signal: AbortSignal },
): Promise<string> {
  parseIp(ip);
  if (!MAC.test(mac)) throw new StepError(`invalid MAC ${JSON.stringify(mac)}`);
  const tag = randomBytes(6).toString("hex");
  // Only what the guest prints after the request counts.
  const from = (await t.readFrom(files.serialLog, Number.MAX_SAFE_INTEGER))?.size ?? 0;
  await typeOnSerial(t, files.serialSock, `service-ip ${op} ${ip} ${mac} ${tag}\n`);
  const prefix = `${serviceIpReply} ${tag} `;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const answer = await followLog(t, files.serialLog, {
    from,
    timeoutMs,
    signal: opts.signal,
    intervalMs: 25,
    onLine: async () => {},
    until: (line) => {
      const at = line.indexOf(prefix);
      return at < 0 ? null : line.slice(at + prefix.length).trim();
    },
  });
  if (answer === null) {
    throw new StepError(
      `the guest did not answer the request to ${op === "add" ? "add" : "remove"} ${ip} within ${Math.round(timeoutMs / 1000)} s on its serial console; its image may be older than moving service IPs (reinstall it from the current image)`,
    );
  }
  if (!answer.startsWith("ok ")) throw new StepError(`the guest refused to ${op === "add" ? "add" : "remove"} ${ip}: ${answer.replace(/^failed\s*/, "")}`);
  return answer.slice(3);
}

/** Ping from the host's side: busybox's where installed (its output is the same everywhere), else the system's. */
async function pingArgv(t: Transport): Promise<string[]> {
  return (await t.run(["busybox", "true"]).catch(() => null))?.code === 0 ? ["busybox", "ping"] : ["ping"];
}

/** The probe's interval: the downtime is known to this many milliseconds. */
export const PROBE_INTERVAL_MS = 20;

/**
 * The longest time without an answer, from the sequence numbers of the echo replies received:
 * probes go out every `intervalMs` from sequence 0, so a gap between two answered probes (or
 * before the first answer) is that many intervals; `sent`, the probes sent by the end, counts a
 * silence at the end too (an address that stopped answering). Null when nothing answered.
 */
export function longestSilenceMs(answered: number[], intervalMs: number, sent?: number): number | null {
  if (answered.length === 0) return null;
  const seqs = [...new Set(answered)].sort((a, b) => a - b);
  let longest = seqs[0]! * intervalMs;
  for (let i = 1; i < seqs.length; i++) longest = Math.max(longest, (seqs[i]! - seqs[i - 1]!) * intervalMs);
  if (sent !== undefined && sent > seqs.at(-1)!) longest = Math.max(longest, (sent - seqs.at(-1)!) * intervalMs);
  return longest;
}

/**
 * Pings `ip` from inside the host's network namespace (where the networks' bridges and
 * gateways are) every PROBE_INTERVAL_MS until stopped, noting when each probe is answered.
 */
export async function watchFromNamespace(t: Transport, netns: string, ip: string): Promise<AddressWatch> {
  parseIp(ip);
  const ping = await pingArgv(t);
  const stopper = new AbortController();
  const answered: { seq: number; at: number }[] = [];
  let ended = false;
  const startedAt = Date.now();
  // -w: a watch that is never stopped (its worker died) ends by itself.
  const running = t
    .run(["ip", "netns", "exec", netns, ...ping, "-i", String(PROBE_INTERVAL_MS / 1000), "-w", "180", ip], {
      signal: stopper.signal,
      onLine: (stream, line) => {
        const m = stream === "stdout" ? /\b(?:icmp_)?seq=(\d+)/.exec(line) : null;
        if (m && /bytes from/.test(line)) answered.push({ seq: Number(m[1]), at: Date.now() });
      },
    })
    .catch(() => null)
    .finally(() => {
      ended = true;
    });
  return {
    async answeredSince(since, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!answered.some((a) => a.at >= since)) {
        if (ended || Date.now() > deadline) return false;
        await sleep(10);
      }
      return true;
    },
    async stop() {
      // Probes sent by now, less two for the timing of the process's start and of the replies' way back.
      const sent = Math.max(0, Math.floor((Date.now() - startedAt) / PROBE_INTERVAL_MS) - 2);
      stopper.abort();
      await running;
      const silence = longestSilenceMs(answered.map((a) => a.seq), PROBE_INTERVAL_MS, sent);
      return silence === null
        ? { downtimeMs: null, note: `${ip} never answered the host's ping (from network namespace ${netns}) while it moved` }
        : { downtimeMs: silence, note: `longest time ${ip} did not answer a ping every ${PROBE_INTERVAL_MS} ms from the host's network namespace ${netns}` };
    },
  };
}
