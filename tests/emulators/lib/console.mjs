/**
 * TEST EMULATOR, NOT THE REAL TOOL: the guest side of `xl console` and `zlogin -C`. There is
 * no guest behind it: a few shell commands are answered from the domain's or zone's name, so
 * the portal's console path (SSH exec on a pty, keystrokes in, output out) can be tested.
 */
import { appendFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

/** `argv` (the tool's whole command line) is recorded in $EMU_STATE/console-sessions.log, one line per attach. */
export function emulatedConsole({ argv, banner, hostname, prompt }) {
  appendFileSync(path.join(process.env.EMU_STATE, "console-sessions.log"), `${argv.join(" ")} tty=${process.stdin.isTTY ? "yes" : "no"}\n`);
  if (banner) process.stdout.write(`${banner}\n`);
  process.stdout.write(prompt);
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on("line", (raw) => {
    const [cmd, ...args] = raw.trim().split(/\s+/);
    const reply = { "": null, hostname, echo: args.join(" "), uname: `${banner?.includes("zone") ? "SunOS" : "Linux"} (test emulator)` }[cmd];
    process.stdout.write(reply === undefined ? `sh: ${cmd}: not found\n` : reply === null ? "" : `${reply}\n`);
    process.stdout.write(prompt);
  });
  lines.on("close", () => process.exit(0));
}
