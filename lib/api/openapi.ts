import { commonResponses, commonSchemas } from "./openapi-helpers";
import { openApiParts } from "./openapi-parts";

/** The OpenAPI 3.1 document served at /api/v1/openapi.json, put together from the areas' parts. */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Environment portal API",
      version: "1",
      description:
        "Order Linux and Solaris environments and follow their delivery. Authenticate with `Authorization: Bearer <token>` (create a token on the Account page or with POST /api/v1/tokens) or a browser session. " +
        "Errors answer `{ error, fields? }`: 401 without a valid sign-in, 403 when not allowed (and for a change sent with a session cookie from another site's page), 404 for what does not exist or is not yours, 409 when the state does not allow it, 415 for a body not sent as JSON, 422 for invalid input with a message per field (invalid JSON, a body that is not an object, an unknown field whatever its name, a wrong value, or a string with a NUL or an unpaired surrogate in the body, the query or the path). " +
        "An unexpected failure answers 500 with a `requestId` to quote.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { session: [] }],
    paths: Object.assign({}, ...openApiParts.map((p) => p.paths)),
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token" },
      },
      responses: commonResponses,
      schemas: Object.assign({}, commonSchemas, ...openApiParts.map((p) => p.schemas ?? {})),
    },
  };
}
