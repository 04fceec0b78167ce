"use client";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="mx-auto max-w-xl py-16 text-center" role="alert">
      <p className="text-sm font-semibold tracking-wide text-rose-600">Something went wrong</p>
      <h1 className="mt-2">The portal could not show this page</h1>
      <p className="mt-3 text-slate-600">
        Try again in a moment. If it keeps happening, give an administrator this reference:{" "}
        <code className="rounded bg-slate-100 px-1.5 py-0.5 text-sm">{error.digest ?? "unknown"}</code>
      </p>
      <button type="button" onClick={reset} className="btn btn-primary mt-6 w-full sm:w-auto">Try again</button>
    </div>
  );
}
