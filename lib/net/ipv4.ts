/** IPv4 arithmetic on plain numbers (unsigned 32-bit). */

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIp(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
    throw new Error(`Not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export type Cidr = { network: number; prefix: number; size: number };

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`Not a CIDR block: ${JSON.stringify(cidr)}`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new Error(`CIDR prefix must be between /8 and /30: ${cidr}`);
  const size = 2 ** (32 - prefix);
  const base = parseIp(m[1]);
  if (base % size !== 0) throw new Error(`${cidr} is not aligned to its prefix`);
  return { network: base, prefix, size };
}

export function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const n = parseIp(ip);
  return n >= c.network && n < c.network + c.size;
}
