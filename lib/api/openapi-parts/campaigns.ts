import { campaignStatuses, campaignTargetStatuses } from "../../db/schema";
import { campaignInput, postponeInput } from "../../campaigns/input";
import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";

const campaignId = [uuidParam("id", "The campaign's id")];
const managers = forbidden("only admins and the approvers of a group manage patch campaigns", CROSS_SITE);
const noCampaign = notFound("No such campaign, or not one of a group you approve for");
const dateTime = { type: "string", format: "date-time" };
const maybeDateTime = { type: ["string", "null"], format: "date-time" };
const ms = { type: ["integer", "null"], description: "Milliseconds; null until it is over" };

/** Patch campaigns: environments of an image reinstalled to a new version in waves, backed up first, checked after, rolled back when they fail. */
export const campaignsPart: OpenApiPart = {
  paths: {
    "/api/v1/campaigns": {
      get: {
        operationId: "listCampaigns",
        summary: "The patch campaigns I manage (all for admins; my groups' for approvers), newest first, with how many environments are in each state",
        responses: {
          "200": ok("The campaigns", { type: "object", required: ["campaigns"], properties: { campaigns: { type: "array", items: ref("CampaignSummary") } } }),
          ...unauthorized,
          ...forbidden("only admins and the approvers of a group manage patch campaigns"),
        },
      },
      post: {
        operationId: "createCampaign",
        summary:
          "Start a patch campaign (admins; approvers for a group they approve for): the environments of an image (a group's, a list, or every outdated one) are reinstalled to a version " +
          "keeping their name, addresses, MACs and /data, waveSize at a time within the maintenance window, each backed up first and checked after (its ready line). " +
          "More failures in a wave than failureThreshold stop the campaign by itself. The owners are told now (in the portal and by e-mail) and may postpone once. Audited",
        requestBody: body("NewCampaign"),
        responses: {
          "201": ok("The campaign, scheduled (its first wave waits for the window's start)", ref("Campaign")),
          ...unauthorized,
          ...forbidden("only admins and the approvers of the group (of each environment named) can", CROSS_SITE),
          ...conflict("An environment named is already in a running campaign"),
          ...bodyRejected(
            "Invalid campaign, nothing created: waveSize not 1 to 100, a window that ends before it starts or has ended, an unknown image, version or group, " +
              "environments not delivered, not of the image or already on the version, no environment to update, or a character that cannot be stored; a message per field",
          ),
        },
      },
    },
    "/api/v1/campaigns/{id}": {
      get: {
        operationId: "getCampaign",
        summary: "A campaign: its waves, each environment's outcome (pending, backing up, reinstalling, checking, done, failed, rolled back, postponed) and timings",
        parameters: campaignId,
        responses: { "200": ok("The campaign", ref("Campaign")), ...unauthorized, ...forbidden("only admins and the approvers of a group manage patch campaigns"), ...noCampaign },
      },
    },
    "/api/v1/campaigns/{id}/events": {
      get: {
        operationId: "followCampaign",
        summary: "Server-sent events: `event: snapshot` with the campaign (as GET /api/v1/campaigns/{id}) now and whenever it changes",
        parameters: campaignId,
        responses: {
          "200": { description: "An event stream (text/event-stream)", content: { "text/event-stream": { schema: { type: "string" } } } },
          ...unauthorized,
          ...forbidden("only admins and the approvers of a group manage patch campaigns"),
          ...noCampaign,
        },
      },
    },
    "/api/v1/campaigns/{id}/pause": {
      post: {
        operationId: "pauseCampaign",
        summary: "Pause: no new wave starts; what runs now finishes and is recorded. Pausing a paused campaign changes nothing. Audited",
        parameters: campaignId,
        responses: { "200": ok("The campaign, paused", ref("Campaign")), ...unauthorized, ...managers, ...noCampaign, ...conflict("Only a scheduled or running campaign can be paused") },
      },
    },
    "/api/v1/campaigns/{id}/resume": {
      post: {
        operationId: "resumeCampaign",
        summary: "Resume a paused campaign: running (or scheduled again before its window). Audited",
        parameters: campaignId,
        responses: { "200": ok("The campaign", ref("Campaign")), ...unauthorized, ...managers, ...noCampaign, ...conflict("Only a paused campaign can be resumed") },
      },
    },
    "/api/v1/campaigns/{id}/rollback": {
      post: {
        operationId: "rollbackCampaign",
        summary:
          "Roll the failed environments back: each is rebuilt from the version it was on, with the backup taken before its update put back before it boots (name, addresses and MACs stay). " +
          "For a campaign that stopped (or is paused). Audited",
        parameters: campaignId,
        responses: {
          "202": ok("The campaign, with what each rollback does (rolling_back, or why not)", {
            allOf: [
              ref("Campaign"),
              {
                type: "object",
                properties: {
                  rollbacks: {
                    type: "array",
                    items: { type: "object", properties: { environment: { type: "string", format: "uuid" }, status: { enum: ["rolling_back", "failed"] }, version: { type: "integer" }, error: { type: "string" } } },
                  },
                },
              },
            ],
          }),
          ...unauthorized,
          ...managers,
          ...noCampaign,
          ...conflict("The campaign is running or scheduled, or no failed environment can be rolled back (each needs its backup)"),
        },
      },
    },
    "/api/v1/campaigns/{id}/postpone": {
      post: {
        operationId: "postponeInCampaign",
        summary:
          "The owner (or an admin) postpones their environment's update: once, by at most the campaign's postponeMaxDays (counted from the window's start, or from now once it is open), " +
          "never past the environment's lease end. It runs in a later wave, or past the window's end not in this campaign. Audited",
        parameters: campaignId,
        requestBody: body("CampaignPostpone"),
        responses: {
          "200": ok("Postponed", {
            type: "object",
            required: ["campaign", "environment", "status", "postponedUntil", "outOfWindow"],
            properties: {
              campaign: { type: "string", format: "uuid" }, environment: { type: "string", format: "uuid" }, status: { enum: ["postponed"] },
              postponedUntil: dateTime, outOfWindow: { type: "boolean", description: "Past the window's end: this campaign will not update it" },
            },
          }),
          ...unauthorized,
          ...forbidden(CROSS_SITE),
          ...notFound("No such campaign, or the environment is not yours or not in it"),
          ...conflict("Postponed once already, its update has started, the campaign is over, or the campaign allows no postponing"),
          ...bodyRejected("days beyond the campaign's limit, or past the environment's lease end (the message says how many days are possible); a message per field"),
        },
      },
    },
  },
  schemas: {
    NewCampaign: schema(campaignInput),
    CampaignPostpone: schema(postponeInput),
    CampaignSummary: {
      type: "object",
      required: ["id", "name", "status", "window", "waveSize"],
      properties: {
        id: { type: "string", format: "uuid" },
        name: { type: "string" },
        status: { enum: [...campaignStatuses] },
        reason: { type: ["string", "null"], description: "Why it stopped, paused or finished, in words" },
        window: { type: "object", properties: { start: dateTime, end: dateTime } },
        waveSize: { type: "integer" },
        failureThreshold: { oneOf: [{ type: "object", properties: { count: { type: "integer" } } }, { type: "object", properties: { percent: { type: "integer" } } }] },
        healthCheck: { type: "string" },
        postponeMaxDays: { type: "integer" },
        wave: { type: "integer", description: "The wave started last (0: none yet)" },
        createdAt: dateTime,
        startedAt: maybeDateTime,
        finishedAt: maybeDateTime,
        image: { type: "object", properties: { slug: { type: "string" }, name: { type: "string" } } },
        version: { description: "The target version (a number in the list, an object on a campaign)" },
        group: { type: ["string", "null"] },
        environments: { type: "integer" },
        counts: { type: "object", description: "Environments per state", additionalProperties: { type: "integer" } },
      },
    },
    Campaign: {
      allOf: [
        ref("CampaignSummary"),
        {
          type: "object",
          properties: {
            version: { type: "object", properties: { number: { type: "integer" }, changelog: { type: "string" } } },
            createdBy: { type: "string", description: "Who started it (e-mail)" },
            waves: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  number: { type: "integer" }, environments: { type: "integer" }, done: { type: "integer" }, failed: { type: "integer" }, rolledBack: { type: "integer" },
                  startedAt: maybeDateTime, finishedAt: maybeDateTime, durationMs: ms,
                },
              },
            },
            targets: { type: "array", description: "The environments, in the order waves take them", items: ref("CampaignTarget") },
            canRollback: { type: "boolean", description: "Failed environments can be rolled back from their backups now" },
            final: { type: "boolean", description: "Stopped or completed with nothing under way: nothing changes by itself any more" },
          },
        },
      ],
    },
    CampaignTarget: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" },
        environmentId: { type: "string", format: "uuid" },
        orderId: { type: "string", format: "uuid" },
        name: { type: "string" }, hostname: { type: "string" }, owner: { type: "string" }, group: { type: "string" }, orderStatus: { type: "string" },
        wave: { type: ["integer", "null"], description: "The wave it ran in; null until its wave starts" },
        plannedWave: { type: ["integer", "null"], description: "The wave it would run in as things stand (pending ones)" },
        status: { enum: [...campaignTargetStatuses] },
        fromVersion: { type: ["integer", "null"], description: "The version it was on when its update started (a rollback goes back to it)" },
        imageVersion: { type: ["integer", "null"], description: "The version it is on now" },
        note: { type: ["string", "null"], description: "What it is doing now, or why it waits" },
        error: { type: ["string", "null"], description: "Why it failed" },
        postponedUntil: maybeDateTime,
        leaseEnd: dateTime,
        backupId: { type: ["string", "null"], format: "uuid" },
        runId: { type: ["string", "null"], format: "uuid" },
        rollbackRunId: { type: ["string", "null"], format: "uuid" },
        startedAt: maybeDateTime,
        finishedAt: maybeDateTime,
        rolledBackAt: maybeDateTime,
        timings: { type: "object", properties: { backupMs: ms, reinstallMs: ms, checkMs: ms, totalMs: ms, rollbackMs: ms } },
      },
    },
  },
};
