import { z } from "zod";
import type { RuleConditions } from "../db/schema/enums";
import { orderPurposes, roles } from "../db/schema/enums";
import { displayNameField, HOST_TAG, numeric, slugField } from "../validation/fields";

/**
 * Governance input: groups, quotas and approval rules, shared by the admin forms (validation
 * as you type) and the API. No server imports here: the browser loads this file too.
 */

const uuid = z.string().uuid("Not a valid id");
const count = (what: string) =>
  numeric(z.number({ message: `${what} is a number` }).int(`${what} is a whole number`).min(0, `${what} is 0 or more`).max(1_000_000, `${what} is at most 1000000`));

/** A rule matches an order when every condition it sets holds; unset conditions match anything. */
export const ruleConditions = z.strictObject({
  groups: z.array(uuid).max(100).optional(),
  roles: z.array(z.enum(roles, { message: "Role is one of admin, approver, customer, student" })).max(4).optional(),
  images: z.array(uuid).max(100).optional(),
  os: z.enum(["linux", "solaris"], { message: "OS is linux or solaris" }).optional(),
  licensed: z.boolean().optional(),
  purposes: z.array(z.enum(orderPurposes, { message: "Purpose is one of test, development, database, web" })).max(4).optional(),
  vcpusOver: count("vCPUs").optional(),
  vcpusAtMost: count("vCPUs").optional(),
  memoryGbOver: count("Memory").optional(),
  memoryGbAtMost: count("Memory").optional(),
  leaseDaysOver: count("Lease").optional(),
  leaseDaysAtMost: count("Lease").optional(),
});

export type { RuleConditions };
// The stored type and this check describe the same conditions: neither may drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const conditionsMatchStorage: Same<z.infer<typeof ruleConditions>, RuleConditions> = true;
void conditionsMatchStorage;

export const ruleOutcomeValues = ["approve", "hold", "refuse"] as const;

const ruleFields = {
  name: displayNameField,
  outcome: z.enum(ruleOutcomeValues, { message: "Outcome is approve, hold or refuse" }),
  conditions: ruleConditions,
  note: z.string().trim().max(200, "Note can have at most 200 characters").optional(),
  enabled: z.boolean(),
  /** 1-based place in the list; at the end when left out. */
  position: numeric(z.number({ message: "Position is a number" }).int("Position is a whole number").min(1, "Position is at least 1")).optional(),
};

export const ruleInput = z.strictObject({ ...ruleFields, conditions: ruleConditions.default({}), enabled: z.boolean().default(true) });

export type RuleInput = z.infer<typeof ruleInput>;

/** A change to a rule: only the fields sent change (no defaults here). */
export const ruleUpdate = z.strictObject(ruleFields).partial();
export type RuleUpdate = z.infer<typeof ruleUpdate>;

export const ruleOrder = z.strictObject({ ids: z.array(uuid).min(1, "List the rules in their new order").max(500) });

/**
 * A limit as the API takes it: a whole number from 0 to 1000000, or null for no limit.
 * Nothing is coerced: "5", true or [] are refused, not read as numbers.
 */
const limit = (what: string) =>
  z
    .number({ error: (i) => (i.input === undefined ? `${what}: give a whole number or null (no limit)` : `${what} is a whole number or null`) })
    .int(`${what} is a whole number`)
    .min(0, `${what} is 0 or more`)
    .max(1_000_000, `${what} is at most 1000000`)
    .nullable();

/** PUT: every limit, each a number or null; a left-out field is an error, not "no limit". */
export const quotaLimits = z.strictObject({
  environments: limit("Environments"),
  vcpus: limit("vCPUs"),
  memoryGb: limit("Memory"),
  diskGb: limit("Disk"),
  licensedCores: limit("Licensed cores"),
});

/** PATCH: only the limits sent change; at least one. */
export const quotaLimitsPatch = quotaLimits
  .partial()
  .refine((v) => Object.keys(v).length > 0, { message: "Send at least one of environments, vcpus, memoryGb, diskGb, licensedCores" });

/** The quota forms' text fields: an empty field means no limit. They send what this yields. */
const limitText = (what: string) => z.preprocess((v) => (v === "" || v === undefined ? null : v), count(what).nullable());

export const quotaLimitsForm = z.strictObject({
  environments: limitText("Environments"),
  vcpus: limitText("vCPUs"),
  memoryGb: limitText("Memory"),
  diskGb: limitText("Disk"),
  licensedCores: limitText("Licensed cores"),
});

export type QuotaLimitsInput = z.infer<typeof quotaLimits>;

export const groupKinds = ["pool", "course"] as const;

export const groupInput = z.strictObject({
  slug: slugField,
  name: displayNameField,
  kind: z.enum(groupKinds).default("pool"),
  autoApprove: z.boolean().default(false),
});

export type GroupInput = z.infer<typeof groupInput>;


/** What a group may use; empty lists mean everything. */
export const groupSettingsInput = z.strictObject({
  name: displayNameField.optional(),
  autoApprove: z.boolean().optional(),
  imageIds: z.array(uuid).max(500).optional(),
  flavorIds: z.array(uuid).max(500).optional(),
  networkIds: z.array(uuid).max(500).optional(),
  hostIds: z.array(uuid).max(500).optional(),
  hostTags: z.array(z.string().trim().regex(HOST_TAG, "A tag is lowercase letters, digits and hyphens")).max(20).optional(),
});

export type GroupSettingsInput = z.infer<typeof groupSettingsInput>;

export const memberRoles = ["customer", "approver"] as const;

export const memberInput = z.strictObject({
  email: z.string().trim().toLowerCase().email("Enter a valid e-mail address").max(200),
  role: z.enum(memberRoles, { message: "Role in the group is customer or approver" }),
});

export type MemberInput = z.infer<typeof memberInput>;
