import { z } from "zod";
import { BRIDGE } from "../../net/input";
import { SLUG } from "../../validation/fields";
import { CRYPT_HASH, DATASET, HOST_ADDRESS, TIMEZONE, hostPath } from "../plan/validate";

/**
 * A Solaris 10 global zone's driver settings (hosts.config), with the defaults of a ZFS root
 * pool. Unknown keys (the SSH transport's own settings) are ignored here.
 */
export const zonesHostConfig = z.object({
  /** Parent dataset of the zonepaths: rpool/zones/<zone>, mounted at <zonesRoot>/<zone>. */
  zonesDataset: z.string().regex(DATASET, "zones dataset: pool/child of letters, digits and _ . : -").default("rpool/zones"),
  zonesRoot: hostPath("zonesRoot").default("/zones"),
  /** Where zonecfg command files are kept for the record. */
  stageDir: hostPath("stageDir").default("/var/tmp/portal"),
  /** Golden zones (installed, halted) are named <prefix><image slug>. */
  goldenPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, "golden prefix: lowercase letters, digits and -").default("golden-"),
  timezone: z.string().regex(TIMEZONE, "timezone: a tz name like Europe/Berlin").default("UTC"),
  /** root's password for new zones, as a crypt(3) hash (never the clear text). Unset: no usable password, SSH key only. */
  rootPasswordHash: z.string().regex(CRYPT_HASH, "root password hash: a crypt(3) hash as in /etc/shadow").optional(),
  /** Name service for sysidcfg: none, or DNS with a domain and servers. */
  dns: z
    .object({
      domain: z.string().regex(HOST_ADDRESS, "DNS domain: a domain name"),
      servers: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "DNS server: an IPv4 address")).min(1).max(3),
    })
    .optional(),
  /**
   * The global zone's NIC per network slug (e.g. { production: "e1000g1" }): a network's
   * `bridge` names a Linux bridge, which a Solaris host does not have. Unlisted networks use it as is.
   */
  physicalByNetwork: z
    .record(z.string().regex(SLUG, "network slug"), z.string().regex(BRIDGE, "physical device: a letter, then up to 14 letters, digits, _ . or -"))
    .optional(),
  /** IP Filter's rules file, which keeps the networks apart (zones share the global zone's IP stack). */
  ipfConf: hostPath("ipfConf").default("/etc/ipf/ipf.conf"),
  /** The name other global zones reach this one by for `zfs send | ssh ... zfs receive`. */
  migrationAddress: z.string().regex(HOST_ADDRESS, "migration address: a host name or IPv4 address").optional(),
});

export type ZonesHostConfig = z.infer<typeof zonesHostConfig>;
