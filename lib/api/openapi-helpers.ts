/**
 * Building blocks for the OpenAPI document. Each area of the API describes its routes in its
 * own part under lib/api/openapi-parts/ and lists it in that folder's index.ts.
 */
import { z } from "zod";

export type OpenApiPart = { paths: Record<string, object>; schemas?: Record<string, object> };

export const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const body = (name: string) => ({ required: true, content: { "application/json": { schema: ref(name) } } });
export const ok = (description: string, s?: object) => ({ description, ...(s ? { content: { "application/json": { schema: s } } } : {}) });
export const errors = {
  "401": { $ref: "#/components/responses/Unauthorized" },
  "403": ok("Not allowed for this user or role", ref("Error")),
  "404": ok("No such order, or not yours", ref("Error")),
  "409": ok("Not possible in the order's current state", ref("Error")),
  "422": ok("Invalid input, with a message per field", ref("Error")),
};
export const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }];

export function action(summary: string, requestBody?: object) {
  return {
    post: {
      summary,
      parameters: idParam,
      ...(requestBody ? { requestBody } : {}),
      responses: { "200": ok("New state", { type: "object", properties: { id: { type: "string" }, status: { type: "string" } } }), ...errors },
    },
  };
}

