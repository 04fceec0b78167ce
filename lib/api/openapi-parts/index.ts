import type { OpenApiPart } from "../openapi-helpers";
import { governancePolicy } from "./governance-policy";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [governancePolicy];
