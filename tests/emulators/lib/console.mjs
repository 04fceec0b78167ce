/**
 * TEST EMULATOR, NOT THE REAL TOOL: the guest side of `xl console` and `zlogin -C`. There is
 * no guest behind it: a few shell commands are answered from the domain's or zone's name, so
 * the portal's console path (SSH exec on a pty, keystrokes in, output out) can be tested; the
 * backup marker's two command lines (write, read back) act on the guest's files under `root`
 * (the domain's volume, the zone's root), as the guest's shell would on its filesystem.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { runHook } from "./postgres.mjs";

/** `argv` (the tool's whole command line) is recorded in $EMU_STATE/console-sessions.log, one line per attach. */
export function emulatedConsole({ argv, banner, hostname, prompt, root }) {
  appendFileSync(path.join(process.env.EMU_STATE, "console-sessions.log"), `${argv.join(" ")} tty=${process.stdin.isTTY ? "yes" : "no"}\n`);
  if (banner) process.stdout.write(`${banner}\n`);
  process.stdout.write(prompt);
  const lines = createInterface({ input: process.stdin, terminal: false });
  const inGuest = (file) => (root && file.startsWith("/") && !file.split("/").includes("..") ? path.join(root, file) : null);
  lines.on("line", (typed) => {
    // Ctrl-U (kill line) arrives when there is no terminal to take it.
    const raw = typed.replace(/^.*\x15/, "");
    const write = /^mkdir -p (\S+) && echo '([^']*)' > (\S+) && sync && echo marker-\$\(\(40\+2\)\)$/.exec(raw.trim());
    if (write && inGuest(write[1]) && inGuest(write[3])) {
      mkdirSync(inGuest(write[1]), { recursive: true });
      writeFileSync(inGuest(write[3]), `${write[2]}\n`);
      process.stdout.write(`marker-42\n${prompt}`);
      return;
    }
    const read = /^cat (\S+) 2>\/dev\/null; echo read-\$\(\(40\+2\)\)$/.exec(raw.trim());
    if (read && inGuest(read[1])) {
      const file = inGuest(read[1]);
      process.stdout.write(`${existsSync(file) ? readFileSync(file, "utf8") : ""}read-42\n${prompt}`);
      return;
    }
    // A recipe's hook as lib/drivers/guest-hooks.ts types it (./postgres.mjs answers for the guest).
    const hook = /^echo hook-\$\(\(40\+1\)\)-start; (?:echo '([^']*)' \| )?\/etc\/portal\/hooks\/([a-z-]+)(?: '([a-z]+)')?(?: < \/dev\/null)? 2>&1; echo hook-\$\(\(40\+2\)\)-\$\?$/.exec(raw.trim());
    if (hook) {
      const r = runHook(root, hook[2], hook[3], hook[1]);
      process.stdout.write(`hook-41-start\n${r.output}\nhook-42-${r.code}\n${prompt}`);
      return;
    }
    const [cmd, ...args] = raw.trim().split(/\s+/);
    const reply = { "": null, hostname, echo: args.join(" "), uname: `${banner?.includes("zone") ? "SunOS" : "Linux"} (test emulator)` }[cmd];
    process.stdout.write(reply === undefined ? `sh: ${cmd}: not found\n` : reply === null ? "" : `${reply}\n`);
    process.stdout.write(prompt);
  });
  lines.on("close", () => process.exit(0));
}
