import { z } from "zod";
import { sshKeyProblem } from "../../validation/ssh-key";
import { HOSTNAME } from "../../validation/fields";
import { SLUG } from "../../validation/fields";
import { BRIDGE, checkCidr } from "../../net/input";
import { parseIp } from "../../net/ipv4";
import { StepError, type DeploySpec } from "../types";

/**
 * Everything that reaches a command or a file on a host is checked here against strict
 * patterns, once more, right before a plan is built: the order API checked the same fields,
 * but a plan must not trust a database row either. Arguments then travel as argv; the only
 * quoting is lib/drivers/transport/quote.ts (for the SSH exec string).
 */

/** Absolute path of plain segments: no spaces, quotes, `..`, or shell characters. */
export const HOST_PATH = /^(\/[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}){1,16}$/;
/** LVM volume group or logical volume name (lvm(8): letters, digits, + _ . -; not starting with -). */
export const LVM_NAME = /^[A-Za-z0-9_+][A-Za-z0-9_+.-]{0,62}$/;
/** ZFS dataset: pool/child/... of plain components. */
export const DATASET = /^[A-Za-z][A-Za-z0-9_.-]{0,63}(\/[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}){0,8}$/;
/** Host name or IPv4 address a host uses to reach another (migration). */
export const HOST_ADDRESS = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,10}$/;
/** tz database name like Europe/Berlin or UTC. */
export const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]{0,30}(\/[A-Za-z][A-Za-z0-9_+-]{0,30}){0,2}$/;
/** crypt(3) hash as in /etc/shadow: traditional DES (13 chars) or $id$salt$hash. */
export const CRYPT_HASH = /^(?:[./A-Za-z0-9]{13}|\$(?:1|5|6|2a|2b|md5)\$[./A-Za-z0-9$,=]{8,200})$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export const hostPath = (what: string) => z.string().regex(HOST_PATH, `${what} must be an absolute path of letters, digits and . _ + - (no spaces or ..)`).refine((p) => !p.split("/").includes(".."), `${what} must not contain ..`);

function fail(what: string, value: unknown): never {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 60)) : String(value);
  throw new StepError(`refusing to build commands: ${what} ${shown} is not allowed (it could change the command on the host)`);
}

/** Throws a StepError naming the first field that would not be safe in a command or a file. */
export function assertSafeSpec(spec: DeploySpec): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(spec.orderId)) fail("order id", spec.orderId);
  if (!HOSTNAME.test(spec.hostname) || spec.hostname.length > 32) fail("guest name", spec.hostname);
  if (!SLUG.test(spec.image.slug) || spec.image.slug.length > 40) fail("image slug", spec.image.slug);
  for (const [k, v] of Object.entries({ vcpus: spec.flavor.vcpus, memoryMb: spec.flavor.memoryMb, diskGb: spec.flavor.diskGb })) {
    if (!Number.isInteger(v) || v < 1 || v > 1_000_000) fail(`flavor ${k}`, v);
  }
  if (spec.flavor.cpuCap !== null && !(Number.isFinite(spec.flavor.cpuCap) && spec.flavor.cpuCap > 0 && spec.flavor.cpuCap <= 1024)) fail("CPU cap", spec.flavor.cpuCap);
  if (spec.flavor.memoryCapMb !== null && !(Number.isInteger(spec.flavor.memoryCapMb) && spec.flavor.memoryCapMb > 0)) fail("memory cap", spec.flavor.memoryCapMb);
  for (const a of spec.addresses) {
    if (!SLUG.test(a.network)) fail("network", a.network);
    if (!BRIDGE.test(a.bridge)) fail("bridge or physical device", a.bridge);
    if (!MAC.test(a.mac)) fail("MAC address", a.mac);
    if ("problem" in checkCidr(a.cidr)) fail("network block", a.cidr);
    for (const ip of [a.ip, a.gateway]) {
      try {
        parseIp(ip);
      } catch {
        fail("IPv4 address", ip);
      }
    }
  }
  for (const s of spec.serviceIps ?? []) {
    if (!SLUG.test(s.network)) fail("service IP network", s.network);
    try {
      parseIp(s.ip);
    } catch {
      fail("service IP", s.ip);
    }
  }
  if (spec.sshPublicKey !== null) {
    const problem = sshKeyProblem(spec.sshPublicKey);
    if (problem) fail(`SSH public key (${problem})`, spec.sshPublicKey);
  }
}

/** Parses a host's driver settings (hosts.config) with the host's name in the message. */
export function parseHostConfig<S extends z.ZodType>(schema: S, host: DeploySpec["host"]): z.infer<S> {
  const parsed = schema.safeParse(host.config);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new StepError(`host ${host.name} has invalid settings: ${first?.path.join(".") || "config"}: ${first?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The prefix length of a CIDR ("10.30.0.0/24" -> 24). */
export function prefixOf(cidr: string): number {
  return Number(cidr.split("/")[1]);
}

/** Dotted netmask of a prefix length (24 -> 255.255.255.0). */
export function netmaskOf(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
