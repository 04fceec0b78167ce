import Link from "next/link";

export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl py-16 text-center">
      <p className="text-sm font-semibold tracking-wide text-slate-500">404 · Not found</p>
      <h1 className="mt-2">This page does not exist, or it is not yours to see</h1>
      <p className="mt-3 text-slate-600">Orders are visible to the customer who placed them, the approvers of their group and administrators.</p>
      <div className="mt-6 flex flex-col gap-3 sm:flex-row sm:justify-center">
        <Link prefetch={false} href="/orders" className="btn btn-primary">My orders</Link>
        <Link prefetch={false} href="/catalog" className="btn btn-secondary">Catalog</Link>
      </div>
    </div>
  );
}
