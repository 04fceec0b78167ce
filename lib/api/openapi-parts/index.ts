import type { OpenApiPart } from "../openapi-helpers";
import { governanceCourses } from "./governance-courses";
import { governanceLeases } from "./governance-leases";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [governanceLeases, governanceCourses];
