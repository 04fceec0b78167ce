import type { OpenApiPart } from "../openapi-helpers";
import { governanceAudit } from "./governance-audit";
import { governanceDelivery } from "./governance-delivery";
import { governancePolicy } from "./governance-policy";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [governanceDelivery, governanceAudit, governancePolicy];
