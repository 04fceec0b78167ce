"use client";

import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { api } from "../api-client";

type Status = { state: "connecting" | "connected" | "closed" | "unavailable"; message: string };
type Size = { cols: number; rows: number };

/**
 * A serial line carries no window size: the guest's shell keeps 80x24 whatever the terminal
 * shows. Fitting types `stty rows R columns C` into the shell (words every stty knows: Linux,
 * busybox, Solaris), but only when the cursor stands at an empty shell prompt ("# " or "$ " on
 * the normal screen): anything else (a half-typed line, an editor, a program reading input)
 * would get the command as input.
 */
function atEmptyPrompt(buffer: { type: string; baseY: number; cursorY: number; cursorX: number; getLine(y: number): { translateToString(trimRight?: boolean, start?: number, end?: number): string } | undefined }): boolean {
  if (buffer.type !== "normal") return false;
  const before = buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(false, 0, buffer.cursorX) ?? "";
  return /[#$] $/.test(before);
}

/**
 * xterm.js writes its own <style> elements (theme colours, cell sizes). The portal's CSP
 * allows only style elements carrying the page's nonce, so each style element created while
 * a console is shown gets the nonce Next.js put on the page's scripts (readable only from
 * script, as the `nonce` property).
 */
function lendNonceToStyles(): () => void {
  const nonce = document.querySelector<HTMLScriptElement>("script[nonce]")?.nonce;
  if (!nonce) return () => {};
  const original = document.createElement;
  document.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
    const el = original.call(this, tag, options);
    if (tag.toLowerCase() === "style") el.setAttribute("nonce", nonce);
    return el;
  } as typeof document.createElement;
  return () => {
    document.createElement = original;
  };
}

/**
 * The guest's console (owner and admins): a terminal on its serial console with a login
 * shell, shared by everyone who has it open. Output comes over the console's event stream,
 * keystrokes go out in small batches; the terminal fits its box and follows its size, and
 * "Fit guest to window" tells the guest's shell that size (see atEmptyPrompt).
 */
export function ConsolePanel({ environmentId, hostname }: { environmentId: string; hostname: string }) {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<Status>({ state: "connecting", message: "Connecting…" });
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState<Size | null>(null);
  const [fitNote, setFitNote] = useState<{ text: string; ok: boolean } | null>(null);
  /** Set while the terminal is open: fits it to its box and tells the guest's shell its size. */
  const fitGuest = useRef<(() => { ok: true; size: Size } | { ok: false }) | null>(null);

  useEffect(() => {
    if (!open || !box.current) return;
    let disposed = false;
    const cleanups: (() => void)[] = [];
    const restoreCreateElement = lendNonceToStyles();
    cleanups.push(restoreCreateElement);
    void (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed || !box.current) return;
      const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, scrollback: 2000, theme: { background: "#0f172a", foreground: "#e2e8f0" } });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(box.current);
      fit.fit();
      cleanups.push(() => term.dispose());
      const resize = new ResizeObserver(() => fit.fit());
      resize.observe(box.current);
      cleanups.push(() => resize.disconnect());
      setSize({ cols: term.cols, rows: term.rows });
      const resized = term.onResize(({ cols, rows }) => setSize({ cols, rows }));
      cleanups.push(() => resized.dispose());
      // Copy on select: what is selected goes to the clipboard (paste is the browser's own).
      const selection = term.onSelectionChange(() => {
        const text = term.getSelection();
        if (text) void navigator.clipboard?.writeText(text).catch(() => {});
      });
      cleanups.push(() => selection.dispose());

      let pending = "";
      let sending: Promise<void> = Promise.resolve();
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = () => {
        timer = null;
        const data = pending;
        pending = "";
        if (!data) return;
        sending = sending.then(async () => {
          const res = await api(`/api/v1/environments/${environmentId}/console`, { method: "POST", body: { data } });
          setError(res.ok ? null : res.error);
        });
      };
      // The guest echoes what is typed: until the echo is back, the screen does not show the line as it is.
      let lastTypedAt = 0;
      let lastOutputAt = 0;
      const typed = term.onData((data) => {
        lastTypedAt = Date.now();
        pending += data;
        if (pending.length >= 4000) flush();
        else timer ??= setTimeout(flush, 25);
      });
      cleanups.push(() => {
        typed.dispose();
        if (timer) clearTimeout(timer);
      });
      fitGuest.current = () => {
        fit.fit();
        term.focus();
        const echoAwaited = pending !== "" || (lastTypedAt > lastOutputAt && Date.now() - lastTypedAt < 2000);
        if (echoAwaited || !atEmptyPrompt(term.buffer.active)) return { ok: false };
        pending += `stty rows ${term.rows} columns ${term.cols}\r`;
        flush();
        return { ok: true, size: { cols: term.cols, rows: term.rows } };
      };
      cleanups.push(() => (fitGuest.current = null));

      const events = new EventSource(`/api/v1/environments/${environmentId}/console`);
      events.addEventListener("output", (e) => {
        lastOutputAt = Date.now();
        term.write((JSON.parse((e as MessageEvent<string>).data) as { data: string }).data);
      });
      events.addEventListener("status", (e) => setStatus(JSON.parse((e as MessageEvent<string>).data) as Status));
      events.onerror = () => setStatus((s) => (s.state === "connected" ? { state: "connecting", message: "Reconnecting…" } : s));
      cleanups.push(() => events.close());
      term.focus();
    })();
    return () => {
      disposed = true;
      for (const fn of cleanups.reverse()) fn();
    };
  }, [open, environmentId]);

  return (
    <section className="card" aria-labelledby="console-heading" data-testid="console">
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-3">
        <h2 id="console-heading">Console</h2>
        <button type="button" className={`btn w-full sm:w-auto ${open ? "btn-secondary" : "btn-primary"}`} onClick={() => { setOpen(!open); setStatus({ state: "connecting", message: "Connecting…" }); setError(null); setFitNote(null); setSize(null); }}>
          {open ? "Close console" : "Open console"}
        </button>
      </div>
      <div className="space-y-3 px-5 py-4">
        {open ? (
          <>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p className="text-sm text-slate-600" role="status" data-testid="console-status">
                {status.message}
              </p>
              <div className="flex flex-wrap items-center gap-2">
                {size ? <span className="text-xs text-slate-500" data-testid="console-size" data-cols={size.cols} data-rows={size.rows}>{size.cols}×{size.rows}</span> : null}
                <button
                  type="button"
                  className="btn btn-secondary"
                  disabled={status.state !== "connected"}
                  title="Types stty rows … columns … at the shell's prompt, so that programs in the guest use the whole window"
                  onClick={() => {
                    const r = fitGuest.current?.();
                    if (!r) return;
                    setFitNote(
                      r.ok
                        ? { ok: true, text: `The guest's shell now has ${r.size.cols} columns and ${r.size.rows} rows.` }
                        : { ok: false, text: "Not fitted: the cursor is not at an empty shell prompt (or what was typed is not echoed yet). Finish or clear what is typed (Ctrl+C), leave the program that runs, then fit again." },
                    );
                  }}
                >
                  Fit guest to window
                </button>
              </div>
            </div>
            <div ref={box} className="h-[clamp(20rem,60vh,48rem)] w-full overflow-hidden rounded-md bg-slate-900 p-2" data-testid="console-terminal" aria-label={`Console of ${hostname}`} />
            {fitNote ? <p className={`text-sm ${fitNote.ok ? "text-slate-600" : "text-amber-800"}`} role="status" data-testid="console-fit">{fitNote.text}</p> : null}
            {error ? <p className="text-sm text-red-700" role="alert">{error}</p> : null}
            <p className="text-xs text-slate-500">
              A root shell on the guest&apos;s serial console, shared with anyone else who has it open. Select text to copy it; paste with Ctrl+Shift+V (⌘V on a Mac). Opening and closing are recorded in the audit log; what you type is not.
              A serial line carries no window size, so the guest&apos;s shell starts at 80×24: after resizing the window, &quot;Fit guest to window&quot; types{" "}
              <code>stty rows … columns …</code> at an empty prompt (it types nothing anywhere else). In QEMU guests, <code>resize</code> asks the terminal too.
            </p>
          </>
        ) : (
          <p className="text-sm text-slate-600">A terminal on {hostname}&apos;s serial console with a login shell, for its owner and admins.</p>
        )}
      </div>
    </section>
  );
}
