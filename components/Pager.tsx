import Link from "next/link";

/** The page number a `?page=` parameter names: 1 when absent or not a whole number from 1. */
export function pageNumber(value: string | string[] | undefined): number {
  const text = Array.isArray(value) ? value[0] : value;
  const n = text && /^\d{1,6}$/.test(text) ? Number(text) : 1;
  return n >= 1 ? n : 1;
}

/**
 * Where a paged list is: "Users 51–100 of 500", with Previous and Next links (stacked on a
 * phone). `href(page)` gives a page's address.
 */
export function Pager({ label, what, page, perPage, total, shown, href }: {
  /** The navigation's accessible name, e.g. "Users pages". */
  label: string;
  /** What is counted, e.g. "Users". */
  what: string;
  page: number;
  perPage: number;
  total: number;
  /** Rows on this page. */
  shown: number;
  href: (page: number) => string;
}) {
  const first = (page - 1) * perPage + 1;
  const last = (page - 1) * perPage + shown;
  const pages = Math.max(1, Math.ceil(total / perPage));
  return (
    <nav aria-label={label} className="flex flex-col gap-2 px-4 py-2 text-sm sm:flex-row sm:items-center sm:justify-between">
      <span className="text-slate-600" data-testid="page-position">
        {shown > 0 ? `${what} ${first}–${last} of ${total}` : `No ${what.toLowerCase()} on page ${page} of ${pages}`}
        {pages > 1 ? <span className="text-slate-400"> · page {Math.min(page, pages)} of {pages}</span> : null}
      </span>
      <span className="flex gap-4">
        {page > 1 ? (
          <Link prefetch={false} href={href(Math.min(page - 1, pages))} className="text-sky-700 hover:underline" rel="prev">← Previous</Link>
        ) : null}
        {last < total ? (
          <Link prefetch={false} href={href(page + 1)} className="text-sky-700 hover:underline" rel="next">Next →</Link>
        ) : null}
      </span>
    </nav>
  );
}
