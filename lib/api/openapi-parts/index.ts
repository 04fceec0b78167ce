import type { OpenApiPart } from "../openapi-helpers";
import { hostsPart } from "./hosts";
import { planPart } from "./plan";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [hostsPart, planPart];
