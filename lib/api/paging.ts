import { z } from "zod";
import { LIST_MAX_PER_PAGE, LIST_PER_PAGE, pageQuery } from "../validation/cursor";

/** `?limit=&cursor=` of the lists that answer a page of 100 by default, 500 at most. */
export const listPageQuery = z.object(pageQuery(LIST_PER_PAGE, LIST_MAX_PER_PAGE));

/** The query's page parameters, or a 422 naming the bad one. */
export function listPageOf(req: Request) {
  const params = new URL(req.url).searchParams;
  return listPageQuery.parse({ limit: params.get("limit") ?? undefined, cursor: params.get("cursor") ?? undefined });
}

/**
 * The `Link: <...>; rel="next"` header (RFC 8288) to the page after this one: the same request
 * with `cursor` set to `nextCursor`; none on the last page.
 */
export function nextPageLink(req: Request, nextCursor: string | null): Record<string, string> {
  if (!nextCursor) return {};
  const url = new URL(req.url);
  url.searchParams.set("cursor", nextCursor);
  return { Link: `<${url.pathname}${url.search}>; rel="next"` };
}
