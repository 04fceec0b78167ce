import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, invalidPage, listPageOk, listPageParams, type OpenApiPart,
} from "../openapi-helpers";
import { hostRegistrationInput, hostUpdateInput } from "../../hosts/input";

const facts = {
  type: "object",
  properties: {
    vcpus: { type: "integer" }, memoryMb: { type: "integer" }, freeMemoryMb: { type: ["integer", "null"] },
    diskGb: { type: "integer" }, freeDiskGb: { type: ["integer", "null"] }, version: { type: ["string", "null"] },
    details: { type: "array", items: { type: "string" } },
  },
};

const hostId = [uuidParam("id", "The host's id")];
const adminsOnly = forbidden("admins only");
const adminsChange = forbidden("admins only", CROSS_SITE);
const noHost = notFound("No such host");

/** Hypervisor hosts: registration, SSH settings, Test connection (host key pinning, capacity), drain, removal. */
export const hostsPart: OpenApiPart = {
  paths: {
    "/api/v1/hosts": {
      get: {
        operationId: "listHosts",
        summary: "Hypervisor hosts by name with capacity, usage and SSH settings (admins, approvers), one page; never a private key",
        parameters: listPageParams("Hosts"),
        responses: {
          "200": listPageOk("Hosts by name, one page", "hosts", ref("Host")),
          ...unauthorized,
          ...forbidden("admins and approvers only"),
          ...invalidPage,
        },
      },
      post: {
        operationId: "registerHost",
        summary:
          "Register a host (admins). SSH hosts need sshUser and an unencrypted privateKey (OpenSSH or PEM), stored encrypted and never returned. " +
          "Optional config: the kind's driver settings (xen: volumeGroup, configDir, ...; zones: zonesDataset, zonesRoot, timezone, ...; qemu: workDir, imageStore, network user|bridge, storageDir, readyTimeoutMs, stopGraceMs, accel, ...), " +
          "checked with the driver's rules, unknown settings refused. " +
          "The host starts offline with no capacity: run Test connection, then set state active. 422 names each invalid field (config.<setting> for settings); 409 when the name is taken",
        requestBody: body("HostRegistration"),
        responses: {
          "201": ok("Registered", ref("Host")),
          ...unauthorized,
          ...adminsChange,
          ...conflict("A host with that name is already registered"),
          ...bodyRejected("Invalid host: a field missing or wrong, a private key that cannot be used, or driver settings the kind does not have or accept (config.<setting>); a message per field"),
        },
      },
    },
    "/api/v1/hosts/{id}": {
      get: { operationId: "getHost", summary: "One host (admins)", parameters: hostId, responses: { "200": ok("The host", ref("Host")), ...unauthorized, ...adminsOnly, ...noHost } },
      patch: {
        operationId: "updateHost",
        summary:
          "Change a host (admins): state (draining = no new placements; active needs a pinned host key and known capacity), port, sshUser, " +
          "a new privateKey, hostKeyFingerprint (a checked new key, or null to pin at the next test), maxConcurrency, ownerWorker (the worker that alone runs the host's work, null for any), config (merged: keys given replace, null removes); on sim hosts failSteps; " +
          "capacity { vcpus, memoryMb, diskGb } set by hand and kept over Test connection (null hands one back to discovery), 409 below what the host's environments use",
        parameters: hostId,
        requestBody: body("HostUpdate"),
        responses: {
          "200": ok("The host", ref("Host")),
          ...unauthorized,
          ...adminsChange,
          ...noHost,
          ...conflict("state active asked before Test connection pinned the host key and found the capacity, or a capacity figure below what the host's environments use (a message per capacity field)"),
          ...bodyRejected("Invalid change: a field of the wrong type, an unknown field, a private key that cannot be used, SSH settings or failSteps on a sim host, or driver settings the kind does not accept; a message per field"),
        },
      },
      delete: {
        operationId: "removeHost",
        summary: "Remove a host (admins); 409 while environments live on it. A host with past environments is kept as history, its key wiped",
        parameters: hostId,
        responses: {
          "200": ok("Removed", { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, removed: { enum: ["deleted", "retired"] } } }),
          ...unauthorized,
          ...adminsChange,
          ...noHost,
          ...conflict("Environments still live on the host: drain it and wait until they are retired or moved"),
        },
      },
    },
    "/api/v1/hosts/{id}/test": {
      post: {
        operationId: "testHostConnection",
        summary:
          "Test connection (admins): connect over SSH, pin the host key on the first contact (a changed key is refused), discover capacity " +
          "(xen: xl info, vgs, lvs; zones: zoneadm list -cv, zfs list, psrinfo, prtconf; qemu: qemu-system-x86_64 --version, nproc, /proc/meminfo, df) and store it. " +
          "200 with ok false and the reason when the host cannot be reached or refuses",
        parameters: hostId,
        responses: {
          "200": ok("What the test found", ref("HostTestResult")),
          ...unauthorized,
          ...adminsChange,
          ...noHost,
          ...conflict("Sim hosts have no connection to test, or the portal has no driver for the host's kind"),
        },
      },
    },
  },
  schemas: {
    HostRegistration: schema(hostRegistrationInput),
    HostUpdate: schema(hostUpdateInput),
    HostFacts: facts,
    HostCheck: {
      type: ["object", "null"],
      properties: {
        ok: { type: "boolean" }, at: { type: "string", format: "date-time" }, durationMs: { type: "integer" }, error: { type: ["string", "null"] },
        presentedHostKey: { type: ["string", "null"] }, facts: { oneOf: [ref("HostFacts"), { type: "null" }] },
      },
    },
    Host: {
      type: "object",
      properties: {
        id: { type: "string" }, name: { type: "string" }, kind: { enum: ["sim", "qemu", "xen", "zones"] }, address: { type: "string" },
        state: { enum: ["active", "draining", "offline"] }, features: { type: "array", items: { type: "string" } },
        capacity: { type: "object", properties: { vcpus: { type: "integer" }, memoryMb: { type: "integer" }, diskGb: { type: "integer" } } },
        capacityOverride: { type: "object", description: "The capacity figures an admin set by hand ({} when none)" },
        used: { type: "object", description: "In the list only" },
        connection: {
          type: ["object", "null"],
          properties: {
            local: { type: "boolean" }, port: { type: "integer" }, sshUser: { type: ["string", "null"] },
            sshPublicKey: { type: ["string", "null"], description: "Public half of the stored key, for authorized_keys on the host" },
            hostKeyFingerprint: { type: ["string", "null"] }, maxConcurrency: { type: "integer" },
          },
        },
        settings: { type: ["object", "null"], description: "Driver settings; a root password hash shows as \"(set)\"", additionalProperties: true },
        lastCheck: ref("HostCheck"),
        ownerWorker: { type: ["string", "null"], description: "The worker (WORKER_ID) that alone runs this host's work; null: any worker" },
      },
    },
    HostTestResult: {
      type: "object",
      properties: {
        ok: { type: "boolean" }, error: { type: ["string", "null"] },
        hostKey: { type: ["object", "null"], properties: { fingerprint: { type: ["string", "null"] }, pinnedNow: { type: "boolean" } } },
        host: ref("Host"), check: ref("HostCheck"),
      },
    },
  },
};
