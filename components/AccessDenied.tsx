import Link from "next/link";

/** What a signed-in user sees on a page their role does not open (HTTP 403 in words). */
export function AccessDenied({ what = "this page", needs }: { what?: string; needs?: string }) {
  return (
    <div className="mx-auto max-w-xl py-16 text-center" role="alert">
      <p className="text-sm font-semibold tracking-wide text-rose-600">403 · Forbidden</p>
      <h1 className="mt-2">You do not have access to {what}</h1>
      <p className="mt-3 text-slate-600">
        {needs ? `${needs} ` : ""}If you think you should, ask an administrator of the portal.
      </p>
      <div className="mt-6 flex flex-col gap-3 sm:flex-row sm:justify-center">
        <Link prefetch={false} href="/catalog" className="btn btn-primary">Go to the catalog</Link>
        <Link prefetch={false} href="/orders" className="btn btn-secondary">My orders</Link>
      </div>
    </div>
  );
}
