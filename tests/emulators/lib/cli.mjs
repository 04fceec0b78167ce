/** TEST EMULATORS, NOT THE REAL TOOLS: `node cli.mjs TOOL ARGS...`, called by ../bin/TOOL. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { main } from "./main.mjs";
import { STATE } from "./state.mjs";

const [tool] = process.argv.splice(2, 1);
const args = process.argv.slice(2);

/**
 * One command at a time per emulated host: each tool reads its host's JSON state, changes it
 * and writes it back, so two commands at once (the portal runs several per host, e.g. two zone
 * moves to one target) would lose one's change, which the real tools never do. The lock is a
 * directory under $EMU_STATE holding the owner's pid, released at exit (also on SIGTERM from
 * timeout(1)) and taken over from a holder that is gone. `ssh` (its command takes the peer's
 * lock) and the interactive consoles, which stay open, run without it.
 */
function holdHost() {
  const dir = path.join(STATE, ".command-lock");
  const pidFile = path.join(dir, "pid");
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(pidFile, "utf8"));
    } catch {
      // being written by the one that just took it
    }
    if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
    else if (Date.now() > deadline) {
      process.stderr.write(`${tool}: emulator: another command held this host for 120 s\n`);
      process.exit(1);
    } else Atomics.wait(pause, 0, 0, 10);
  }
  process.on("exit", () => {
    try {
      if (readFileSync(pidFile, "utf8") === String(process.pid)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  });
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]]) process.on(signal, () => process.exit(code));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

const console = (tool === "xl" && args[0] === "console") || (tool === "zlogin" && args[0] === "-C");
if (tool !== "ssh" && !console) holdHost();
main(tool);
