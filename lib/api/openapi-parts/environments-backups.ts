import { backupPolicyInput, groupBackupRulesInput, restoreInput } from "../../backups/input";
import { body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const environmentParam = uuidParam("id", "The environment's id (the order's `environment.id`)");
const status = { enum: ["queued", "running", "succeeded", "failed"] };

/** Backups of a delivered environment and in-place restores (owner or admin). */
export const environmentsBackupsPart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/backups": {
      get: {
        operationId: "listBackups",
        summary: "The environment's backups, newest first: status, compressed size, sha256 of the file in the backup store, and whether it was verified; and the backup, restore or verification in progress with its progress.",
        parameters: [environmentParam],
        responses: {
          "200": ok("The backups", {
            type: "object",
            required: ["items", "inProgress"],
            properties: {
              items: { type: "array", items: ref("Backup") },
              inProgress: {
                type: ["object", "null"],
                description: "The backup, restore or verification queued or running now",
                properties: {
                  id: { type: "string", format: "uuid" },
                  action: { enum: ["backup", "restore", "verify"] },
                  status: { enum: ["queued", "running"] },
                  progress: { type: "integer", minimum: 0, maximum: 100 },
                  note: { type: ["string", "null"] },
                },
              },
            },
          }),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin"),
          ...notFound("No such environment"),
        },
      },
      post: {
        operationId: "createBackup",
        summary:
          "Back the environment up now: a compressed, checksummed copy of its disk and its definition (image, flavor, addresses, MACs) in the backup store, taken live where the host kind can (QEMU: a QMP block job; Xen: an LVM snapshot, then a compressed copy; zones: `zfs snapshot` + `zfs send`), streamed back to the store and checked against the host's sha256. Progress shows on the order like any action.",
        parameters: [environmentParam],
        responses: {
          "202": ok("Accepted: the backup is queued", ref("BackupAction")),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin", CROSS_SITE),
          ...notFound("No such environment"),
          ...conflict("Not possible now: the environment is not delivered yet, is neither running nor stopped, another action (e.g. a backup) is queued or running: the message names it, or the group's backup quota is used up"),
        },
      },
    },
    "/api/v1/environments/{id}/backups/{bid}/verify": {
      post: {
        operationId: "verifyBackup",
        summary:
          "Prove a backup now (every backup is also proven right after it is taken): its file is checked against its checksum, booted in a throwaway guest on a network of its own (no production addresses, nothing reachable), which must show the marker the backup wrote into the guest; then the throwaway guest is removed. The list then says verified, or why not.",
        parameters: [environmentParam, uuidParam("bid", "The backup's id")],
        responses: {
          "202": ok("Accepted: the verification is queued", ref("VerifyAction")),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin", CROSS_SITE),
          ...notFound("No such environment, or no such backup of it"),
          ...conflict("Not possible: the backup is not complete or is damaged, or another action is queued or running"),
        },
      },
    },
    "/api/v1/environments/{id}/backup-policy": {
      get: {
        operationId: "getBackupPolicy",
        summary: "The environment's backup policy (schedule, keepLast, when it fires next), or null when it has none.",
        parameters: [environmentParam],
        responses: {
          "200": ok("The policy", ref("BackupPolicyAnswer")),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin"),
          ...notFound("No such environment"),
        },
      },
      put: {
        operationId: "setBackupPolicy",
        summary:
          "Back the environment up on a schedule: \"daily\" (03:00 UTC), \"weekly\" (Mondays 03:00 UTC) or a cron pattern (UTC), keeping the last `keepLast` backups: after each backup the older ones are pruned (files removed). Replaces the policy it had.",
        parameters: [environmentParam],
        requestBody: body("BackupPolicyInput"),
        responses: {
          "200": ok("The policy as set", ref("BackupPolicyAnswer")),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin", CROSS_SITE),
          ...notFound("No such environment"),
          ...bodyRejected("A schedule that is not daily, weekly or a readable cron pattern, keepLast not between 1 and 100, or an unknown field"),
        },
      },
    },
    "/api/v1/groups/{id}/backup-rules": {
      put: {
        operationId: "setGroupBackupRules",
        summary:
          "Set a group's backup rules (admins): how many backups its environments may keep together (maxBackups) and how many GB of compressed backups (maxGb), null is no limit: a backup that would pass it is refused with 409 naming the group; and `requirePolicy` (schedule, keepLast): every delivered environment of the group without a backup policy gets this one (by the reconcile sweep). Answers with the rules and what the group's backups use now.",
        parameters: [uuidParam("id", "The group's id")],
        requestBody: body("GroupBackupRulesInput"),
        responses: {
          "200": ok("The quota and the use", {
            type: "object",
            required: ["maxBackups", "maxGb", "requirePolicy", "backups", "bytes"],
            properties: {
              maxBackups: { type: ["integer", "null"] },
              maxGb: { type: ["integer", "null"] },
              requirePolicy: { type: ["object", "null"], properties: { schedule: { type: "string" }, keepLast: { type: "integer" } } },
              backups: { type: "integer", description: "Backups kept or being written" },
              bytes: { type: "integer", description: "Their compressed size" },
            },
          }),
          ...unauthorized,
          ...forbidden("only admins", CROSS_SITE),
          ...notFound("No such group"),
          ...bodyRejected("A limit that is not a whole number of at least 1 (or null), or an unknown field"),
        },
      },
    },
    "/api/v1/environments/{id}/restore": {
      post: {
        operationId: "restoreEnvironment",
        summary:
          "Bring the environment back from one of its backups. In place: the guest stops, its disk is replaced by the backup's and it boots again with the same name, addresses and MACs. New (`name` required): a new order for the same image and size in the same group (quota and policy apply; it may wait for approval) with addresses of its own; once delivered, the backup's disk is put on it by a restore action. The backup's file is checked against its checksum first; a damaged backup is refused (and shown as damaged).",
        parameters: [environmentParam],
        requestBody: body("RestoreInput"),
        responses: {
          "202": ok("Accepted: the in-place restore is queued, or the new order placed", { oneOf: [ref("RestoreAction"), ref("RestoreAsNew")] }),
          ...unauthorized,
          ...forbidden("only the customer who ordered it or an admin", CROSS_SITE),
          ...notFound("No such environment, or no such backup of it"),
          ...conflict("Not possible: the backup is not complete or is damaged (its checksum no longer matches), another action is queued or running, or (new) the name is taken or the group's quota is used up"),
          ...bodyRejected("No backup id, a mode other than in-place or new, no name for a new environment (or one for in place), a name the order form refuses, or an unknown field"),
        },
      },
    },
  },
  schemas: {
    RestoreInput: schema(restoreInput),
    BackupPolicyInput: schema(backupPolicyInput),
    GroupBackupRulesInput: schema(groupBackupRulesInput),
    BackupPolicyAnswer: {
      type: "object",
      required: ["policy"],
      properties: {
        policy: {
          type: ["object", "null"],
          required: ["schedule", "pattern", "keepLast", "nextRunAt"],
          properties: {
            schedule: { type: "string", description: "daily, weekly or a cron pattern, as set" },
            pattern: { type: "string", description: "The cron pattern (UTC) the scheduler runs" },
            keepLast: { type: "integer", minimum: 1, maximum: 100 },
            nextRunAt: { type: ["string", "null"], format: "date-time", description: "When the scheduler fires next" },
          },
        },
      },
    },
    Backup: {
      type: "object",
      required: ["id", "status", "sizeBytes", "sha256", "createdAt", "finishedAt", "verifiedAt", "verified", "note"],
      properties: {
        id: { type: "string", format: "uuid" },
        status: { enum: ["queued", "running", "succeeded", "failed", "damaged"], description: "damaged: the file no longer matches its checksum; it is never restored" },
        sizeBytes: { type: ["integer", "null"], description: "Size of the compressed file" },
        sha256: { type: ["string", "null"], description: "Checksum of the compressed file as written" },
        createdAt: { type: "string", format: "date-time" },
        finishedAt: { type: ["string", "null"], format: "date-time" },
        verifiedAt: { type: ["string", "null"], format: "date-time", description: "When a copy of it was last booted in a throwaway guest and its marker read back" },
        verified: { type: "boolean", description: "verified: booted and read back at verifiedAt; otherwise `note` says why not" },
        note: { type: ["string", "null"], description: "Why it failed, is damaged, or is not verified" },
      },
    },
    BackupAction: {
      type: "object",
      required: ["id", "actionId", "status", "environmentId"],
      properties: {
        id: { type: "string", format: "uuid", description: "The backup's id" },
        actionId: { type: "string", format: "uuid", description: "The backup action (its progress shows on the order)" },
        status,
        environmentId: { type: "string", format: "uuid" },
      },
    },
    VerifyAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId", "backup"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["verify"] },
        status,
        environmentId: { type: "string", format: "uuid" },
        backup: { type: "string", format: "uuid" },
      },
    },
    RestoreAsNew: {
      type: "object",
      required: ["order", "backup", "mode"],
      properties: {
        order: {
          type: "object",
          description: "The new order (GET /api/v1/orders/{id} follows it)",
          properties: { id: { type: "string", format: "uuid" }, status: { type: "string" }, reason: { type: ["string", "null"] }, rule: { type: ["string", "null"] } },
        },
        backup: { type: "string", format: "uuid" },
        mode: { enum: ["new"] },
      },
    },
    RestoreAction: {
      type: "object",
      required: ["id", "action", "status", "environmentId", "backup", "mode"],
      properties: {
        id: { type: "string", format: "uuid" },
        action: { enum: ["restore"] },
        status,
        environmentId: { type: "string", format: "uuid" },
        backup: { type: "string", format: "uuid" },
        mode: { enum: ["in-place"] },
      },
    },
  },
};
