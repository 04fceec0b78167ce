import { z } from "zod";
import { roles } from "../db/schema/enums";

/**
 * What admins send for sign-in mapping rules and settings, checked the same way by the admin
 * page (as you type) and the API. No server imports: the browser loads this file too.
 */

const ruleFields = {
  match: z
    .string()
    .trim()
    .min(1, "Enter the group as the directory or the identity provider names it")
    .max(500, "A group can have at most 500 characters"),
  role: z.enum(roles, { message: "Role is one of admin, approver, customer, student" }),
  /** The portal group to join, by slug; null or left out: a role only. */
  group: z.string().trim().min(1, "Choose a group").max(100).nullable().optional(),
};

export const signInRuleInput = z.strictObject(ruleFields);
export type SignInRuleInput = z.infer<typeof signInRuleInput>;

/** A change to a rule: only the fields sent change. */
export const signInRuleUpdate = z.strictObject(ruleFields).partial();
export type SignInRuleUpdate = z.infer<typeof signInRuleUpdate>;

export const signInSettingsInput = z.strictObject({
  localAdminsOnly: z.boolean({ message: "localAdminsOnly is true or false" }),
});
export type SignInSettingsInput = z.infer<typeof signInSettingsInput>;
