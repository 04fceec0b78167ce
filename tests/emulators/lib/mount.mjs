/**
 * TEST EMULATOR, NOT THE REAL TOOL: mount/umount of an emulated LV's filesystem. The mount
 * point becomes a symlink to the LV's files while mounted, so files written below it land
 * on the volume, as with a real mount. `-o ro` is recorded (mounts.json) but not enforced: the
 * emulator cannot make the symlinked files read-only for the host's own user.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { deviceLv, lvData } from "./lvm.mjs";
import { fail, load, save } from "./state.mjs";

export function mount(args) {
  const options = [];
  const plain = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-o") options.push(...(args[++i] ?? "").split(","));
    else if (!args[i].startsWith("-")) plain.push(args[i]);
  }
  const [device, dir] = plain;
  const mounts = load("mounts", {});
  if (!device || !dir) fail("mount: bad usage", 1);
  if (mounts[dir]) fail(`mount: ${dir}: ${mounts[dir].device ?? mounts[dir]} already mounted on ${dir}.`, 32);
  const lv = deviceLv(device);
  if (!lv) fail(`mount: ${dir}: special device ${device} does not exist.`, 32);
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) fail(`mount: ${dir}: mount point does not exist.`, 32);
  if (readdirSync(dir).length) fail(`mount: ${dir}: mount point is not empty (emulator refuses to hide files).`, 32);
  rmSync(dir, { recursive: true });
  mkdirSync(lvData(...lv), { recursive: true });
  symlinkSync(lvData(...lv), dir);
  mounts[dir] = options.includes("ro") ? { device, ro: true } : device;
  save("mounts", mounts);
}

export function umount(args) {
  const [dir] = args.filter((a) => !a.startsWith("-"));
  const mounts = load("mounts", {});
  if (!mounts[dir]) fail(existsSync(dir) ? `umount: ${dir}: not mounted.` : `umount: ${dir}: no mount point specified.`, 32);
  rmSync(dir);
  mkdirSync(dir);
  delete mounts[dir];
  save("mounts", mounts);
}
