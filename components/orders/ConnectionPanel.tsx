"use client";

import Link from "next/link";
import { useRef, useState } from "react";
import type { Connection } from "@/lib/orders/connection";
import { DatabasePassword } from "./DatabasePassword";

/**
 * How to reach a delivered environment: the ssh command with a copy button, the login, the
 * key the glue step installed (by fingerprint), and a warning when no key was installed; for a
 * database, where its clients connect (host, port, database, user, a psql command line).
 */
export function ConnectionPanel({
  connection,
  isOwner,
  manage,
}: {
  connection: Connection;
  isOwner: boolean;
  /** Owner and admins: a new database password can be made here. */
  manage?: { environmentId: string; running: boolean; onDone: () => Promise<void> } | null;
}) {
  const commandRef = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(connection.command);
      setCopied("Copied");
    } catch {
      // No clipboard (a page not served over HTTPS, or permission refused): select the command to copy by hand.
      const range = document.createRange();
      range.selectNodeContents(commandRef.current!);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      setCopied("Selected: press Ctrl+C (⌘C) to copy");
    }
  }

  return (
    <section className="card" aria-labelledby="connect-heading" data-testid="connection-panel">
      <h2 id="connect-heading" className="border-b border-slate-100 px-5 py-3 text-base">How to connect</h2>
      <div className="space-y-4 px-5 py-4 text-sm">
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
          <code ref={commandRef} className="min-w-0 flex-1 overflow-x-auto rounded-md bg-slate-900 px-3 py-2 font-mono whitespace-nowrap text-slate-50" data-testid="ssh-command">
            {connection.command}
          </code>
          <button type="button" className="btn btn-secondary w-full sm:w-auto" onClick={copy} aria-label="Copy the ssh command">
            Copy
          </button>
        </div>
        {copied ? <p role="status" className="text-xs text-slate-600" data-testid="copy-result">{copied}</p> : null}
        <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-2">
          <div>
            <dt className="text-slate-500">Login</dt>
            <dd className="font-mono font-medium text-slate-900" data-testid="connection-user">{connection.user}</dd>
          </div>
          <div>
            <dt className="text-slate-500">Address</dt>
            <dd className="font-mono font-medium text-slate-900">{connection.address}</dd>
          </div>
          <div className="sm:col-span-2">
            <dt className="text-slate-500">SSH key installed</dt>
            {connection.keys.length ? (
              connection.keys.map((k) => (
                <dd key={k.fingerprint} className="text-slate-900" data-testid="connection-key">
                  <span className="font-medium">{k.name}</span> <code className="text-xs break-all text-slate-600">{k.fingerprint}</code>
                </dd>
              ))
            ) : (
              <dd className="text-slate-900">none</dd>
            )}
          </div>
        </dl>
        {connection.database ? (
          <div className="space-y-2 border-t border-slate-100 pt-4" data-testid="connection-database">
            <h3 className="text-sm font-semibold text-slate-900">Database (PostgreSQL)</h3>
            <code className="block overflow-x-auto rounded-md bg-slate-900 px-3 py-2 font-mono whitespace-nowrap text-slate-50" data-testid="psql-command">
              {connection.database.command}
            </code>
            <dl className="grid gap-x-6 gap-y-3 sm:grid-cols-4">
              {([
                ["Host", "database-host", connection.database.host],
                ["Port", "database-port", connection.database.port],
                ["Database", "database-name", connection.database.database],
                ["User", "database-user", connection.database.user],
              ] as const).map(([label, testId, value]) => (
                <div key={testId}>
                  <dt className="text-slate-500">{label}</dt>
                  <dd className="font-mono font-medium text-slate-900" data-testid={testId}>{value}</dd>
                </div>
              ))}
            </dl>
            <p className="text-xs text-slate-600">
              The password is the one shown once under the recipe&apos;s outputs; psql asks for it (or reads PGPASSWORD).
            </p>
            {manage ? <DatabasePassword environmentId={manage.environmentId} running={manage.running} onDone={manage.onDone} /> : null}
          </div>
        ) : null}
        {connection.warning ? (
          <div role="note" className="rounded-md border-l-4 border-amber-400 bg-amber-50 px-3 py-2 text-amber-900" data-testid="connection-warning">
            <p>{connection.warning}</p>
            <p className="mt-1">
              {isOwner ? (
                <>
                  Add your SSH public key on the <Link prefetch={false} href="/account" className="font-medium underline">Account</Link> page.
                </>
              ) : (
                "The owner adds an SSH public key on their Account page."
              )}
            </p>
          </div>
        ) : null}
      </div>
    </section>
  );
}
