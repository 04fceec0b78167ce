import { body, errors, idParam, ok, ref, schema, type OpenApiPart } from "../openapi-helpers";
import { networkUpdateInput } from "../../net/input";

/** Changing a network: widen its block, change its gateway, bridge or name. */
export const networksPart: OpenApiPart = {
  paths: {
    "/api/v1/networks/{id}": {
      patch: {
        summary:
          "Change a network (admins): a new block (to widen it), gateway, bridge or name, checked like a new network's. " +
          "Addresses and MACs already handed out stay; a new gateway or bridge applies to environments built from then on. Audited",
        parameters: idParam,
        requestBody: body("NetworkUpdate"),
        responses: {
          "200": ok("The network", ref("NetworkRow")),
          ...errors,
          "404": ok("No such network", ref("Error")),
          "409": ok(
            "Refused, with the reason: an allocated address would no longer be usable (outside the block, or its gateway, network or broadcast address; " +
              "the addresses are named), the block overlaps another network, or its guests would get another network's MACs",
            ref("Error"),
          ),
        },
      },
    },
  },
  schemas: {
    NetworkUpdate: schema(networkUpdateInput),
    NetworkRow: {
      type: "object",
      properties: {
        id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, purpose: { enum: ["service", "production"] },
        cidr: { type: "string" }, gateway: { type: "string" }, bridge: { type: "string" }, macPrefix: { type: "string" },
      },
    },
  },
};
