import { BlockList, isIP } from "node:net";
import { env } from "../env";

/**
 * The request header that carries the address the TCP connection came from. Next.js keeps a
 * client's own X-Forwarded-For and drops the socket's address when there is one, so the server
 * writes the peer here for every request (lib/http/peer-address.ts), replacing whatever a client
 * sent under this name.
 */
export const PEER_HEADER = "x-portal-peer-address";

type HeaderSource = Headers | Record<string, unknown> | undefined | null;

function header(headers: HeaderSource, name: string): string | null {
  if (!headers) return null;
  if (headers instanceof Headers) return headers.get(name);
  const v = (headers as Record<string, unknown>)[name];
  if (typeof v === "string") return v;
  return Array.isArray(v) ? v.map(String).join(", ") || null : null;
}

/** An address as written by sockets and proxies, made comparable: no IPv4-mapped prefix, no port, no brackets. */
export function normalizeAddress(text: string): string | null {
  let a = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  a = a.replace(/^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i, "$1").toLowerCase();
  return isIP(a) ? a : null;
}

function trustList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

const lists = new WeakMap<string[], BlockList>();

/** Whether `address` is one of `entries` (addresses or CIDR ranges). */
export function inAddressList(address: string, entries: string[]): boolean {
  let list = lists.get(entries);
  if (!list) lists.set(entries, (list = trustList(entries)));
  return list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/**
 * The client's address: the peer of the connection, or, when the peer is a trusted proxy
 * (TRUSTED_PROXIES), the address that proxy reports in X-Forwarded-For, walking right to left
 * past every trusted hop. Entries a client wrote itself sit left of the first untrusted hop and
 * are never reached. Null when the request did not come through the portal's server (scripts,
 * tests calling handlers directly) and nothing trustworthy says where it came from.
 */
export function clientAddress(headers: HeaderSource, proxies: string[] = env.TRUSTED_PROXIES): string | null {
  let current = normalizeAddress(header(headers, PEER_HEADER) ?? "");
  if (!current) return null;
  const hops = (header(headers, "x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  while (proxies.length > 0 && hops.length > 0 && inAddressList(current, proxies)) {
    const next = normalizeAddress(hops.pop()!);
    // A trusted proxy that reports something that is no address: keep the last address known.
    if (!next) break;
    current = next;
  }
  return current;
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address by its
 * /64 network, since one IPv6 host usually holds a whole /64 and can change address at will.
 */
export function limitKeyFor(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(":")}::/64`;
}
