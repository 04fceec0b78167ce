import Link from "next/link";

/** Any address the portal does not know, or a page that is not the visitor's to see. */
export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl py-16 text-center">
      <p className="text-sm font-semibold tracking-wide text-slate-500">404 · Not found</p>
      <h1 className="mt-2">There is no page at this address</h1>
      <p className="mt-3 text-slate-600">The link may be mistyped or out of date, or what it pointed to is no longer here or not yours to see.</p>
      <div className="mt-6 flex justify-center">
        <Link prefetch={false} href="/" className="btn btn-primary w-full sm:w-auto">Go to the start page</Link>
      </div>
    </div>
  );
}
