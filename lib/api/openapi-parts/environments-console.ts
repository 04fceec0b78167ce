import { consoleInput } from "../../console/input";
import { body, bodyRejected, CROSS_SITE, fail, forbidden, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart } from "../openapi-helpers";

const environmentId = [uuidParam("id", "The environment's id (the order's `environment.id`)")];
const ownerOnly = "only the customer who ordered it or an admin can use its console";

/** The guest's interactive console (the order page's Console tab). */
export const environmentsConsolePart: OpenApiPart = {
  paths: {
    "/api/v1/environments/{id}/console": {
      get: {
        operationId: "streamConsole",
        summary:
          "Watch the guest's console (server-sent events): a login shell on its serial console (QEMU: its second serial port; Xen: `xl console`; zones: `zlogin -C`; sim: a simulated shell). Everyone watching sees the same session. Opening and closing are audited (console.open, console.close)",
        parameters: environmentId,
        responses: {
          "200": {
            description:
              "An event stream: `retry: 2000`; `event: output` messages whose data is `{ \"data\": \"...\" }`, text for a terminal (with its control sequences), the recent output first; `event: status` messages whose data is `{ \"state\": \"connected\" | \"closed\" | \"unavailable\", \"message\": \"...\" }`; keep-alive comments. The console is opened on the guest's host when the first viewer comes and closed a while after the last one leaves",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          ...unauthorized,
          ...forbidden(ownerOnly),
          ...notFound("No such environment, or not one you may see"),
        },
      },
      post: {
        operationId: "typeIntoConsole",
        summary: "Type into the guest's console: `data` is sent as keystrokes (Enter is `\\r`), at most 4096 characters a request; the answer appears on the stream. Keystrokes are not recorded",
        parameters: environmentId,
        requestBody: body("ConsoleInput"),
        responses: {
          "202": ok("Passed on to the console", { type: "object", required: ["accepted"], properties: { accepted: { type: "integer", description: "Characters sent" } } }),
          ...unauthorized,
          ...forbidden(ownerOnly, CROSS_SITE),
          ...notFound("No such environment, or not one you may see"),
          ...bodyRejected("No data, more than 4096 characters, or an unknown field"),
          "429": fail("Too many keystroke requests in a short time; wait a moment"),
        },
      },
    },
  },
  schemas: {
    ConsoleInput: schema(consoleInput),
  },
};
