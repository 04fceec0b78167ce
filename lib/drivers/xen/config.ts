import { z } from "zod";
import { HOST_ADDRESS, LVM_NAME, hostPath } from "../plan/validate";

/**
 * A Xen host's driver settings (hosts.config), with the defaults of a Debian dom0 using the
 * xl toolstack and one LVM volume group for guest disks. Unknown keys (the SSH transport's
 * own settings) are ignored here.
 */
export const xenHostConfig = z.object({
  volumeGroup: z.string().regex(LVM_NAME, "volume group: letters, digits and + _ . -").default("vg0"),
  /** Golden LVs are named <prefix><image slug>, e.g. vg0/golden-linux-test. */
  goldenPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, "golden prefix: lowercase letters, digits and -").default("golden-"),
  configDir: hostPath("configDir").default("/etc/xen"),
  /** Where guest disks are mounted for glue (one directory per guest below it). */
  mountDir: hostPath("mountDir").default("/mnt/portal"),
  /** Install files: <imageDir>/<image slug>.tar.gz, a root filesystem archive. */
  imageDir: hostPath("imageDir").default("/var/lib/xen/images"),
  /** Where a backup waits while it streams to or from the portal (compressed, removed after). */
  stageDir: hostPath("stageDir").default("/var/tmp"),
  /**
   * The guest type written to each domain config: "pvh" (the default: real hardware with
   * VT-x/AMD-V) or "pv" (paravirtualised, needs no CPU support: a dom0 under QEMU's software
   * emulation can start only PV guests).
   */
  guestType: z.enum(["pvh", "pv"], "guest type: pvh or pv").default("pvh"),
  kernel: hostPath("kernel").default("/var/lib/xen/images/vmlinuz"),
  ramdisk: hostPath("ramdisk").default("/var/lib/xen/images/initrd.img"),
  /** How long a guest gets to power off cleanly before it is destroyed (seconds). */
  shutdownTimeoutSec: z.number().int("whole seconds").min(1, "at least 1 second").max(3600, "at most 3600 seconds").default(300),
  /**
   * The private key dom0 logs in to its guests with (as root) to put service IPs on them while
   * they run; the host's guest images carry its public half in root's authorized_keys.
   */
  guestKey: hostPath("guestKey").default("/etc/xen/portal/guest_key"),
  /** The name other Xen hosts reach this one by for `xl migrate` (default: its address). */
  migrationAddress: z.string().regex(HOST_ADDRESS, "migration address: a host name or IPv4 address").optional(),
});

export type XenHostConfig = z.infer<typeof xenHostConfig>;
