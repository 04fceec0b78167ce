import { body, errors, idParam, ok, ref, schema, type OpenApiPart } from "../openapi-helpers";
import { hostRegistrationInput, hostUpdateInput } from "../../hosts/input";

const facts = {
  type: "object",
  properties: {
    vcpus: { type: "integer" }, memoryMb: { type: "integer" }, freeMemoryMb: { type: ["integer", "null"] },
    diskGb: { type: "integer" }, freeDiskGb: { type: ["integer", "null"] }, version: { type: ["string", "null"] },
    details: { type: "array", items: { type: "string" } },
  },
};

/** Hypervisor hosts: registration, SSH settings, Test connection (host key pinning, capacity), drain, removal. */
export const hostsPart: OpenApiPart = {
  paths: {
    "/api/v1/hosts": {
      get: {
        summary: "Hypervisor hosts with capacity, usage and SSH settings (admins, approvers); never a private key",
        responses: { "200": ok("Hosts", { type: "object", properties: { hosts: { type: "array", items: ref("Host") } } }), ...errors },
      },
      post: {
        summary:
          "Register a host (admins). SSH hosts need sshUser and an unencrypted privateKey (OpenSSH or PEM), stored encrypted and never returned. " +
          "Optional config: the kind's driver settings (xen: volumeGroup, configDir, ...; zones: zonesDataset, zonesRoot, timezone, ...; qemu: workDir, imageStore, network user|bridge, storageDir, readyTimeoutMs, stopGraceMs, accel, ...), " +
          "checked with the driver's rules, unknown settings refused. " +
          "The host starts offline with no capacity: run Test connection, then set state active. 422 names each invalid field (config.<setting> for settings); 409 when the name is taken",
        requestBody: body("HostRegistration"),
        responses: { "201": ok("Registered", ref("Host")), ...errors, "409": ok("Name taken", ref("Error")) },
      },
    },
    "/api/v1/hosts/{id}": {
      get: { summary: "One host (admins)", parameters: idParam, responses: { "200": ok("The host", ref("Host")), ...errors } },
      patch: {
        summary:
          "Change a host (admins): state (draining = no new placements; active needs a pinned host key and known capacity), port, sshUser, " +
          "a new privateKey, hostKeyFingerprint (a checked new key, or null to pin at the next test), maxConcurrency, config (merged: keys given replace, null removes); on sim hosts failSteps",
        parameters: idParam,
        requestBody: body("HostUpdate"),
        responses: { "200": ok("The host", ref("Host")), ...errors },
      },
      delete: {
        summary: "Remove a host (admins); 409 while environments live on it. A host with past environments is kept as history, its key wiped",
        parameters: idParam,
        responses: {
          "200": ok("Removed", { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, removed: { enum: ["deleted", "retired"] } } }),
          ...errors,
          "409": ok("Environments still live on the host", ref("Error")),
        },
      },
    },
    "/api/v1/hosts/{id}/test": {
      post: {
        summary:
          "Test connection (admins): connect over SSH, pin the host key on the first contact (a changed key is refused), discover capacity " +
          "(xen: xl info, vgs, lvs; zones: zoneadm list -cv, zfs list, psrinfo, prtconf; qemu: qemu-system-x86_64 --version, nproc, /proc/meminfo, df) and store it. " +
          "200 with ok false and the reason when the host cannot be reached or refuses",
        parameters: idParam,
        responses: { "200": ok("What the test found", ref("HostTestResult")), ...errors, "409": ok("Sim hosts have no connection", ref("Error")) },
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
