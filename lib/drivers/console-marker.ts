/**
 * The backup marker through a guest's console shell: typed as keystrokes, the answer read back
 * from what the console prints. Used where the host has no other way into a running guest
 * (QEMU's second serial port, Xen's `xl console`). Answers are worked out by the guest's shell
 * (`$((40+2))`), so the echo of the typed command never matches.
 */
import type { Duplex } from "node:stream";
import { BACKUP_MARKER_FILE, StepError, type StepIo } from "./types";

/** Opens the console; null or a rejection when it cannot be opened (a viewer holds it). */
export type OpenConsole = () => Promise<Duplex | null>;

/**
 * Types `command` on the console and resolves with what came back once `answer` shows in it
 * (the echo of the command included), or null when the console cannot be opened or stays
 * silent for `timeoutMs`. Ctrl-U first clears a half-typed line.
 */
export async function typeOnConsole(open: OpenConsole, command: string, answer: RegExp, timeoutMs: number): Promise<string | null> {
  const stream = await open().catch(() => null);
  if (!stream) return null;
  return new Promise((resolve) => {
    let out = "";
    const done = (m: string | null) => {
      clearTimeout(timer);
      stream.destroy();
      resolve(m);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    stream.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (answer.test(out)) done(out);
    });
    stream.on("error", () => done(null));
    stream.on("close", () => done(null));
    stream.write(`\x15${command}\r`);
  });
}

/** A marker made by the portal ("portal-backup <uuid>"): no quote or shell character can be in it. */
export function assertMarker(marker: string) {
  if (!/^[a-z0-9 -]{1,80}$/.test(marker)) throw new StepError("invalid backup marker");
}

/** Writes the marker line to BACKUP_MARKER_FILE on the guest and syncs, so a copy taken next holds it. */
export async function writeMarkerOnConsole(open: OpenConsole, marker: string, io: StepIo): Promise<boolean> {
  assertMarker(marker);
  const dir = BACKUP_MARKER_FILE.slice(0, BACKUP_MARKER_FILE.lastIndexOf("/"));
  const ok = await typeOnConsole(open, `mkdir -p ${dir} && echo '${marker}' > ${BACKUP_MARKER_FILE} && sync && echo marker-$((40+2))`, /marker-42\r?\n/, 20_000);
  await io.log(ok ? `marker written to ${BACKUP_MARKER_FILE} on the guest` : "no marker written: the guest's console did not answer (a viewer may hold it); the backup cannot be proven by its marker");
  return !!ok;
}

/** The marker line a booted copy holds, or null when it has none; fails when the console never answers. */
export async function readMarkerOnConsole(open: OpenConsole, attempts = 3): Promise<string | null> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    // The typed command holds neither "portal-backup" nor "read-42": both can only be the guest's answer.
    const out = await typeOnConsole(open, `cat ${BACKUP_MARKER_FILE} 2>/dev/null; echo read-$((40+2))`, /read-42\r?\n/, 20_000);
    if (out) return /portal-backup [0-9a-f-]{1,64}/.exec(out)?.[0] ?? null;
  }
  throw new StepError("the throwaway guest's console did not answer");
}
