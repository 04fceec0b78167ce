import type { OpenApiPart } from "../openapi-helpers";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [];
