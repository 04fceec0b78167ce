"use client";

import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { api } from "../api-client";

type Status = { state: "connecting" | "connected" | "closed" | "unavailable"; message: string };

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
 * keystrokes go out in small batches; the terminal fits its box and follows its size.
 */
export function ConsolePanel({ environmentId, hostname }: { environmentId: string; hostname: string }) {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<Status>({ state: "connecting", message: "Connecting…" });
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);

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
      const typed = term.onData((data) => {
        pending += data;
        if (pending.length >= 4000) flush();
        else timer ??= setTimeout(flush, 25);
      });
      cleanups.push(() => {
        typed.dispose();
        if (timer) clearTimeout(timer);
      });

      const events = new EventSource(`/api/v1/environments/${environmentId}/console`);
      events.addEventListener("output", (e) => term.write((JSON.parse((e as MessageEvent<string>).data) as { data: string }).data));
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
        <button type="button" className={`btn w-full sm:w-auto ${open ? "btn-secondary" : "btn-primary"}`} onClick={() => { setOpen(!open); setStatus({ state: "connecting", message: "Connecting…" }); setError(null); }}>
          {open ? "Close console" : "Open console"}
        </button>
      </div>
      <div className="space-y-3 px-5 py-4">
        {open ? (
          <>
            <p className="text-sm text-slate-600" role="status" data-testid="console-status">
              {status.message}
            </p>
            <div ref={box} className="h-80 w-full overflow-hidden rounded-md bg-slate-900 p-2" data-testid="console-terminal" aria-label={`Console of ${hostname}`} />
            {error ? <p className="text-sm text-red-700" role="alert">{error}</p> : null}
            <p className="text-xs text-slate-500">
              A root shell on the guest&apos;s serial console, shared with anyone else who has it open. Select text to copy it; paste with Ctrl+Shift+V (⌘V on a Mac). Opening and closing are recorded in the audit log; what you type is not.
            </p>
          </>
        ) : (
          <p className="text-sm text-slate-600">A terminal on {hostname}&apos;s serial console with a login shell, for its owner and admins.</p>
        )}
      </div>
    </section>
  );
}
