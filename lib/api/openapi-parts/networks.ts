import {
  body, bodyRejected, conflict, CROSS_SITE, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";
import { networkUpdateInput } from "../../net/input";

/** Changing a network: widen its block, change its gateway, bridge or name. */
export const networksPart: OpenApiPart = {
  paths: {
    "/api/v1/networks/{id}": {
      patch: {
        operationId: "updateNetwork",
        summary:
          "Change a network (admins): a new block (to widen it), gateway, bridge or name, checked like a new network's. " +
          "Addresses and MACs already handed out stay; a new gateway or bridge applies to environments built from then on. Audited",
        parameters: [uuidParam("id", "The network's id")],
        requestBody: body("NetworkUpdate"),
        responses: {
          "200": ok("The network as it is now", ref("NetworkCreated")),
          ...unauthorized,
          ...forbidden("admins only", CROSS_SITE),
          ...notFound("No such network"),
          ...conflict(
            "Refused, with the reason: an allocated address would no longer be usable (outside the block, or its gateway, network or broadcast address; " +
              "the addresses are named), the block overlaps another network, or its guests would get another network's MACs",
          ),
          ...bodyRejected("Invalid change: nothing to change, an unknown field, a block that is not a network address, a gateway outside the block, or a bridge name with other characters; a message per field"),
        },
      },
    },
  },
  schemas: { NetworkUpdate: schema(networkUpdateInput) },
};
