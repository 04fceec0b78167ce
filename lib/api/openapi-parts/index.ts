import type { OpenApiPart } from "../openapi-helpers";
import { accountPart } from "./account";
import { catalogPart } from "./catalog";
import { environmentsPart } from "./environments";
import { environmentsConsolePart } from "./environments-console";
import { environmentsMigratePart } from "./environments-migrate";
import { environmentsSnapshotsPart } from "./environments-snapshots";
import { environmentsBackupsPart } from "./environments-backups";
import { governanceAudit } from "./governance-audit";
import { governanceCourses } from "./governance-courses";
import { governanceDelivery } from "./governance-delivery";
import { governanceLeases } from "./governance-leases";
import { governancePolicy } from "./governance-policy";
import { hostsPart } from "./hosts";
import { fleetPart } from "./fleet";
import { networksPart } from "./networks";
import { serviceIpsPart } from "./service-ips";
import { ordersPart } from "./orders";
import { planPart } from "./plan";
import { recipesPart } from "./recipes";
import { signInPart } from "./sign-in";
import { usagePart } from "./usage";
import { workersPart } from "./workers";

/** Every area's part of the OpenAPI document, in the order the document lists them; one import and one entry per area. */
export const openApiParts: OpenApiPart[] = [
  catalogPart, recipesPart, ordersPart, environmentsPart, environmentsMigratePart, environmentsConsolePart, environmentsSnapshotsPart, environmentsBackupsPart, governanceDelivery, governanceAudit, governancePolicy,
  governanceLeases, governanceCourses, hostsPart, fleetPart, networksPart, serviceIpsPart, planPart, accountPart, signInPart,
  workersPart, usagePart,
];
