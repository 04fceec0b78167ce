/**
 * Building blocks for the OpenAPI document. Each area of the API describes its routes in its
 * own part under lib/api/openapi-parts/ and lists it in that folder's index.ts.
 *
 * Every operation says what it answers, each status with its own words: the helpers for
 * 403, 404 and 409 take the description, since "no such order" is wrong on a host's route.
 * What the route wrapper (lib/api/handler.ts) answers for every route has a helper too:
 * 401 without a sign-in, 403 for a change sent with a session cookie from another site,
 * 404 for an id that is not a UUID, 415 and 422 for a body that is not JSON or does not pass.
 */
import { z } from "zod";

export type OpenApiPart = { paths: Record<string, object>; schemas?: Record<string, object> };

export const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** A required JSON request body with the named schema. */
export const body = (name: string) => ({ required: true, content: { "application/json": { schema: ref(name) } } });
/** A response with a JSON body (every 2xx but 204 has one). */
export const ok = (description: string, s: object) => ({ description, content: { "application/json": { schema: s } } });
/** 204: done, no body. */
export const noContent = (description: string) => ({ "204": { description } });
/** An error response: `{ error, fields? }`. */
export const fail = (description: string) => ({ description, content: { "application/json": { schema: ref("Error") } } });

/** What every changing request sent with a session cookie is refused for (the Origin check). */
export const CROSS_SITE = "a change sent with a session cookie from another site's page";

/** 401: the operation needs a session or an API token. */
export const unauthorized = { "401": { $ref: "#/components/responses/Unauthorized" } };
/** 403 with every reason this operation refuses a signed-in caller, e.g. forbidden("Admins only", CROSS_SITE). */
export const forbidden = (...reasons: string[]) => ({ "403": fail(`Refused: ${reasons.join("; or ")}`) });
/** 404 for this operation's path parameters (ids that are not UUIDs included). */
export const notFound = (description: string) => ({ "404": fail(description) });
/** 409: not possible in the current state, in this operation's words. */
export const conflict = (description: string) => ({ "409": fail(description) });
/** 422: invalid input (a query parameter or a field), with a message per field. */
export const invalid = (description = "Invalid input, with a message per field") => ({ "422": fail(description) });
/** 415 and 422 of an operation with a JSON body. */
export const bodyRejected = (description = "Invalid body: not an object, a field missing, unknown or of the wrong type, or a character that cannot be stored; a message per field") => ({
  "415": { $ref: "#/components/responses/UnsupportedMediaType" },
  ...invalid(description),
});

/** A path parameter holding a UUID. */
export const uuidParam = (name: string, description: string) => ({ name, in: "path", required: true, description, schema: { type: "string", format: "uuid" } });

/** Shared responses and schemas every part may refer to. */
export const commonResponses = {
  Unauthorized: fail("Not signed in, and no valid API token (Authorization: Bearer ...)"),
  UnsupportedMediaType: fail("The body is not sent as JSON (Content-Type: application/json)"),
};
export const commonSchemas = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: { type: "string", description: "What went wrong, safe to show" },
      fields: { type: "object", description: "Messages per field of the input", additionalProperties: { type: "array", items: { type: "string" } } },
      requestId: { type: "string", description: "Only on 500: quote it to the operators" },
    },
  },
};

/** `limit` and `cursor` of a list that answers 100 items a page by default, 500 at most. */
export const listPageParams = (what: string) => [
  { name: "limit", in: "query", description: `${what} per page (default 100, at most 500)`, schema: { type: "integer", minimum: 1, maximum: 500, default: 100 } },
  { name: "cursor", in: "query", description: "The previous page's nextCursor (or follow the Link header's rel=\"next\")", schema: { type: "string" } },
];

/**
 * 200 with one page of such a list under `key`, its `nextCursor`, and a `Link: <...>; rel="next"`
 * header to the next page while there is one.
 */
export const listPageOk = (description: string, key: string, items: object) => ({
  description,
  headers: {
    Link: {
      description: 'The next page, `<path?cursor=...>; rel="next"` (RFC 8288); absent on the last page',
      schema: { type: "string" },
    },
  },
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: [key, "nextCursor"],
        properties: {
          [key]: { type: "array", items },
          nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page; null on the last" },
        },
      },
    },
  },
});

/** 422 of such a list. */
export const invalidPage = invalid("limit not a whole number from 1 to 500, or a cursor that is not one from this list");
