import { readFileSync } from "node:fs";
import { Client, InvalidCredentialsError, type Entry } from "ldapts";
import { env } from "../env";

/**
 * Sign-in against a directory (OpenLDAP, Active Directory): find the user's entry with the
 * portal's search account, bind as that entry with the password typed, then read the user's
 * groups. The directory is asked afresh at every sign-in, so a group change counts at the next.
 */

export type LdapConfig = {
  url: string;
  startTls: boolean;
  /** PEM file of the CA that signed the directory's certificate; the system's CAs when absent. */
  caFile?: string;
  bindDn?: string;
  bindPassword?: string;
  userBase: string;
  /** RFC 4515 filter with {login} where the typed login goes (escaped). */
  userFilter: string;
  emailAttribute: string;
  nameAttribute: string;
  groupBase?: string;
  /** RFC 4515 filter with {dn} where the user's DN goes (escaped). */
  groupFilter: string;
  timeoutMs: number;
};

/** The directory of the configuration (LDAP_*), or null when LDAP_URL is not set. */
export function ldapConfigFromEnv(): LdapConfig | null {
  if (!env.LDAP_URL || !env.LDAP_USER_BASE) return null;
  return {
    url: env.LDAP_URL,
    startTls: env.LDAP_STARTTLS === "1",
    caFile: env.LDAP_TLS_CA_FILE,
    bindDn: env.LDAP_BIND_DN,
    bindPassword: env.LDAP_BIND_PASSWORD,
    userBase: env.LDAP_USER_BASE,
    userFilter: env.LDAP_USER_FILTER,
    emailAttribute: env.LDAP_EMAIL_ATTRIBUTE,
    nameAttribute: env.LDAP_NAME_ATTRIBUTE,
    groupBase: env.LDAP_GROUP_BASE,
    groupFilter: env.LDAP_GROUP_FILTER,
    timeoutMs: env.LDAP_TIMEOUT_MS,
  };
}

/** The directory could not be asked (down, unreachable, TLS refused, the search account refused). */
export class DirectoryUnavailable extends Error {
  constructor(cause: unknown) {
    super(`directory unavailable: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    this.name = "DirectoryUnavailable";
  }
}

export type DirectoryAccount = { dn: string; email: string; name: string; groups: string[] };

export type DirectoryAnswer =
  | { ok: true; account: DirectoryAccount }
  | { ok: false; reason: "unknown user" | "wrong password" | "several entries" | "no e-mail" };

/** RFC 4515: a value inside a filter, with the characters that would change the filter escaped. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A configured filter with its {name} placeholders replaced by escaped values. */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? escapeFilterValue(values[name]) : whole));
}

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const raw = key ? entry[key] : undefined;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))).filter(Boolean);
}

/**
 * Checks `login` and `password` against the directory. Resolves what it found (a wrong
 * password, an unknown user); rejects with DirectoryUnavailable when it could not ask.
 */
export async function authenticateLdap(config: LdapConfig, login: string, password: string): Promise<DirectoryAnswer> {
  // An empty password would be an unauthenticated bind, which directories accept.
  if (!password) return { ok: false, reason: "wrong password" };
  let tls: { ca?: string[] };
  try {
    // Read at each sign-in: a renewed CA file counts without a restart.
    tls = config.caFile ? { ca: [readFileSync(config.caFile, "utf8")] } : {};
  } catch (err) {
    throw new DirectoryUnavailable(err);
  }
  // TLS options for ldaps:// only: given to a plain connection too, they break its StartTLS.
  const client = new Client({ url: config.url, timeout: config.timeoutMs, connectTimeout: config.timeoutMs, tlsOptions: config.url.startsWith("ldaps:") ? tls : undefined });
  const asService = async () => {
    if (config.bindDn) await client.bind(config.bindDn, config.bindPassword ?? "");
  };
  try {
    let entries: Entry[];
    try {
      if (config.startTls) await client.startTLS({ ...tls });
      await asService();
      ({ searchEntries: entries } = await client.search(config.userBase, {
        scope: "sub",
        filter: fillFilter(config.userFilter, { login }),
        attributes: [config.emailAttribute, config.nameAttribute, "memberOf"],
        sizeLimit: 2,
      }));
    } catch (err) {
      throw new DirectoryUnavailable(err);
    }
    if (entries.length === 0) return { ok: false, reason: "unknown user" };
    if (entries.length > 1) return { ok: false, reason: "several entries" };
    const [entry] = entries;
    try {
      await client.bind(entry.dn, password);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return { ok: false, reason: "wrong password" };
      throw new DirectoryUnavailable(err);
    }
    const email = values(entry, config.emailAttribute)[0]?.trim().toLowerCase();
    if (!email) return { ok: false, reason: "no e-mail" };
    const groups = new Set(values(entry, "memberOf"));
    if (config.groupBase) {
      try {
        await asService();
        const found = await client.search(config.groupBase, { scope: "sub", filter: fillFilter(config.groupFilter, { dn: entry.dn }), attributes: ["dn"] });
        for (const g of found.searchEntries) groups.add(g.dn);
      } catch (err) {
        throw new DirectoryUnavailable(err);
      }
    }
    const name = values(entry, config.nameAttribute)[0]?.trim() || login;
    return { ok: true, account: { dn: entry.dn, email, name, groups: [...groups] } };
  } finally {
    await client.unbind().catch(() => {});
  }
}
