import type { OpenApiPart } from "../openapi-helpers";
import { environmentsPart } from "./environments";
import { environmentsMigratePart } from "./environments-migrate";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [environmentsPart, environmentsMigratePart];
