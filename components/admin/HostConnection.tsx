"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { HostCheck } from "@/lib/db/schema";
import { api } from "../api-client";
import { formatDateTime, formatDuration, formatMemory } from "../format";
import { HostSettingsForm } from "./HostSettingsForm";

type Connection = {
  local: boolean;
  port: number;
  sshUser: string | null;
  sshPublicKey: string | null;
  hostKeyFingerprint: string | null;
  maxConcurrency: number;
};

type TestResult = { ok: boolean; error: string | null; hostKey: { fingerprint: string | null; pinnedNow: boolean } | null; check: HostCheck };

/** What a check found, in words: capacity, versions, details, or why it failed. */
function CheckSummary({ check, testId }: { check: HostCheck; testId: string }) {
  const f = check.facts;
  return (
    <div data-testid={testId} data-ok={check.ok} className={`rounded-md border p-3 text-xs ${check.ok ? "border-emerald-200 bg-emerald-50" : "border-rose-200 bg-rose-50"}`}>
      <p className={`font-medium ${check.ok ? "text-emerald-800" : "text-rose-800"}`}>
        {check.ok ? "Connected" : "Failed"} · {formatDateTime(check.at)} · {formatDuration(check.durationMs)}
      </p>
      {check.error ? <p role="alert" className="mt-1 break-words text-rose-800">{check.error}</p> : null}
      {f ? (
        <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-slate-700" data-testid="host-capacity">
          <dt className="text-slate-500">CPUs</dt>
          <dd data-testid="capacity-vcpus">{f.vcpus}</dd>
          <dt className="text-slate-500">Memory</dt>
          <dd data-testid="capacity-memory">{formatMemory(f.memoryMb)}{f.freeMemoryMb !== null ? ` (${formatMemory(f.freeMemoryMb)} free)` : ""}</dd>
          <dt className="text-slate-500">Disk</dt>
          <dd data-testid="capacity-disk">{f.diskGb} GiB{f.freeDiskGb !== null ? ` (${f.freeDiskGb} GiB free)` : ""}</dd>
          {f.version ? (
            <>
              <dt className="text-slate-500">Version</dt>
              <dd>{f.version}</dd>
            </>
          ) : null}
          {f.details.map((d) => (
            <dd key={d} className="col-span-2 text-slate-600">{d}</dd>
          ))}
        </dl>
      ) : null}
    </div>
  );
}

/**
 * A host's connection: where and as whom the portal logs in, the pinned host key, the public
 * key to install on the host, and "Test connection", which pins the key on the first contact
 * and discovers the host's capacity. Also removes the host.
 */
export function HostConnection({ hostId, hostName, kind, address, connection, settings, lastCheck, environments }: {
  hostId: string;
  hostName: string;
  kind: string;
  address: string;
  connection: Connection | null;
  settings: Record<string, unknown> | null;
  lastCheck: HostCheck | null;
  environments: number;
}) {
  const router = useRouter();
  const [busy, setBusy] = useState<"test" | "remove" | null>(null);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  async function test() {
    setBusy("test");
    setError(null);
    const res = await api<TestResult>(`/api/v1/hosts/${hostId}/test`, { method: "POST" });
    setBusy(null);
    if (!res.ok) return setError(res.error);
    setResult(res.data);
    router.refresh();
  }

  /** After the admin checked the new key on the host itself (ssh-keygen -l on its console). */
  async function pinPresentedKey(fingerprint: string) {
    if (!window.confirm(`Pin ${fingerprint} as the host key of ${hostName}? Only do this if you checked this fingerprint on the host itself.`)) return;
    setBusy("test");
    setError(null);
    const res = await api(`/api/v1/hosts/${hostId}`, { method: "PATCH", body: { hostKeyFingerprint: fingerprint } });
    setBusy(null);
    if (!res.ok) return setError(res.fields ? Object.values(res.fields).flat()[0] ?? res.error : res.error);
    setResult(null);
    router.refresh();
  }

  async function remove() {
    if (!window.confirm(`Remove host ${hostName}? The portal forgets its key; environments will no longer be placed on it.`)) return;
    setBusy("remove");
    setError(null);
    const res = await api(`/api/v1/hosts/${hostId}`, { method: "DELETE" });
    setBusy(null);
    if (!res.ok) return setError(res.error);
    router.refresh();
  }

  const check = result?.check ?? lastCheck;
  const fingerprint = result?.hostKey?.fingerprint ?? connection?.hostKeyFingerprint ?? null;
  const changedKey =
    check && !check.ok && check.presentedHostKey && connection?.hostKeyFingerprint && check.presentedHostKey !== connection.hostKeyFingerprint
      ? check.presentedHostKey
      : null;
  return (
    <div className="space-y-2 text-sm">
      {connection === null ? (
        <p className="text-xs text-slate-500">Simulated host: nothing to connect to.</p>
      ) : connection.local ? (
        <p className="text-xs text-slate-600">Runs on the worker&apos;s own machine (no SSH).</p>
      ) : (
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
          <dt className="text-slate-500">Login</dt>
          <dd className="font-mono">{connection.sshUser}@{address}:{connection.port}</dd>
          <dt className="text-slate-500">Host key</dt>
          <dd className="font-mono break-all" data-testid="host-key-fingerprint">
            {fingerprint ?? <span className="font-sans text-amber-700">not pinned yet: Test connection records the key the host presents</span>}
            {result?.hostKey?.pinnedNow ? <span className="ml-1 font-sans text-emerald-700">(pinned now)</span> : null}
          </dd>
          <dt className="text-slate-500">At once</dt>
          <dd>{connection.maxConcurrency} command{connection.maxConcurrency === 1 ? "" : "s"}</dd>
          {connection.sshPublicKey ? (
            <>
              <dt className="text-slate-500">Public key</dt>
              <dd>
                <details>
                  <summary className="cursor-pointer text-sky-700">for ~{connection.sshUser}/.ssh/authorized_keys</summary>
                  <code className="mt-1 block rounded bg-slate-50 p-2 break-all">{connection.sshPublicKey}</code>
                </details>
              </dd>
            </>
          ) : null}
        </dl>
      )}
      {check ? <CheckSummary check={check} testId={result ? "test-result" : "last-check"} /> : connection ? <p className="text-xs text-slate-500">Not tested yet.</p> : null}
      {changedKey ? (
        <div className="rounded-md border border-amber-300 bg-amber-50 p-3 text-xs text-amber-900" data-testid="changed-host-key">
          <p>
            The host presented <code className="break-all">{changedKey}</code> instead of the pinned key. The portal will not run anything there until
            the key matches. If the host was reinstalled, compare this fingerprint with <code>ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub</code> on its console, then pin it.
          </p>
          <button type="button" className="btn btn-secondary mt-2 text-xs" onClick={() => pinPresentedKey(changedKey)} disabled={busy !== null}>
            Pin the new key
          </button>
        </div>
      ) : null}
      {kind !== "sim" ? (
        <div className="flex flex-wrap gap-2">
          <button type="button" className="btn btn-secondary text-xs" onClick={test} disabled={busy !== null} aria-label={`Test connection to ${hostName}`}>
            {busy === "test" ? "Testing…" : "Test connection"}
          </button>
          <button
            type="button"
            className="btn btn-secondary text-xs text-rose-700"
            onClick={remove}
            disabled={busy !== null}
            aria-label={`Remove ${hostName}`}
            title={environments ? `${environments} environment(s) still live here` : undefined}
          >
            {busy === "remove" ? "Removing…" : "Remove"}
          </button>
        </div>
      ) : null}
      {connection ? (
        <details className="text-xs">
          <summary className="cursor-pointer font-medium text-sky-700">Change connection settings</summary>
          <div className="mt-2">
            <HostSettingsForm
              key={`${connection.port}|${connection.sshUser}|${connection.maxConcurrency}|${connection.sshPublicKey}|${JSON.stringify(settings)}`}
              hostId={hostId}
              current={connection}
              settings={settings}
              local={connection.local}
              onSaved={setSaved}
            />
          </div>
        </details>
      ) : null}
      {saved ? <p role="status" className="text-xs text-emerald-700">{saved}</p> : null}
      {error ? <p role="alert" className="text-xs text-rose-700">{error}</p> : null}
    </div>
  );
}
