import { z } from "zod";
import { DATE_TIME_EXAMPLE, parseDateTime } from "../validation/date-time";
import { numeric } from "../validation/fields";

/**
 * What admins and approvers send to start a patch campaign (`POST /api/v1/campaigns`, and the
 * form on /admin/campaigns). Client-safe: zod and the shared field rules only.
 */

/** A moment in a body: ISO 8601, or the portal's `2026-12-06 11:59` (UTC). */
const moment = (what: string) =>
  z.string({ message: `${what}: a date and time like ${DATE_TIME_EXAMPLE} (UTC)` }).transform((s, ctx) => {
    const at = parseDateTime(s);
    if (at instanceof Date) return at;
    ctx.addIssue({ code: "custom", message: `${what}: ${at.problem}` });
    return z.NEVER;
  });

/** Most environments one campaign may name, and the biggest wave. */
export const MAX_CAMPAIGN_ENVIRONMENTS = 500;
export const MAX_WAVE_SIZE = 100;
export const MAX_POSTPONE_DAYS = 90;
export const DEFAULT_POSTPONE_DAYS = 7;

/** The checks a campaign can run after each reinstall; recipes' own checks are to come. */
export const healthChecks = ["ready-line"] as const;

export const campaignInput = z
  .strictObject({
    name: z.string().trim().min(1, "Enter a name").max(100, "Name can have at most 100 characters").optional(),
    /** The image (slug or id) whose environments are updated. */
    image: z.string({ message: "Choose the image (its slug)" }).trim().min(1, "Choose the image (its slug)").max(100),
    /** The version to update to; the image's current version when left out. */
    version: numeric(z.number({ message: "version is a version number (1, 2, ...)" }).int("version is a whole number").min(1, "version is 1 or more")).optional(),
    /**
     * Which environments: a group's (`group`), a list (`environments`, their ids), or every
     * outdated one (`outdated: true`, within `group` when given). Only those on another version
     * than the target are taken.
     */
    targets: z.strictObject({
      group: z.string().trim().min(1, "Name the group (its slug)").max(100).optional(),
      environments: z
        .array(z.string().uuid("Each environment is its id"), { message: "environments is a list of environment ids" })
        .min(1, "Name at least one environment")
        .max(MAX_CAMPAIGN_ENVIRONMENTS, `At most ${MAX_CAMPAIGN_ENVIRONMENTS} environments`)
        .optional(),
      outdated: z.literal(true, { message: "outdated is true (every outdated environment)" }).optional(),
    }, { message: "targets is { group }, { environments: [ids] } or { outdated: true }" }),
    window: z.strictObject({ start: moment("window.start"), end: moment("window.end") }, { message: "window is { start, end }" }),
    waveSize: numeric(z.number({ message: "waveSize is a number of environments" }).int("waveSize is a whole number").min(1, "waveSize is at least 1").max(MAX_WAVE_SIZE, `waveSize is at most ${MAX_WAVE_SIZE}`)),
    /** Failures a wave may have before the campaign stops: a count, or a percentage of the wave. */
    failureThreshold: z.union(
      [
        z.strictObject({ count: numeric(z.number().int("count is a whole number").min(0, "count is 0 or more").max(MAX_WAVE_SIZE, `count is at most ${MAX_WAVE_SIZE}`)) }),
        z.strictObject({ percent: numeric(z.number().int("percent is a whole number").min(0, "percent is 0 to 100").max(100, "percent is 0 to 100")) }),
      ],
      { message: "failureThreshold is { count: N } or { percent: P }" },
    ),
    healthCheck: z.enum(healthChecks, { message: "healthCheck is ready-line (the guest's ready line)" }).default("ready-line"),
    /** How many days an owner may postpone their environment (once, never past its lease end; 0: not at all). */
    postponeMaxDays: numeric(z.number().int("postponeMaxDays is a whole number").min(0, "postponeMaxDays is 0 or more").max(MAX_POSTPONE_DAYS, `postponeMaxDays is at most ${MAX_POSTPONE_DAYS}`)).default(DEFAULT_POSTPONE_DAYS),
  })
  .superRefine((v, ctx) => {
    const t = v.targets;
    const ways = [t.group !== undefined && !t.outdated, t.environments !== undefined, t.outdated === true].filter(Boolean).length;
    if (ways !== 1 || (t.environments && (t.group !== undefined || t.outdated))) {
      ctx.addIssue({ code: "custom", path: ["targets"], message: "Choose one: a group, a list of environments, or every outdated environment (of a group)" });
    }
    if (t.environments && new Set(t.environments).size !== t.environments.length) {
      ctx.addIssue({ code: "custom", path: ["targets", "environments"], message: "Name each environment once" });
    }
    if (v.window.end.getTime() <= v.window.start.getTime()) {
      ctx.addIssue({ code: "custom", path: ["window", "end"], message: "The window must end after it starts" });
    }
  });

export type CampaignInput = z.infer<typeof campaignInput>;

/** `POST /api/v1/campaigns/:id/postpone`: the owner's environment, by `days` (the campaign's most when left out). */
export const postponeInput = z.strictObject({
  environment: z.string({ message: "environment is the environment's id" }).uuid("environment is the environment's id"),
  days: numeric(z.number().int("days is a whole number").min(1, "days is at least 1").max(MAX_POSTPONE_DAYS, `days is at most ${MAX_POSTPONE_DAYS}`)).optional(),
});
export type PostponeInput = z.infer<typeof postponeInput>;
