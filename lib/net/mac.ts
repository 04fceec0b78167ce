import { parseIp } from "./ipv4";

const PREFIX = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/;

/**
 * Checks a network's MAC prefix: three octets, locally administered (bit 0x02 of the first
 * octet set) and unicast (bit 0x01 clear).
 */
export function validateMacPrefix(prefix: string): string | null {
  const m = PREFIX.exec(prefix.toLowerCase());
  if (!m) return "MAC prefix must be three hex octets like 02:00:00";
  const first = parseInt(m[1], 16);
  if ((first & 0x02) === 0) return "MAC prefix must be locally administered (first octet has bit 0x02 set, e.g. 02)";
  if ((first & 0x01) !== 0) return "MAC prefix must be unicast (first octet has bit 0x01 clear)";
  return null;
}

/**
 * The origin's rule "XEN-Mac 0x00FFFFFF & IP | 0x02000000": the low 24 bits of the guest's
 * IPv4 address behind a locally administered prefix. 10.20.0.5 -> 02:00:00:14:00:05.
 */
export function macForIp(ip: string, prefix = "02:00:00"): string {
  const problem = validateMacPrefix(prefix);
  if (problem) throw new Error(problem);
  const low = parseIp(ip) & 0x00ffffff;
  const tail = [low >>> 16, (low >>> 8) & 255, low & 255].map((b) => b.toString(16).padStart(2, "0"));
  return `${prefix.toLowerCase()}:${tail.join(":")}`;
}
