/** TEST EMULATORS, NOT THE REAL TOOLS: dispatch from a ../bin/<tool> script to its emulation. */
import { dd, e2fsck, lvconvert, lvcreate, lvextend, lvremove, lvrename, lvs, mkfs, resize2fs, vgs } from "./lvm.mjs";
import { mount, umount } from "./mount.mjs";
import { nc, xl } from "./xen.mjs";
import { zfs } from "./zfs.mjs";
import { digest, ifconfig, ipf, prtconf, psrinfo, zlogin, zoneadm, zonecfg } from "./zones.mjs";
import { nft, sysctl } from "./net.mjs";
import { ssh } from "./ssh.mjs";
import { chroot, wget } from "./guest.mjs";
import { kstat, pagesize, prstat } from "./usage.mjs";

const tools = { xl, lvcreate, lvremove, lvrename, lvconvert, lvextend, lvs, vgs, "mkfs.ext4": mkfs, dd, e2fsck, resize2fs, mount, umount, nc, zfs, zonecfg, zoneadm, zlogin, psrinfo, prtconf, ssh, digest, prstat, kstat, pagesize, chroot, wget, nft, sysctl, ifconfig, ipf };

export function main(tool) {
  const fn = tools[tool];
  if (!fn) {
    process.stderr.write(`${tool}: no such test emulator\n`);
    process.exit(127);
  }
  fn(process.argv.slice(2));
}
