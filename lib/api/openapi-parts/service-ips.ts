import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, invalid, invalidPage, listPageOk, listPageParams, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";
import { networkRouteInput, serviceIpAttachInput, serviceIpInput } from "../../net/service-ip-input";

const environmentRef = {
  type: ["object", "null"],
  required: ["id", "name"],
  properties: { id: { type: "string", format: "uuid" }, name: { type: "string", description: "The environment's name (its order's name)" } },
};

const move = {
  type: "object",
  required: ["id", "kind", "status", "from", "to", "createdAt", "downtimeMs"],
  properties: {
    id: { type: "string", format: "uuid" },
    kind: { enum: ["attach", "detach", "move"], description: "move: from one environment to another in one step" },
    status: { enum: ["queued", "running", "succeeded", "failed"] },
    from: environmentRef,
    to: environmentRef,
    createdAt: { type: "string", format: "date-time" },
    startedAt: { type: ["string", "null"], format: "date-time" },
    finishedAt: { type: ["string", "null"], format: "date-time" },
    downtimeMs: {
      type: ["integer", "null"],
      description: "A move's downtime as the host saw it: the longest time the address did not answer a ping every 20 ms from the host's side of the network (QEMU hosts); null where it was not measured",
    },
    totalMs: { type: ["integer", "null"] },
    note: { type: ["string", "null"], description: "How the downtime was measured, or why it was not" },
    error: { type: ["string", "null"], description: "Why a failed change failed" },
  },
};

const serviceIp = {
  type: "object",
  required: ["id", "name", "ip", "mac", "network", "group", "environment", "attachedAt", "pending", "lastMove", "createdAt"],
  properties: {
    id: { type: "string", format: "uuid" },
    name: { type: "string" },
    ip: { type: "string", format: "ipv4" },
    mac: { type: "string", description: "The MAC rule's address for the IP, reserved with it; the address rides on the guest's NIC of its network" },
    network: { type: "object", required: ["id", "slug", "name", "cidr"], properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, cidr: { type: "string" } } },
    group: { type: "object", required: ["id", "slug", "name"], properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" } } },
    environment: {
      type: ["object", "null"],
      description: "Where it answers now; null when it points nowhere",
      required: ["id", "name", "orderId", "state"],
      properties: { id: { type: "string", format: "uuid" }, name: { type: "string" }, orderId: { type: "string", format: "uuid" }, state: { type: "string" } },
    },
    attachedAt: { type: ["string", "null"], format: "date-time" },
    pending: { oneOf: [{ type: "null" }, ref("ServiceIpMove")], description: "A change that is queued or running" },
    lastMove: { oneOf: [{ type: "null" }, ref("ServiceIpMove")] },
    moves: { type: "array", items: ref("ServiceIpMove"), description: "GET of one service IP: its last 20 changes, newest first" },
    createdAt: { type: "string", format: "date-time" },
  },
};

const queuedChange = {
  allOf: [
    ref("ServiceIp"),
    {
      type: "object",
      required: ["moveId", "actionId"],
      properties: {
        moveId: { type: ["string", "null"], format: "uuid", description: "The change queued (null when nothing was to change)" },
        actionId: { type: ["string", "null"], format: "uuid", description: "The lifecycle action that runs it on the environment (null when nothing runs)" },
      },
    },
  ],
};

const idParam = uuidParam("id", "The service IP's id");
const who = "only customers and approvers of the owning group, or an admin, can change it";

/** Service IPs (reserved per group, pointed at an environment, moved in one step) and the routes between networks. */
export const serviceIpsPart: OpenApiPart = {
  paths: {
    "/api/v1/service-ips": {
      get: {
        operationId: "listServiceIps",
        summary: "Service IPs you may see (admins: all; others: those of their groups), by name, with where each points; `network` narrows to one network",
        parameters: [...listPageParams("Service IPs"), { name: "network", in: "query", description: "A network's slug or id", schema: { type: "string" } }],
        responses: {
          "200": listPageOk("Service IPs by name, one page", "serviceIps", ref("ServiceIp")),
          ...unauthorized,
          ...invalid("limit not a whole number from 1 to 500, a cursor that is not one from this list, or no such network"),
        },
      },
      post: {
        operationId: "reserveServiceIp",
        summary:
          "Reserve the lowest free address of a network for a group (the caller's first pool unless `group` names one): it points nowhere until attached. Audited",
        requestBody: body("NewServiceIp"),
        responses: {
          "201": ok("Reserved", ref("ServiceIp")),
          ...unauthorized,
          ...forbidden("students, and members who may only look, cannot reserve", CROSS_SITE),
          ...conflict("The group already has a service IP of that name, or the network has no free address left"),
          ...bodyRejected("Invalid: a name with other characters, an unknown field, a character that cannot be stored, no such network, a network the group may not use, or a group you are not in; a message per field"),
        },
      },
    },
    "/api/v1/service-ips/{id}": {
      get: {
        operationId: "getServiceIp",
        summary: "One service IP: where it points and its last 20 changes, each move with the downtime the host saw",
        parameters: [idParam],
        responses: { "200": ok("The service IP", ref("ServiceIp")), ...unauthorized, ...notFound("No such service IP, or not one of your groups'") },
      },
      delete: {
        operationId: "releaseServiceIp",
        summary: "Release a service IP: its address goes back to the network. Refused while it is attached (detach it first) or being changed. Audited",
        parameters: [idParam],
        responses: {
          "200": ok("Released", { type: "object", required: ["id", "released"], properties: { id: { type: "string", format: "uuid" }, released: { const: true } } }),
          ...unauthorized,
          ...forbidden(who, CROSS_SITE),
          ...notFound("No such service IP, or not one of your groups'"),
          ...conflict("It is attached to an environment (the message names it: detach it first), or a change of it is queued or running"),
        },
      },
    },
    "/api/v1/service-ips/{id}/attach": {
      post: {
        operationId: "attachServiceIp",
        summary:
          "Point the service IP at a running environment of its group that has an address on its network: 202, queued as a lifecycle action of that environment. " +
          "When it points at another environment this moves it in one step (off the old guest, onto the new one, announced by gratuitous ARP) and records the move with its downtime; " +
          "200 when it points there already. Audited",
        parameters: [idParam],
        requestBody: body("ServiceIpAttach"),
        responses: {
          "200": ok("It points there already; nothing queued", queuedChange),
          "202": ok("Queued; follow it with GET /api/v1/service-ips/{id} (pending, lastMove)", queuedChange),
          ...unauthorized,
          ...forbidden(who, "the environment belongs to another group", CROSS_SITE),
          ...notFound("No such service IP, or no such environment that you may use (the message says which)"),
          ...conflict("The environment is not running (start it first) or not delivered, another action of it or another change of the service IP is in progress, or its hypervisor cannot carry service IPs"),
          ...bodyRejected("Invalid: no environment named, an unknown field, or an environment with no address on the service IP's network; a message per field"),
        },
      },
    },
    "/api/v1/service-ips/{id}/detach": {
      post: {
        operationId: "detachServiceIp",
        summary:
          "Take the service IP off the environment it points at (running or stopped): 202, queued. 200 when that environment is being retired: it lets go at once. Audited",
        parameters: [idParam],
        responses: {
          "200": ok("Done at once (the environment is no longer delivered)", queuedChange),
          "202": ok("Queued; follow it with GET /api/v1/service-ips/{id}", queuedChange),
          ...unauthorized,
          ...forbidden(who, CROSS_SITE),
          ...notFound("No such service IP, or not one of your groups'"),
          ...conflict("It points at no environment, another change of it is in progress, or its environment is busy with another action"),
        },
      },
    },
    "/api/v1/networks/{id}/routes": {
      get: {
        operationId: "listNetworkRoutes",
        summary: "The networks this one is routed with (admins). Every other pair of networks is kept apart on the hosts",
        parameters: [uuidParam("id", "The network's id")],
        responses: {
          "200": ok("Its routed pairs", { type: "object", required: ["routes"], properties: { routes: { type: "array", items: ref("NetworkRoute") } } }),
          ...unauthorized,
          ...forbidden("admins only"),
          ...notFound("No such network"),
        },
      },
      post: {
        operationId: "routeNetworks",
        summary:
          "Mark this network and `network` as routed (admins): guests of one may reach guests of the other through the host. Applied to running hosts at once by a maintenance job, guests untouched. Audited",
        parameters: [uuidParam("id", "The network's id")],
        requestBody: body("NetworkRouteInput"),
        responses: {
          "200": ok("They were routed already", ref("NetworkRouteChange")),
          "201": ok("Routed", ref("NetworkRouteChange")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...notFound("No such network"),
          ...bodyRejected("Invalid: no other network named, no such network, the same network, or an unknown field; a message per field"),
        },
      },
    },
    "/api/v1/networks/{id}/routes/{other}": {
      delete: {
        operationId: "separateNetworks",
        summary: "Keep this network and `other` apart again (admins); applied to running hosts at once. Audited",
        parameters: [uuidParam("id", "The network's id"), { name: "other", in: "path", required: true, description: "The other network's slug or id", schema: { type: "string" } }],
        responses: {
          "200": ok("Separated", { type: "object", required: ["removed", "networks"], properties: { removed: { const: true }, networks: { type: "array", items: { type: "string" } } } }),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...notFound("No such network, or the two were not routed"),
          ...invalid("No network `other`, or the same network"),
        },
      },
    },
  },
  schemas: {
    ServiceIp: serviceIp,
    ServiceIpMove: move,
    NewServiceIp: schema(serviceIpInput),
    ServiceIpAttach: schema(serviceIpAttachInput),
    NetworkRouteInput: schema(networkRouteInput),
    NetworkRoute: {
      type: "object",
      required: ["id", "networks", "createdAt"],
      properties: {
        id: { type: "string", format: "uuid" },
        networks: { type: "array", minItems: 2, maxItems: 2, items: { type: "object", required: ["id", "slug", "name"], properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" } } } },
        createdAt: { type: "string", format: "date-time" },
      },
    },
    NetworkRouteChange: {
      type: "object",
      required: ["created", "route"],
      properties: {
        created: { type: "boolean" },
        route: { type: "object", required: ["networks"], properties: { id: { type: "string", format: "uuid" }, networks: { type: "array", items: { type: "string" } } } },
      },
    },
  },
};
