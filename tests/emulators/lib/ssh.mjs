/**
 * TEST EMULATOR, NOT THE REAL TOOL: `ssh HOST COMMAND...` between emulated hosts. Like real
 * ssh it joins the command words with spaces for the remote shell; "remote" means the same
 * machine with the peer host's state ($EMU_STATE/peers.json maps the address to its state dir).
 * `root@<guest address>` reaches an emulated Xen domain instead (./xen.mjs guestCommand).
 */
import { spawnSync } from "node:child_process";
import { fail, parseArgs, peer } from "./state.mjs";
import { guestCommand } from "./xen.mjs";

export function ssh(args) {
  const { rest } = parseArgs(args, ["-o", "-p", "-i", "-l"]);
  const [host, ...command] = rest;
  const dir = host ? peer(host) : null;
  // root@<address of a running emulated domain>: dom0 logging in to its guest; the command's
  // words as they are (its own options included).
  const guest = !dir && /^root@(\d{1,3}(?:\.\d{1,3}){3})$/.exec(host ?? "");
  if (guest) return guestCommand(guest[1], args.slice(args.indexOf(host) + 1));
  if (!dir) fail(`ssh: Could not resolve hostname ${host}: Name or service not known`, 255);
  if (!command.length) fail("ssh: interactive sessions are not supported by this test emulator", 255);
  const r = spawnSync("/bin/sh", ["-c", command.join(" ")], { env: { ...process.env, EMU_STATE: dir }, stdio: "inherit" });
  process.exit(r.status ?? 255);
}
