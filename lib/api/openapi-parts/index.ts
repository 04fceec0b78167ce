import type { OpenApiPart } from "../openapi-helpers";
import { environmentsPart } from "./environments";
import { environmentsMigratePart } from "./environments-migrate";
import { governanceAudit } from "./governance-audit";
import { governanceCourses } from "./governance-courses";
import { governanceDelivery } from "./governance-delivery";
import { governanceLeases } from "./governance-leases";
import { governancePolicy } from "./governance-policy";
import { hostsPart } from "./hosts";
import { networksPart } from "./networks";
import { planPart } from "./plan";

/** Every area's part of the OpenAPI document; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [
  governanceDelivery, governanceAudit, governancePolicy, governanceLeases, governanceCourses, hostsPart, planPart,
  environmentsPart, environmentsMigratePart, networksPart,
];
